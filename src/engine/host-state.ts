import type { Transport } from '../transport/types.js';
import type { HostLock } from './host-lock.js';
import type { Probing } from './probe.js';
import type { JournalEntry } from '../change/types.js';

/** Everything the engine keeps per host for one run. */
export class HostState {
  transport?: Transport;
  unreachable?: string;
  failed = false;
  rolledBack = false;
  lock?: HostLock;
  readonly registered: Record<string, unknown> = {};
  readonly notified = new Set<string>();
  /** The include_tasks (their includeId) that ran on this host: it takes the tasks they include. */
  readonly included = new Set<number>();
  /** In-memory mirror of the journal: this host's undo entries in order of change. */
  readonly undoLog: JournalEntry[];
  readonly facts: Map<string, Promise<unknown>>;
  /** Probes sent ahead of their task, and what decides whether their answers still hold (engine/speculate.ts). */
  readonly probing: Probing;
  constructor(
    readonly name: string,
    shared: { undoLog?: JournalEntry[]; facts?: Map<string, Promise<unknown>>; probing?: Probing } = {},
  ) {
    this.undoLog = shared.undoLog ?? [];
    this.facts = shared.facts ?? new Map<string, Promise<unknown>>();
    this.probing = shared.probing ?? { changes: 0, probes: new Map(), window: 32, unsent: 0 };
  }

  get active(): boolean {
    return !this.failed && !this.unreachable;
  }
}

/**
 * delegate_to: `origin`'s task run over `target`'s connection. The module sees the origin's name (its
 * variables are the origin's); the change belongs to the target, as the journal records it (under the
 * transport's host): its undo joins the target's log, so a rollback of the target in the run does what
 * `lvsrun rollback` of that host does, and the target's own probes sent before it are stale.
 */
export function delegateView(origin: HostState, target: HostState): HostState {
  const v = new HostState(origin.name, { undoLog: target.undoLog, facts: target.facts, probing: target.probing });
  if (target.transport) v.transport = target.transport;
  return v;
}

/**
 * A host's state seen through a connection opened ahead of its play (engine/connect-ahead.ts), for
 * probes sent before the play takes the connection: they land in the host's own probe cache and facts.
 */
export function aheadView(hs: HostState, transport: Transport): HostState {
  const v = new HostState(hs.name, { undoLog: hs.undoLog, facts: hs.facts, probing: hs.probing });
  v.transport = transport;
  return v;
}
