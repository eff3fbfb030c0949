import { spawn } from 'node:child_process';
import type { ShellChannel } from '../../src/transport/shell-session.js';

/**
 * A real local /bin/sh behind a ShellChannel: it stands in for the remote shell (the framing is the
 * same bytes either way). `group`: closing kills the shell's whole process group, as sshd does when
 * the channel closes; otherwise only the shell is killed. `shell`, `env`, `cwd`: another shell, and
 * the environment and folder it starts with.
 */
export function spawnLocalShell(
  o: { group?: boolean; shell?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ShellChannel {
  const p = spawn(o.shell ?? '/bin/sh', [], {
    stdio: 'pipe',
    ...(o.group ? { detached: true } : {}),
    ...(o.env ? { env: o.env } : {}),
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  return {
    write: (d) => {
      p.stdin.write(d);
    },
    onStdout: (cb) => {
      p.stdout.on('data', cb);
    },
    onStderr: (cb) => {
      p.stderr.on('data', cb);
    },
    onClose: (cb) => {
      p.on('close', cb);
    },
    close: () => {
      if (o.group) process.kill(-p.pid!, 'SIGKILL');
      else p.kill();
    },
  };
}
