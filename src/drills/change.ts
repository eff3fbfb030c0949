import type { BecomeSpec } from '../engine/connect.js';
import { execOpts, HostState, makeCtx } from '../engine/host-state.js';
import type { JournalEntry } from '../change/types.js';
import type { TaskModule } from '../modules/types.js';
import type { Journal } from '../rollback/journal.js';
import { applyJournaled } from '../rollback/apply.js';
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
    const hs = new HostState(t.host);
    hs.transport = t;
    const p = mod.schema.parse(args);
    const ctx = makeCtx({ hs, vars, check: false, become, baseDirs: [], templates: new TemplateEngine(), execLog: [] });
    const plan = mod.plan(p, await mod.check(ctx, p));
    if (plan.fail) throw new Error(`${t.host}: ${plan.fail}`);
    if (!plan.steps.length) return false;
    await applyJournaled(
      this.journal,
      t,
      `drill: ${mod.name} ${plan.summary}`,
      plan,
      become,
      (e) => this.done.push({ t, e, become }),
      (e) =>
        this.done.splice(
          this.done.findIndex((d) => d.e === e),
          1,
        ),
    );
    return true;
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
