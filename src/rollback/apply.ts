import { type BecomeSpec, execOpts } from '../transport/become.js';
import { CommandError } from '../errors.js';
import type { JournalEntry, Plan } from '../change/types.js';
import type { ExecResult, Transport } from '../transport/types.js';
import { execSeq } from '../transport/exec-seq.js';
import type { Journal } from './journal.js';

/**
 * Apply a plan's steps write-ahead: the undo is journaled and on disk before the first step,
 * `onBegin` gets the entry (the caller's in-memory undo log), then the steps run and the change is
 * marked done or failed. Shared by runs and drills, so both can be rolled back the same way.
 * When the first step is atomic and exits 1 (refused), nothing changed: the entry is journaled `unapplied`
 * and `onUnapplied` takes it back out of the caller's undo log, so a rollback does not rewrite
 * a file (and reload a daemon) that was never touched. `onSent` is called once the steps are on
 * their way: a command sent from it runs on the host after them.
 */
export async function applyJournaled(
  journal: Journal,
  t: Transport,
  task: string,
  plan: Plan,
  become: BecomeSpec,
  onBegin: (e: JournalEntry) => void,
  onUnapplied?: (e: JournalEntry) => void,
  onSent?: () => void,
): Promise<ExecResult[]> {
  if (!plan.steps.length) return [];
  const host = t.host;
  const recordUndo = plan.action !== 'noop' && plan.undo.length > 0;
  let entry: JournalEntry | undefined;
  if (recordUndo) {
    const becomeUser = become.enabled ? become.user : undefined;
    const seq = journal.write({ phase: 'begin', host, task, undo: plan.undo, ...(becomeUser ? { becomeUser } : {}) });
    entry = { host, task, undo: plan.undo, seq, ...(becomeUser ? { becomeUser } : {}) };
    onBegin(entry);
    await journal.durable(); // write-ahead: the undo is on disk before the change starts
  }
  // A change with no undo, or one whose undo cannot put everything back (a folder's files), is on record as
  // such, so a rollback reports it as not restored instead of counting it among what it restored.
  if (journalsNoUndo(plan)) {
    journal.write({ phase: 'irreversible', host, task });
  }
  // The steps go together (one round trip where the transport can), each only after the one before
  // it succeeded; the undo above is already on disk. No abort signal: on Ctrl-C the steps in flight
  // finish, then the rollback undoes them.
  const results = await execSeq(
    t,
    plan.steps.map((step) => ({
      cmd: step.cmd,
      opts: execOpts(become, step.stdin !== undefined ? { stdin: step.stdin } : {}),
      ...(step.anyCode ? { mayFail: true } : {}),
    })),
    onSent,
  );
  const bad = results.findIndex((r, i) => r.code !== 0 && !plan.steps[i]!.anyCode);
  if (bad >= 0) {
    const step = plan.steps[bad]!;
    // Only the step's own refusal (exit 1: a check, validate or the rename failed) is known to leave no
    // trace; a signal (129, 130, 143) or a closed shell (no code) may have come after the rename.
    if (entry && bad === 0 && step.atomic && results[bad]!.code === 1) {
      journal.write({ phase: 'unapplied', host, task, ref: entry.seq });
      onUnapplied?.(entry);
    } else if (recordUndo) journal.write({ phase: 'failed', host, task });
    throw new CommandError(step.what ?? 'step', results[bad]!);
  }
  if (recordUndo) journal.write({ phase: 'done', host, task });
  return results;
}

/** Whether applying `plan` journals an `irreversible` record: it runs steps and cannot fully undo them. */
export function journalsNoUndo(plan: Plan): boolean {
  return plan.steps.length > 0 && (Boolean(plan.irreversible) || (plan.action !== 'noop' && !plan.undo.length));
}
