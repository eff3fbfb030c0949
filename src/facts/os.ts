import type { ModuleCtx } from '../modules/types.js';
import { raw } from '../transport/shell.js';

export type OsFamily = 'rhel' | 'debian';

/** RHEL family or Debian family (where rules and interface files live), probed once per host per run. */
export function osFamily(ctx: ModuleCtx): Promise<OsFamily> {
  return ctx.fact('os_family', async () =>
    (await ctx.exec(raw('[ -e /etc/redhat-release ] && echo rhel || echo debian'))).stdout.trim() === 'rhel'
      ? 'rhel'
      : 'debian',
  );
}
