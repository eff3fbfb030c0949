import type { JournalEntry } from '../change/types.js';
import type { ExecOptions, Transport } from '../transport/types.js';
import type { Journal } from './journal.js';

export interface ReplayOutcome {
  steps: number;
  ok: boolean;
  error?: string;
}

/**
 * Undo a host's changes in reverse order of the changes. Stops at the first undo that fails.
 * `asUser` gives the exec options (become) for an entry. A lost connection throws TransportError:
 * the entries not yet undone stay outstanding in the journal.
 */
export async function replayUndo(
  t: Transport,
  entries: readonly JournalEntry[],
  journal: Journal | undefined,
  asUser: (e: JournalEntry) => ExecOptions,
): Promise<ReplayOutcome> {
  let steps = 0;
  for (const e of [...entries].reverse()) {
    const opts = asUser(e);
    for (const s of e.undo) {
      const r = await t.exec(s.cmd, { ...opts, ...(s.stdin !== undefined ? { stdin: s.stdin } : {}) });
      steps++;
      if (r.code !== 0) {
        const error = `undo of '${e.task}' failed (${s.what ?? 'step'}): ${r.stderr.trim() || `exit ${r.code}`}`;
        journal?.write({ phase: 'failed', host: e.host, task: e.task, outcome: error });
        return { steps, ok: false, error };
      }
    }
    journal?.write({ phase: 'undone', host: e.host, task: e.task, ...(e.seq !== undefined ? { ref: e.seq } : {}) });
  }
  return { steps, ok: true };
}
