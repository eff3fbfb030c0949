import type { JournalEntry } from '../change/types.js';
import type { JournalRecord, RunMeta } from './journal.js';

/**
 * Pure reading of a journal: which changes are still in effect on each host (begun and not
 * undone, in the order they were made), and what the run looked like.
 */
export function outstanding(records: readonly JournalRecord[]): Map<string, JournalEntry[]> {
  const undone = new Set(
    records.filter((r) => (r.phase === 'undone' || r.phase === 'unapplied') && r.ref !== undefined).map((r) => r.ref!),
  );
  const out = new Map<string, JournalEntry[]>();
  for (const r of records) {
    if (r.phase !== 'begin' || !r.host || undone.has(r.seq)) continue;
    const list = out.get(r.host) ?? [];
    // A begin without done was in flight when the run stopped: it may have half-applied, so it is undone too.
    list.push({
      host: r.host,
      task: r.task ?? '',
      undo: r.undo ?? [],
      seq: r.seq,
      ...(r.becomeUser ? { becomeUser: r.becomeUser } : {}),
    });
    out.set(r.host, list);
  }
  for (const [h, l] of out) if (!l.length) out.delete(h);
  return out;
}

/**
 * Per host, the tasks that changed something without a full undo (journaled `irreversible`): a rollback cannot put
 * them back. A run of such a task that reported no change (journaled `unchanged`, e.g. a read-only command with
 * `changed_when: false`) is not counted.
 */
export function withoutUndo(records: readonly JournalRecord[]): Map<string, string[]> {
  const count = new Map<string, number>();
  const key = (r: JournalRecord): string => JSON.stringify([r.host, r.task ?? '']);
  for (const r of records) {
    if (!r.host || (r.phase !== 'irreversible' && r.phase !== 'unchanged')) continue;
    count.set(key(r), (count.get(key(r)) ?? 0) + (r.phase === 'irreversible' ? 1 : -1));
  }
  const out = new Map<string, string[]>();
  for (const [k, n] of count) {
    if (n <= 0) continue;
    const [host, task] = JSON.parse(k) as [string, string];
    out.set(host, [...(out.get(host) ?? []), task]);
  }
  return out;
}

export type RunOutcome = 'running-or-crashed' | 'interrupted' | 'succeeded' | 'failed' | 'rolled-back';

export interface RunInfo {
  id: string;
  started?: string;
  ended?: string;
  meta?: RunMeta;
  outcome: RunOutcome;
  exitCode?: number;
  changedHosts: string[];
  /** Hosts with changes still in effect (a rollback would revert them). */
  outstandingHosts: string[];
  /** Hosts whose rollback could not run (unreachable): `lvsrun rollback` finishes it. */
  pendingHosts: string[];
  /** Handlers notified and not yet run, per host. */
  owedHandlers: Record<string, string[]>;
  /** Hosts that failed or were unreachable in a finished run (`--limit @failed`). */
  failedHosts: string[];
}

export function describeRun(id: string, records: readonly JournalRecord[]): RunInfo {
  const start = records.find((r) => r.phase === 'run-start');
  const end = [...records].reverse().find((r) => r.phase === 'run-end');
  const out = outstanding(records);
  const unapplied = new Set(records.filter((r) => r.phase === 'unapplied').map((r) => r.ref));
  const changed = [
    ...new Set(records.filter((r) => r.phase === 'begin' && r.host && !unapplied.has(r.seq)).map((r) => r.host!)),
  ];
  const pendingHosts = [...new Set(records.filter((r) => r.phase === 'pending' && r.host).map((r) => r.host!))].filter(
    (h) => out.has(h),
  );
  const owed: Record<string, string[]> = {};
  for (const r of records) {
    if (!r.host || !r.task) continue;
    if (r.phase === 'notify') {
      const tasks = (owed[r.host] ??= []);
      if (!tasks.includes(r.task)) tasks.push(r.task);
    }
    if (r.phase === 'handler') owed[r.host] = (owed[r.host] ?? []).filter((t) => t !== r.task);
  }
  for (const h of Object.keys(owed)) if (!owed[h]!.length) delete owed[h];
  const code = end?.outcome !== undefined && /^\d+$/.test(end.outcome) ? Number(end.outcome) : undefined;
  let outcome: RunOutcome = 'running-or-crashed';
  if (end) outcome = end.outcome === 'interrupted' ? 'interrupted' : code === 0 ? 'succeeded' : 'failed';
  if (changed.length && !out.size && records.some((r) => r.phase === 'undone')) outcome = 'rolled-back';
  return {
    id,
    ...(start ? { started: start.ts } : {}),
    ...(end ? { ended: end.ts } : {}),
    ...(start?.meta ? { meta: start.meta } : {}),
    outcome,
    ...(code !== undefined ? { exitCode: code } : {}),
    changedHosts: changed,
    outstandingHosts: [...out.keys()],
    pendingHosts,
    owedHandlers: owed,
    failedHosts: end?.failedHosts ?? [],
  };
}
