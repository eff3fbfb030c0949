import type { HostState } from './host-state.js';
import type { HostRecap, RunSummary, TaskResult } from './types.js';

export function recapOf(results: TaskResult[], states: Map<string, HostState>, rolledBack: RunSummary['rolledBack']): Record<string, HostRecap> {
  const recap: Record<string, HostRecap> = {};
  for (const h of states.keys()) recap[h] = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rolled_back: 0, ignored: 0 };
  for (const r of results) {
    const c = recap[r.host]!;
    if (r.status === 'failed' && r.ignored) c.ignored++;
    else c[r.status]++;
    if (r.status === 'changed') c.ok++; // Ansible counts changed tasks as ok too
  }
  for (const [h, o] of Object.entries(rolledBack)) if (o.ok) recap[h]!.rolled_back = 1;
  return recap;
}

/** 0 success, 2 a task failed, 3 a rollback failed, 4 hosts unreachable (failures take precedence; a rollback left pending by an unreachable host is 4 or 2). */
export function exitCodeOf(s: RunSummary): number {
  if (Object.values(s.rolledBack).some((o) => !o.ok && !o.pending)) return 3;
  const v = Object.values(s.recap);
  if (v.some((c) => c.failed > 0)) return 2;
  if (v.some((c) => c.unreachable > 0)) return 4;
  return 0;
}
