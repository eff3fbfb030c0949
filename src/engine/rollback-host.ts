import { TransportError } from '../errors.js';
import type { Journal } from '../rollback/journal.js';
import { replayUndo } from '../rollback/replay.js';
import type { BecomeSpec } from './connect.js';
import type { EventBus } from './events.js';
import { execOpts, type HostState } from './host-state.js';
import type { RunSummary } from './types.js';

/**
 * Revert this run's changes on one host, newest first. A host that cannot be reached keeps its
 * changes in the journal and is reported pending: `lvsrun rollback` finishes the job later.
 */
export async function rollbackHost(
  hs: HostState,
  become: (user?: string) => BecomeSpec,
  journal: Journal,
  bus: EventBus,
  out: RunSummary['rolledBack'],
): Promise<void> {
  if (hs.rolledBack || !hs.undoLog.length) return;
  hs.rolledBack = true;
  bus.emit({ type: 'rollback:start', host: hs.name, steps: hs.undoLog.reduce((n, e) => n + e.undo.length, 0) });
  if (!hs.transport || hs.unreachable) return pending(hs, hs.unreachable ?? 'not connected', journal, bus, out);
  try {
    const r = await replayUndo(hs.transport, hs.undoLog, journal, (e) => execOpts(become(e.becomeUser)));
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

function pending(hs: HostState, why: string, journal: Journal, bus: EventBus, out: RunSummary['rolledBack']): void {
  const error = `rollback pending: ${why}`;
  out[hs.name] = { steps: 0, ok: false, pending: true, error };
  journal.write({ phase: 'pending', host: hs.name, outcome: why });
  bus.emit({ type: 'rollback:done', host: hs.name, ok: false, pending: true, error });
}
