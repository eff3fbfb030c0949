import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SshdHosts } from './sshd-hosts.js';

/** The raw OpenSSH floor, measured the way the Ansible baseline's bin/floor.sh does, all hosts in parallel. */
export type FloorKind = 'connect' | 'connect+12';

// stdio ignored and 'exit' awaited: `ssh -f` leaves a background master holding any pipes open.
const ssh = (cfg: string, args: string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    const p = spawn('ssh', ['-F', cfg, ...args], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${args.join(' ')}: exit ${code}`))));
  });

async function oneHost(h: SshdHosts, name: string, kind: FloorKind, sockDir: string): Promise<void> {
  if (kind === 'connect') return ssh(h.sshConfig, ['-o', 'ControlMaster=no', '-o', 'ControlPath=none', name, 'true']);
  // a fresh master connection, then 12 `true` commands in a row over it, then close it
  const sock = join(sockDir, name);
  await ssh(h.sshConfig, ['-o', 'ControlMaster=yes', '-o', 'ControlPersist=no', '-S', sock, '-fN', name]);
  try {
    for (let k = 0; k < 12; k++) await ssh(h.sshConfig, ['-S', sock, name, 'true']);
  } finally {
    await ssh(h.sshConfig, ['-S', sock, '-O', 'exit', name]).catch(() => undefined);
  }
}

/** Wall seconds for every host to finish. Throws if any host failed. */
export async function floor(h: SshdHosts, kind: FloorKind): Promise<number> {
  const sockDir = join(h.dir, 'cp-floor');
  rmSync(sockDir, { recursive: true, force: true });
  mkdirSync(sockDir, { recursive: true });
  const t0 = process.hrtime.bigint();
  await Promise.all(h.names.map((n) => oneHost(h, n, kind, sockDir)));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
