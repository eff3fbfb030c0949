import { EXIT } from '../exit-codes.js';
import type { HostState } from './host-state.js';
import type { HostRecap, RunSummary, TaskResult } from './types.js';

export function recapOf(
  results: TaskResult[],
  states: Map<string, HostState>,
  rolledBack: RunSummary['rolledBack'],
): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  for (const h of states.keys())
    recap[h] = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rolled_back: 0, rescued: 0, ignored: 0 };
  for (const r of results) {
    const c = recap[r.host]!;
    if (r.status === 'failed' && r.ignored) {
      // Ansible counts an ignored failure as ok too, and as changed when the module reported a change.
      c.ignored++;
      c.ok++;
      if (r.result?.changed === true) c.changed++;
    } else if (r.status === 'failed' && r.rescued) c.rescued++;
    else c[r.status]++;
    if (r.status === 'changed') c.ok++; // Ansible counts changed tasks as ok too
  }
  for (const [h, o] of Object.entries(rolledBack)) if (o.ok) recap[h]!.rolled_back = 1;
  return recap;
}

/**
 * A failed rollback first, then a failed task, then an unreachable host (a rollback left pending by an
 * unreachable host counts as that host's failure or unreachability).
 */
export function exitCodeOf(s: RunSummary): number {
  if (Object.values(s.rolledBack).some((o) => !o.ok && !o.pending)) return EXIT.ROLLBACK_FAILED;
  const v = Object.values(s.recap);
  if (v.some((c) => c.failed > 0)) return EXIT.TASK_FAILED;
  if (v.some((c) => c.unreachable > 0)) return EXIT.UNREACHABLE;
  return EXIT.OK;
}
