import type { RunInfo } from './outstanding.js';

export interface PruneRule {
  /** Keep at least the newest `keep` runs. */
  keep?: number;
  /** Only runs that started more than this many days ago. */
  olderThanDays?: number;
  /** Remove runs whose changes are still in effect, and runs that may still be going, too. */
  force: boolean;
  now: number;
}

export interface PrunePlan {
  remove: RunInfo[];
  spared: { run: RunInfo; why: string }[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Which journals `lvsrun runs --prune` removes (`runs` newest first). A run whose changes are still
 * in effect keeps its journal (it is the only way to undo them), and so does one that has not ended
 * (it may still be running), unless `force`.
 */
export function planPrune(runs: readonly RunInfo[], rule: PruneRule): PrunePlan {
  const plan: PrunePlan = { remove: [], spared: [] };
  runs.forEach((run, i) => {
    if (rule.keep !== undefined && i < rule.keep) return;
    const started = Date.parse(run.started ?? '');
    if (rule.olderThanDays !== undefined && !(rule.now - started > rule.olderThanDays * DAY_MS)) return;
    const why = run.outstandingHosts.length
      ? `changes in effect on ${run.outstandingHosts.join(', ')}`
      : run.outcome === 'running-or-crashed'
        ? 'not ended (running, or crashed)'
        : undefined;
    if (why && !rule.force) plan.spared.push({ run, why });
    else plan.remove.push(run);
  });
  return plan;
}
