import { TransportError } from '../errors.js';
import type { Journal } from '../rollback/journal.js';
import { replayUndo, type ReplayOutcome } from '../rollback/replay.js';
import type { ExecOptions, Transport } from '../transport/types.js';
import type { BecomeSpec } from './connect.js';
import type { EventBus } from './events.js';
import { execOpts, type HostState } from './host-state.js';
import type { JournalEntry, RunSummary } from './types.js';

/**
 * Revert this run's changes on one host, newest first. A host that cannot be reached keeps its
 * changes in the journal and is reported pending: `lvsrun rollback` finishes the job later.
 * A change the host's tasks made on another host (delegate_to) is undone there, over `delegate`'s
 * connection to it, in its place in the order.
 */
export async function rollbackHost(
  hs: HostState,
  become: (user?: string) => BecomeSpec,
  journal: Journal,
  bus: EventBus,
  out: RunSummary['rolledBack'],
  delegate: (host: string) => HostState | undefined = () => undefined,
): Promise<void> {
  if (hs.rolledBack || !hs.undoLog.length) return;
  hs.rolledBack = true;
  bus.emit({ type: 'rollback:start', host: hs.name, steps: hs.undoLog.reduce((n, e) => n + e.undo.length, 0) });
  const on = (host: string): HostState | undefined => (host === hs.name ? hs : delegate(host));
  const down = [...new Set(hs.undoLog.map((e) => e.host))].find((h) => !on(h)?.transport || on(h)?.unreachable);
  if (down !== undefined) {
    const why = on(down)?.unreachable ?? 'not connected';
    return pending(hs, down === hs.name ? why : `${down}: ${why}`, journal, bus, out);
  }
  try {
    const r = await replayAcross(
      hs.undoLog,
      (h) => on(h)!.transport!,
      journal,
      (e) => execOpts(become(e.becomeUser)),
    );
    hs.undoLog.length = 0;
    out[hs.name] = r;
    journal.write({ phase: 'restored', host: hs.name, outcome: r.ok ? 'ok' : (r.error ?? 'failed') });
    bus.emit({ type: 'rollback:done', host: hs.name, ok: r.ok, ...(r.error ? { error: r.error } : {}) });
  } catch (e) {
    if (!(e instanceof TransportError)) throw e;
    hs.unreachable = e.message;
    pending(hs, e.message, journal, bus, out);
  }
}

/** replayUndo over entries made on several hosts: each run of entries of one host over its own connection. */
async function replayAcross(
  entries: readonly JournalEntry[],
  transportOf: (host: string) => Transport,
  journal: Journal,
  asUser: (e: JournalEntry) => ExecOptions,
): Promise<ReplayOutcome> {
  let steps = 0;
  let end = entries.length;
  while (end > 0) {
    const host = entries[end - 1]!.host;
    let start = end - 1;
    while (start > 0 && entries[start - 1]!.host === host) start--;
    const r = await replayUndo(transportOf(host), entries.slice(start, end), journal, asUser);
    steps += r.steps;
    if (!r.ok) return { ...r, steps };
    end = start;
  }
  return { steps, ok: true };
}

function pending(hs: HostState, why: string, journal: Journal, bus: EventBus, out: RunSummary['rolledBack']): void {
  const error = `rollback pending: ${why}`;
  out[hs.name] = { steps: 0, ok: false, pending: true, error };
  journal.write({ phase: 'pending', host: hs.name, outcome: why });
  bus.emit({ type: 'rollback:done', host: hs.name, ok: false, pending: true, error });
}
