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
  /**
   * How much slower than on an idle machine the lab answers now (1 = as fast, at most 20): measured
   * after lab up as the median of a few `stat` + `sysctl` round trips on a guest (or a namespace host).
   */
  readonly pace: number;
  /** A bound for something that takes up to `idleMs` on an idle machine, scaled by the measured pace. */
  bound(idleMs: number): number;
}

/** Median of `stat` + `sysctl` round trips on an idle 2-vCPU machine (docs/lab.md): guest, namespace host. */
const IDLE_PROBE_MS = { vm: 77, ns: 3 } as const;
/** Cap of a vitest test or hook in a lab file: the in-test bounds (scaled by the pace) fail first. */
export const LAB_CAP_MS = 900_000;

/**
 * A fresh lab (2 directors, 2 real servers unless told, 1 client; `vm`: which hosts are QEMU guests; `init`:
 * PID 1 of the namespace hosts, systemd unless given) for one test file, torn down after it.
 */
export function useLab(
  after?: (lab: LabState) => Promise<void> | void,
  opts: { vm?: VmHosts; directors?: number; realservers?: number; init?: LabInit } = {},
): LabSession {
  const env = process.env;
  const conns = new Map<string, Transport>();
  let lab: LabState | undefined;
  let pace = 1;
  beforeAll(async () => {
    await labDown(env);
    lab = await labUp(
      {
        directors: opts.directors ?? 2,
        realservers: opts.realservers ?? 2,
        clients: 1,
        ...(opts.vm ? { vm: opts.vm } : {}),
        ...(opts.init ? { init: opts.init } : {}),
      },
      env,
    );
    pace = await measurePace(lab, session);
  }, LAB_CAP_MS);
  afterAll(async () => {
    for (const t of conns.values()) await t.close();
    conns.clear();
    const l = lab!;
    await labDown(env);
    await after?.(l);
  });
  const session: LabSession = {
    get lab() {
      return lab!;
    },
    get pace() {
      return pace;
    },
    bound: (idleMs) => Math.round(idleMs * pace),
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
          // A TCG guest's handshake takes 0.5 s idle and many times that on a busy machine.
          connectTimeoutMs: h.kind === 'vm' ? 60_000 : 10_000,
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
  return session;
}

async function measurePace(lab: LabState, s: LabSession): Promise<number> {
  const h = lab.hosts.find((x) => x.kind === 'vm') ?? lab.hosts.find((x) => x.group === 'realservers') ?? lab.hosts[0]!;
  const probe = 'stat / >/dev/null && sysctl -n net.ipv4.ip_forward';
  await s.exec(h.name, probe); // opens the connection and the shell: not part of the figure
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await s.exec(h.name, probe);
    ms.push(performance.now() - t0);
  }
  const median = ms.sort((a, b) => a - b)[2]!;
  return Math.min(20, Math.max(1, median / IDLE_PROBE_MS[h.kind === 'vm' ? 'vm' : 'ns']));
}
