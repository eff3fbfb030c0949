import { raw, type ShellCmd } from '../transport/shell.js';
import type { ExecResult } from '../transport/types.js';

/** What a probe needs of its host: a command runner and the per-host fact cache (a module's context has both). */
export interface OsProbeCtx {
  exec(cmd: ShellCmd): Promise<ExecResult>;
  /** Cached per host for the whole run (OS family, package manager, init system). */
  fact<T>(key: string, load: () => Promise<T>): Promise<T>;
}

export type OsFamily = 'rhel' | 'debian';

/** RHEL family or Debian family (where rules and interface files live), probed once per host per run. */
export function osFamily(ctx: OsProbeCtx): Promise<OsFamily> {
  return ctx.fact('os_family', async () =>
    (await ctx.exec(raw('[ -e /etc/redhat-release ] && echo rhel || echo debian'))).stdout.trim() === 'rhel'
      ? 'rhel'
      : 'debian',
  );
}
