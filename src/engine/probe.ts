import type { ExecResult } from '../transport/types.js';

/** A task's read-only check, sent ahead of the task's turn (engine/speculate.ts). */
export interface Probe {
  /** hs.changes when the probe was sent. */
  changes: number;
  key: string;
  observed: Promise<unknown>;
  execLog: ExecResult[];
  /** Templates the probe rendered, with what they gave, to render again before trusting it. */
  rendered: Array<{ text: string; file: string | undefined; out: string }>;
  /** The probe read the host's variables directly: trusted only if no task registered a result since. */
  readVars: boolean;
  registers: number;
}
