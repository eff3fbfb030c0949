import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { labDown, labUp, type LabInit, type LabState, type VmHosts } from '../../src/lab/lab.js';
import { labDir } from '../../src/lab/paths.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { sh } from '../../src/transport/shell.js';
import type { ExecResult, Transport } from '../../src/transport/types.js';

export interface LabSession {
  readonly lab: LabState;
  /** Run `cmd` with /bin/sh on a lab host through lvsrun's own transport (one connection per host, reused). */
  exec(host: string, cmd: string, stdin?: string): Promise<ExecResult>;
  /** Forget a host's connection (after its sshd was killed). */
  drop(host: string): void;
}

/**
 * A fresh lab (2 directors, 2 real servers, 1 client; `vm`: which hosts are QEMU guests; `init`: PID 1
 * of the namespace hosts, systemd unless given) for one test file, torn down after it.
 */
export function useLab(
  after?: (lab: LabState) => Promise<void> | void,
  opts: { vm?: VmHosts; directors?: number; init?: LabInit } = {},
): LabSession {
  const env = process.env;
  const conns = new Map<string, Transport>();
  let lab: LabState | undefined;
  beforeAll(
    async () => {
      await labDown(env);
      lab = await labUp(
        {
          directors: opts.directors ?? 2,
          realservers: 2,
          clients: 1,
          ...(opts.vm ? { vm: opts.vm } : {}),
          ...(opts.init ? { init: opts.init } : {}),
        },
        env,
      );
    },
    opts.vm ? 240000 : undefined,
  );
  afterAll(async () => {
    for (const t of conns.values()) await t.close();
    conns.clear();
    const l = lab!;
    await labDown(env);
    await after?.(l);
  });
  return {
    get lab() {
      return lab!;
    },
    async exec(host, cmd, stdin) {
      let t = conns.get(host);
      if (!t) {
        const h = lab!.hosts.find((x) => x.name === host)!;
        const dir = labDir(env);
        t = await SshTransport.connect({
          name: host,
          host: h.addr,
          port: 22,
          user: 'root',
          privateKeyFiles: [join(dir, 'id_ed25519')],
          knownHostsFiles: [join(dir, 'known_hosts')],
          acceptNewHostKeys: false,
          connectTimeoutMs: 5000,
          keepaliveIntervalMs: 15000,
        });
        conns.set(host, t);
      }
      return t.exec(sh`/bin/sh -c ${cmd}`, stdin !== undefined ? { stdin } : {});
    },
    drop(host) {
      void conns.get(host)?.close();
      conns.delete(host);
    },
  };
}
