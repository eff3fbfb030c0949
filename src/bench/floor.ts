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

/**
 * Wall seconds for every host to finish, at most `forks` hosts at a time (the tools run with the
 * same limit; up to 50 hosts it is all of them at once, as the baseline's floor.sh did). Throws if
 * any host failed.
 */
export async function floor(h: SshdHosts, kind: FloorKind, forks = h.names.length): Promise<number> {
  const sockDir = join(h.dir, 'cp-floor');
  rmSync(sockDir, { recursive: true, force: true });
  mkdirSync(sockDir, { recursive: true });
  const t0 = process.hrtime.bigint();
  const todo = [...h.names];
  const worker = async (): Promise<void> => {
    for (let n = todo.shift(); n !== undefined; n = todo.shift()) await oneHost(h, n, kind, sockDir);
  };
  await Promise.all(Array.from({ length: Math.min(forks, todo.length) }, worker));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
