import type { Task } from '../playbook/types.js';

/** A task's read-only check, sent ahead of the task's turn (engine/speculate.ts). */
export interface Probe {
  /** Probing.changes when the probe was sent. */
  changes: number;
  key: string;
  observed: Promise<unknown>;
  /** Templates the probe rendered, with what they gave, to render again before trusting it. */
  rendered: Array<{ text: string; file: string | undefined; out: string }>;
  /** The probe read the host's variables directly: trusted only if no task registered a result since. */
  readVars: boolean;
  registers: number;
  /**
   * Sent ahead of the task's play (engine/connect-ahead.ts): trusted only before `at`
   * (performance.now()) and if no change was made on any host of the run since (`runChanges`).
   */
  aheadOfPlay?: { at: number; runChanges: number };
}

/**
 * One host's probes sent ahead. Shared by every view of the host (a task delegated to it), so a
 * change made there by delegation makes the host's own probes stale too.
 */
export interface Probing {
  /** Changes made on this host so far (applied plans): a probe sent before a change is stale. */
  changes: number;
  readonly probes: Map<Task, Probe>;
  /** How many tasks ahead to probe (adapts: see probeAhead). */
  window: number;
  /** Changes recorded (counted in `changes`) whose steps are not written yet: no probe goes meanwhile. */
  unsent: number;
}
