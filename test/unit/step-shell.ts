import { spawn } from 'node:child_process';
import type { Step } from '../../src/modules/types.js';
import { ShellSession, type ShellChannel } from '../../src/transport/shell-session.js';
import type { ExecResult } from '../../src/transport/types.js';

/** The shells a host may have as /bin/sh: dash (Debian) and bash (RHEL). */
export const HOST_SHELLS = ['dash', 'bash'] as const;

/**
 * Run a step as a host runs it: written to a long-lived `shell` through ShellSession (so the
 * framing, the here-document and any decoding of stdin are the real ones), with `env` only.
 * `before`: shell text run in that shell first (an option the login shell may have set).
 */
export async function runStep(
  shell: string,
  step: Step,
  o: { env: NodeJS.ProcessEnv; cwd?: string; before?: string },
): Promise<ExecResult> {
  const open = async (): Promise<ShellChannel> => {
    const p = spawn(shell, [], { stdio: 'pipe', env: o.env, ...(o.cwd ? { cwd: o.cwd } : {}) });
    if (o.before) p.stdin.write(`${o.before}\n`);
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
        p.stdin.end();
      },
    };
  };
  const s = new ShellSession(open);
  try {
    return await s.run(step.cmd, step.stdin === undefined ? {} : { stdin: step.stdin });
  } finally {
    s.close();
  }
}
