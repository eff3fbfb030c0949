import type { Transport } from '../transport/types.js';
import type { HostLock } from './host-lock.js';
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
  /** In-memory mirror of the journal: this host's undo entries in order of change. */
  readonly undoLog: JournalEntry[] = [];
  readonly facts = new Map<string, Promise<unknown>>();
  constructor(readonly name: string) {}

  get active(): boolean {
    return !this.failed && !this.unreachable;
  }
}
