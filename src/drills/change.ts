import { type BecomeSpec, execOpts } from '../transport/become.js';
import { moduleArgs, runModule, targetOf } from '../engine/module-run.js';
import type { JournalEntry } from '../change/types.js';
import type { TaskModule } from '../modules/types.js';
import type { Journal } from '../rollback/journal.js';
import { replayUndo } from '../rollback/replay.js';
import { TemplateEngine } from '../template/render.js';
import type { Transport } from '../transport/types.js';

/**
 * A drill changes hosts the way a run does: the module checks, plans, the undo goes to the run's
 * journal before the step runs, so `lvsrun rollback` can restore a drill that died midway.
 */
export class DrillChanges {
  private readonly done: Array<{ t: Transport; e: JournalEntry; become: BecomeSpec }> = [];
  constructor(private readonly journal: Journal) {}

  async apply<P>(
    t: Transport,
    vars: Record<string, unknown>,
    become: BecomeSpec,
    mod: TaskModule<P, unknown>,
    args: unknown,
  ): Promise<boolean> {
    const parsed = moduleArgs(mod, args, vars);
    if (!parsed.ok) throw new Error(`${t.host}: ${mod.name}: ${parsed.path || 'arguments'}: ${parsed.message}`);
    const ctx = { hs: targetOf(t), vars, check: false, become, baseDirs: [], templates: new TemplateEngine() };
    const run = await runModule(mod, parsed.data, ctx, {
      journal: this.journal,
      task: (plan) => `drill: ${mod.name} ${plan.summary}`,
      onBegin: (e) => this.done.push({ t, e, become }),
      onUnapplied: (e) =>
        this.done.splice(
          this.done.findIndex((d) => d.e === e),
          1,
        ),
    });
    if (run.kind === 'failed') throw new Error(`${t.host}: ${run.msg}`);
    return run.plan.steps.length > 0;
  }

  /** Undo every change of the drill, newest first. */
  async restore(): Promise<string[]> {
    const errors: string[] = [];
    for (const d of this.done.reverse()) {
      const r = await replayUndo(d.t, [d.e], this.journal, () => execOpts(d.become)).catch((x: Error) => ({
        ok: false,
        error: x.message,
      }));
      if (!r.ok) errors.push(`${d.e.host}: ${r.error ?? 'undo failed'}`);
    }
    this.done.length = 0;
    return errors;
  }
}
