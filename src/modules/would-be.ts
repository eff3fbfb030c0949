import type { ModuleCtx } from './types.js';

/**
 * Under --check nothing is created, yet later tasks must be planned against the state the run
 * would reach: the interfaces earlier tasks of this host would create (a `vip` with `create:`), so
 * a `sysctl` on such an interface plans its change instead of failing because it does not exist yet.
 * Held in the host's per-run fact cache: one set per host, nothing shared between hosts.
 */
export function interfacesToCreate(ctx: ModuleCtx): Promise<Set<string>> {
  return ctx.fact('check-mode:interfaces-to-create', () => Promise.resolve(new Set<string>()));
}
