import { lookupModule } from '../modules/registry.js';
import { isControllerModule, type ModuleCtx, type TaskModule } from '../modules/types.js';
import { evalCondition, wholeWhen } from '../playbook/when.js';
import { becomeSpec } from './connect.js';
import type { HostState } from './host-state.js';
import { makeCtx } from './module-run.js';
import { parseTaskArgs } from './task-args.js';
import type { Probe, Probing } from './probe.js';
import type { Play, Task } from '../playbook/types.js';
import type { TemplateEngine } from '../template/render.js';

/**
 * Read-only probes of the tasks ahead, sent together so that their answers share one round trip
 * (the host's shell runs them in order; see ShellSession). A probe's answer is used only if,
 * when its task comes up, nothing was changed on the host since the probe was sent (the host's
 * change count is the same), the task's arguments render the same, and any template the probe
 * rendered renders the same; otherwise the task probes again. Probes are what `check` does in
 * `--check` too, so asking early never changes a host.
 */

/** What probing needs of the task environment (engine/run-task.ts's TaskEnv). */
export interface ProbeEnv {
  play: Play;
  check: boolean;
  templates: TemplateEngine;
  signal?: AbortSignal;
  vars: (hs: HostState, task?: Task) => Record<string, unknown>;
  registered?: { count: number };
  /**
   * Changes on every host of the run so far, each counted when its plan is applied and again when
   * its steps are done: an answer asked while a change was under way is not taken for one after it.
   */
  changes?: { count: number };
}

/**
 * How old an answer asked ahead of its task's play may be at the task's turn: about what a probe
 * sent ahead within a play may be. Older ones (a long play before, a later serial batch) are asked
 * again, so that a task does not act on what a host said long before.
 */
export const AHEAD_OF_PLAY_MAX_AGE_MS = 5000;

/** wait_for's check waits, and would hold up the shell for the probes behind it. */
const WAITS = 'wait_for';

/** At most how many tasks ahead are probed at once. */
export const PROBE_AHEAD = 32;

/** A task found nothing to change: probe further ahead (from none, one task; then doubling). */
export function widenProbes(hs: HostState): void {
  hs.probing.window = Math.min(PROBE_AHEAD, Math.max(1, hs.probing.window * 2));
}

/**
 * A change is about to be made on the host: probes sent before it are stale, and the tasks after
 * it will likely change something too (a first converge), so fewer are probed ahead.
 */
export function changed(p: Probing): void {
  p.changes++;
  p.unsent++;
  p.window = Math.floor(p.window / 4);
}

/** That change's steps are written to the host (or will never be): probes may go again once none is pending. */
export function stepsSent(p: Probing): void {
  p.unsent--;
}

/** The cache key of a probe: the parsed arguments, the become user and check mode. */
export function probeKey(p: unknown, become: unknown, check: boolean): string {
  return JSON.stringify([p, become, check]);
}

/**
 * Probe the tasks after `task` whose arguments render now, unless a current probe is already out.
 * How far ahead adapts per host: while tasks find nothing to change (a no-op re-run) the window
 * grows to PROBE_AHEAD; while every task changes something (a first converge) probes sent ahead
 * are stale by their turn, so it shrinks to none, and the host does no extra work. `atLeast`: a
 * change's steps were just sent, so the next tasks' probes, run after them, will not be stale.
 */
export function probeAhead(
  env: ProbeEnv,
  hs: HostState,
  ahead: readonly Task[],
  atLeast = 0,
  aheadOfPlay?: Probe['aheadOfPlay'],
): void {
  // A change recorded but not yet written (another task's, delegated here, waiting on the journal)
  // would run after a probe sent now while counting as made before it: wait for it.
  if (hs.probing.unsent > 0) return;
  let n = Math.max(atLeast, hs.probing.window);
  // A task that cannot change the host (stat, assert, debug) leaves the probes behind it current:
  // the task after it is probed too (a converge's `stat` + `when` then costs one round trip, not two).
  while (n > 0 && n < ahead.length && cannotChange(ahead[n - 1]!)) n++;
  for (const t of ahead.slice(0, n)) {
    const out = hs.probing.probes.get(t);
    if (out && out.changes === hs.probing.changes && !pastLimits(env, out)) continue;
    const p = startProbe(env, hs, t, aheadOfPlay);
    if (p) hs.probing.probes.set(t, p);
    else hs.probing.probes.delete(t);
  }
}

/** A probe sent ahead of its play that is too old, or sent before a change made on any host since. */
function pastLimits(env: ProbeEnv, probe: Probe): boolean {
  const early = probe.aheadOfPlay;
  return early !== undefined && (performance.now() > early.at || (env.changes?.count ?? 0) !== early.runChanges);
}

function cannotChange(task: Task): boolean {
  const mod = lookupModule(task.module);
  return mod !== undefined && (isControllerModule(mod) || mod.readOnly === true);
}

function startProbe(env: ProbeEnv, hs: HostState, task: Task, aheadOfPlay?: Probe['aheadOfPlay']): Probe | undefined {
  const mod = lookupModule(task.module);
  // Controller-side tasks, loops, and modules whose check is not a quick read are left to their turn.
  // A delegated task probes another host, and a run_once task only one host: both wait for their turn.
  if (!mod || isControllerModule(mod) || task.loop !== undefined || mod.name === WAITS) return undefined;
  if (task.delegateTo !== undefined || task.runOnce) return undefined;
  try {
    const vars = env.vars(hs, task);
    // A condition that is false now will most likely stay false; one that cannot be evaluated yet
    // (a result registered in between) is probed anyway.
    try {
      if (!evalCondition(wholeWhen(task), vars, { ...task.where, field: 'when' })) return undefined;
    } catch {
      /* decided at its turn */
    }
    const parsed = parseTaskArgs(mod, task, vars, env.templates);
    if (!parsed.ok) return undefined;
    const become = becomeSpec(vars, env.play.become, env.play.becomeUser, task);
    // Each command with a sudo password is a password attempt: sent ahead, a wrong password would
    // count several failures at once (pam_faillock) before the first answer says it is wrong.
    if (become.enabled && become.password !== undefined) return undefined;
    const check = task.checkMode ?? env.check;
    const probe: Probe = {
      changes: hs.probing.changes,
      key: probeKey(parsed.data, become, check),
      observed: Promise.resolve(undefined),
      rendered: [],
      readVars: false,
      registers: env.registered?.count ?? 0,
      ...(aheadOfPlay ? { aheadOfPlay } : {}),
    };
    const ctx = watched(
      makeCtx({
        hs,
        vars,
        check,
        become,
        baseDirs: task.baseDirs,
        templates: env.templates,
        // No abort signal: an aborted command closes the host's shell, and a probe may be queued
        // behind a change's steps, which must finish before the rollback (a probe is read-only and short).
      }),
      probe,
    );
    probe.observed = (mod as TaskModule<unknown>).check(ctx, parsed.data);
    probe.observed.catch(() => undefined); // a failed probe is simply asked again at its turn
    return probe;
  } catch {
    return undefined;
  }
}

/** The probe's context, noting what besides the host it depended on. */
function watched(ctx: ModuleCtx, probe: Probe): ModuleCtx {
  const { vars } = ctx;
  return {
    ...ctx,
    get vars() {
      probe.readVars = true;
      return vars;
    },
    render: (text, where, data) => {
      const out = ctx.render(text, where, data);
      // Templates rendered with the module's own data depend only on the arguments, which are compared anyway.
      if (!data) probe.rendered.push({ text, file: where.file, out });
      return out;
    },
  };
}

/**
 * The probe's answer for this task now, if it can be trusted (see Probe); the probe is used once.
 * `render` renders a template as the task would now.
 */
export async function takeProbe(
  env: ProbeEnv,
  hs: HostState,
  task: Task,
  key: string,
  render: (text: string, file: string | undefined) => string,
): Promise<{ observed: unknown } | undefined> {
  const probe = hs.probing.probes.get(task);
  if (!probe) return undefined;
  hs.probing.probes.delete(task);
  if (probe.changes !== hs.probing.changes) {
    hs.probing.window = Math.floor(hs.probing.window / 4);
    return undefined;
  }
  if (probe.key !== key) return undefined;
  if (pastLimits(env, probe)) return undefined;
  if (probe.readVars && probe.registers !== (env.registered?.count ?? 0)) return undefined;
  try {
    if (probe.rendered.some((r) => render(r.text, r.file) !== r.out)) return undefined;
    return { observed: await probe.observed };
  } catch {
    return undefined;
  }
}
