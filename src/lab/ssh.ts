import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LvsrunError } from '../errors.js';
import { sh } from '../transport/shell.js';
import { SshTransport } from '../transport/ssh.js';
import { KEEPALIVE_INTERVAL_MS } from '../transport/types.js';
import { labStatus } from './lab.js';
import { labDir } from './paths.js';

/** Where `lab ssh` writes the command's output, and the environment that locates the lab. */
export interface LabSshIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

/** `lvsrun lab ssh HOST [CMD...]`: a command through lvsrun's own transport, or an interactive ssh. */
export async function labSsh(host: string, cmd: string[], io: LabSshIo): Promise<number> {
  const st = labStatus(io.env);
  const h = st?.hosts.find((x) => x.name === host);
  if (!st || !h)
    throw new LvsrunError('E_LAB', st ? `no lab host '${host}'` : 'the lab is not running', {
      hint: st ? `hosts: ${st.hosts.map((x) => x.name).join(', ')}` : 'lvsrun lab up',
    });
  const dir = labDir(io.env);
  if (!cmd.length) {
    const r = spawnSync(
      'ssh',
      [
        '-i',
        join(dir, 'id_ed25519'),
        '-o',
        `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
        '-o',
        'StrictHostKeyChecking=yes',
        `root@${h.addr}`,
      ],
      { stdio: 'inherit' },
    );
    return r.status ?? 1;
  }
  const t = await SshTransport.connect({
    name: host,
    host: h.addr,
    port: 22,
    user: 'root',
    privateKeyFiles: [join(dir, 'id_ed25519')],
    knownHostsFiles: [join(dir, 'known_hosts')],
    acceptNewHostKeys: false,
    connectTimeoutMs: 10000,
    keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
  });
  try {
    // The words are the user's command line for the lab host, joined as the shell would see them.
    const r = await t.exec(sh`/bin/sh -c ${cmd.join(' ')}`);
    io.out(r.stdout);
    io.err(r.stderr);
    return r.code ?? 1;
  } finally {
    await t.close();
  }
}
