import type { Step } from '../../src/modules/types.js';
import { ShellSession, type ShellChannel } from '../../src/transport/shell-session.js';
import type { ExecResult } from '../../src/transport/types.js';
import { spawnLocalShell } from './local-shell.js';

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
    const c = spawnLocalShell({ shell, env: o.env, ...(o.cwd ? { cwd: o.cwd } : {}) });
    if (o.before) c.write(`${o.before}\n`);
    return c;
  };
  const s = new ShellSession(open);
  try {
    return await s.run(step.cmd, step.stdin === undefined ? {} : { stdin: step.stdin });
  } finally {
    s.close();
  }
}
