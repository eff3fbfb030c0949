import { LvsrunError, TransportError } from '../errors.js';
import { lookupModule } from '../modules/registry.js';
import { isControllerModule, type AnyTaskModule } from '../modules/types.js';
import type { Plan } from '../change/types.js';
import type { Play, Task } from '../playbook/types.js';
import { evalCondition } from '../playbook/when.js';
import { journalsNoUndo } from '../rollback/apply.js';
import type { Journal } from '../rollback/journal.js';
import { asData, type TemplateEngine } from '../template/render.js';
import { becomeSpec } from './connect.js';
import type { HostState } from './host-state.js';
import { runModule } from './module-run.js';
import { changed, probeAhead, probeKey, stepsSent, takeProbe, widenProbes } from './speculate.js';
import { loopItems, parseTaskArgs, withItem } from './task-args.js';
import type { Redactor } from '../text/redact.js';
import type { TaskResult } from './types.js';

export interface TaskEnv {
  play: Play;
  check: boolean;
  templates: TemplateEngine;
  journal: Journal;
  signal?: AbortSignal;
  vars: (hs: HostState, task?: Task) => Record<string, unknown>;
  /** Output's live redactor: what a `no_log` task registers joins it. */
  redactor?: Redactor;
  /** delegate_to: the host an item runs on, over that host's connection (default: the host itself). */
  target?: (hs: HostState, task: Task, vars: Record<string, unknown>) => Promise<HostState>;
  /** The tasks after this one in the play, whose probes may be sent with this task's (engine/speculate.ts). */
  ahead?: (task: Task) => readonly Task[];
  /** Results registered so far on every host of the run: one counter the whole run shares. */
  registered?: { count: number };
  /**
   * Changes on every host of the run so far, each counted when applied and again when its steps are
   * done: one counter the whole run shares (a probe sent ahead of its play is void once it moves).
   */
  changes?: { count: number };
}

interface ItemOutcome {
  status: TaskResult['status'];
  msg?: string;
  plan?: Plan;
  result: Record<string, unknown>;
  error?: LvsrunError;
  irreversible?: boolean;
}

/** Whether the task only plans: --check, unless the task says otherwise (Ansible's check_mode). */
const checking = (env: TaskEnv, task: Task): boolean => task.checkMode ?? env.check;

/** Run one task on one host: when → loop → render → parse → check → plan → (journal, apply) → register. */
export async function runTask(env: TaskEnv, hs: HostState, task: Task): Promise<TaskResult> {
  const started = performance.now();
  const base = { play: env.play.name, task: task.name, host: hs.name };
  const vars = env.vars(hs, task);
  const where = task.where;
  if (task.includeId !== undefined) return include(hs, task, vars, base, started);
  const mod = lookupModule(task.module)!;
  try {
    const items = loopItems(task, vars, env.templates);
    const outcomes: ItemOutcome[] = [];
    for (const item of items ?? [undefined]) {
      const v = items ? withItem(task, vars, item) : vars;
      if (!evalCondition(task.when, v, { ...where, field: 'when' })) {
        outcomes.push({ status: 'skipped', result: { skipped: true, changed: false } });
        continue;
      }
      const o = await runItem(env, hs, task, mod, v);
      outcomes.push(o);
      if (o.status === 'failed') break;
    }
    return finish(env, hs, task, base, vars, outcomes, items, started);
  } catch (e) {
    if (e instanceof TransportError) {
      // The connection went away mid-task: the host leaves the play; its changes stay journaled.
      hs.unreachable = e.message;
      return { ...base, status: 'unreachable', msg: e.format(), error: e, durationMs: performance.now() - started };
    }
    const error = e instanceof LvsrunError ? e : new LvsrunError('E_COMMAND', (e as Error).message);
    if (task.register) {
      hs.registered[task.register] = asData({ failed: true, changed: false, msg: error.message });
      if (env.registered) env.registered.count++;
    }
    if (task.noLog) env.redactor?.addValue(error.message);
    return {
      ...base,
      status: 'failed',
      msg: error.message,
      error,
      durationMs: performance.now() - started,
      ...(task.ignoreErrors ? { ignored: true } : {}),
    };
  }
}

/** include_tasks: ok (the host takes the included tasks) or skipped, by its `when`. */
function include(
  hs: HostState,
  task: Task,
  vars: Record<string, unknown>,
  base: Pick<TaskResult, 'play' | 'task' | 'host'>,
  started: number,
): TaskResult {
  const file = (task.args as { file: string }).file;
  try {
    if (!evalCondition(task.when, vars, { ...task.where, field: 'when' })) {
      return { ...base, status: 'skipped', result: { skipped: true, changed: false }, durationMs: 0 };
    }
  } catch (e) {
    const error = e instanceof LvsrunError ? e : new LvsrunError('E_COMMAND', (e as Error).message);
    return { ...base, status: 'failed', msg: error.message, error, durationMs: performance.now() - started };
  }
  hs.included.add(task.includeId!);
  return {
    ...base,
    status: 'ok',
    msg: `included ${file}`,
    result: { changed: false, include: file },
    durationMs: performance.now() - started,
  };
}

async function runItem(
  env: TaskEnv,
  hs: HostState,
  task: Task,
  mod: AnyTaskModule,
  vars: Record<string, unknown>,
): Promise<ItemOutcome> {
  const parsed = parseTaskArgs(mod, task, vars, env.templates);
  if (!parsed.ok)
    return {
      status: 'failed',
      msg: `${mod.name}: ${parsed.path || 'arguments'}: ${parsed.message}`,
      result: { failed: true },
    };
  const p = parsed.data;
  if (isControllerModule(mod)) {
    const holds = (cond: string, field: string): boolean => evalCondition(cond, vars, { ...task.where, field });
    const o = mod.controller(p, { vars, holds });
    return { status: o.failed ? 'failed' : 'ok', msg: o.msg, result: o.result };
  }
  const on = env.target ? await env.target(hs, task, vars) : hs;
  const become = becomeSpec(vars, env.play.become, env.play.becomeUser, task);
  const check = checking(env, task);
  const ctx = {
    hs: on,
    vars,
    check,
    become,
    baseDirs: task.baseDirs,
    templates: env.templates,
    ...(env.signal ? { signal: env.signal } : {}),
  };
  // Probes are sent for the host's own tasks only: a delegated task looks at the other host at its turn.
  const own = on === hs;
  const early = own
    ? await takeProbe(env, hs, task, probeKey(p, become, check), (text, file) =>
        env.templates.renderString(text, vars, { file }),
      )
    : undefined;
  // A change between its journal record and its steps' writing: probes sent meanwhile could run before it.
  let unsent = false;
  let applied = false;
  const run = await runModule(
    mod,
    p,
    ctx,
    {
      journal: env.journal,
      task: task.name,
      onBegin: (e) => on.undoLog.push(e),
      onUnapplied: (e) => on.undoLog.splice(on.undoLog.indexOf(e), 1),
      // Whatever happens next, probes sent before this point may describe the old state.
      onApply: () => {
        changed(on.probing);
        unsent = true;
        applied = true;
        if (env.changes) env.changes.count++;
      },
      // Probes sent behind the steps see the state they leave: a converge's next task is probed in
      // the same round trip as this one's change.
      onSent: () => {
        unsent = false;
        stepsSent(on.probing);
        if (own && !env.check && env.ahead && hs.transport) probeAhead(env, hs, env.ahead(task), 1);
      },
    },
    {
      ...(early ? { observed: early.observed } : {}),
      // Send the probes of the tasks ahead now, behind this one: they come back in the same round trip.
      checking: () => {
        if (own && env.ahead && hs.transport) probeAhead(env, hs, env.ahead(task));
      },
    },
  ).finally(() => {
    if (unsent) stepsSent(on.probing); // the steps never went (a journal or transport failure)
    // The change is done, or failed: answers asked ahead of a play while it was under way are void.
    if (applied && env.changes) env.changes.count++;
  });
  const { plan } = run;
  if (plan.action === 'noop') {
    widenProbes(hs);
    // Nothing to change here: the next tasks' probes go now (the host is idle until they come back).
    if (own && env.ahead && hs.transport) probeAhead(env, hs, env.ahead(task));
  }
  if (run.kind === 'failed') return { status: 'failed', msg: run.msg, plan, result: { failed: true, msg: run.msg } };
  const changes = plan.action !== 'noop';
  if (run.kind === 'planned') {
    // Commands cannot be previewed: like Ansible, check mode skips them.
    if (plan.action === 'run')
      return { status: 'skipped', msg: 'skipped in check mode', plan, result: { skipped: true, changed: false } };
    if (plan.checkOnly)
      return {
        status: 'changed',
        plan,
        msg: `${plan.summary} (a real run would fail: ${plan.checkOnly})`,
        result: { changed: true },
      };
    return {
      status: changes ? 'changed' : 'ok',
      plan,
      msg: plan.summary,
      result: { changed: changes, ...(plan.result ?? {}) },
    };
  }
  const result = {
    changed: changes,
    failed: false,
    ...(mod.result ? mod.result(p, run.observed, plan, run.results) : (plan.result ?? {})),
  };
  const failed = Boolean(result.failed);
  return {
    status: failed ? 'failed' : changes ? 'changed' : 'ok',
    plan,
    result,
    msg: failed ? commandMsg(result) : plan.summary,
    ...(plan.irreversible ? { irreversible: true } : {}),
  };
}

function commandMsg(r: Record<string, unknown>): string {
  const err = String(r.stderr ?? '').trim() || String(r.stdout ?? '').trim();
  return `non-zero return code ${String(r.rc)}${err ? `: ${err.split('\n').slice(-3).join(' | ')}` : ''}`;
}

function finish(
  env: TaskEnv,
  hs: HostState,
  task: Task,
  base: Pick<TaskResult, 'play' | 'task' | 'host'>,
  vars: Record<string, unknown>,
  outcomes: ItemOutcome[],
  items: unknown[] | undefined,
  started: number,
): TaskResult {
  // changed_when / failed_when see the registered result under its name and as `result`.
  for (const o of outcomes) {
    if (o.status === 'skipped') continue;
    const v = { ...vars, ...(task.register ? { [task.register]: o.result } : {}), result: o.result };
    if (task.changedWhen !== undefined) {
      const c = evalCondition(task.changedWhen, v, { ...task.where, field: 'changed_when' });
      o.result.changed = c;
      if (o.status !== 'failed') o.status = c ? 'changed' : 'ok';
    }
    if (task.failedWhen !== undefined) {
      const f = evalCondition(task.failedWhen, v, { ...task.where, field: 'failed_when' });
      o.result.failed = f;
      o.status = f ? 'failed' : o.result.changed ? 'changed' : 'ok';
      if (!f) o.msg = o.plan?.summary ?? o.msg;
      else if (!o.msg || o.plan?.summary === o.msg) o.msg = `failed_when matched: ${String(task.failedWhen)}`;
    }
  }
  for (const o of outcomes) {
    // A step without an undo was journaled as such before it ran; one that changed nothing is taken off that record.
    const p = o.plan;
    if (p && journalsNoUndo(p) && !checking(env, task) && o.status !== 'skipped' && o.result.changed === false) {
      env.journal.write({ phase: 'unchanged', host: hs.name, task: task.name });
    }
  }
  const statuses = outcomes.map((o) => o.status);
  const status: TaskResult['status'] = statuses.includes('failed')
    ? 'failed'
    : statuses.includes('changed')
      ? 'changed'
      : statuses.every((s) => s === 'skipped')
        ? 'skipped'
        : 'ok';
  const reg = items
    ? {
        results: outcomes.map((o, i) => ({ ...o.result, item: items[i] })),
        changed: status === 'changed',
        failed: status === 'failed',
        skipped: status === 'skipped',
      }
    : { ...outcomes[0]!.result, ...(status === 'skipped' ? { skipped: true } : {}) };
  if (task.register) {
    hs.registered[task.register] = asData(reg);
    if (env.registered) env.registered.count++;
    // Secret-named values in what a host returned join the redactor once, as data: never rendered.
    env.redactor?.addVars({ [task.register]: reg });
  }
  // no_log: what the task returned is secret wherever it shows up later (`debug: var:`, a template).
  if (task.noLog) env.redactor?.addValue(reg);
  if (status === 'changed') {
    for (const n of task.notify) {
      if (!hs.notified.has(n)) env.journal.write({ phase: 'notify', host: hs.name, task: n });
      hs.notified.add(n);
    }
  }
  const failedO = outcomes.find((o) => o.status === 'failed');
  const diff = outcomes.flatMap((o) => o.plan?.diff ?? []);
  // no_log: the task's output and diffs stay out of every report.
  const msg = task.noLog
    ? 'the output has been hidden due to no_log: true'
    : (failedO?.msg ??
      outcomes
        .map((o) => o.msg)
        .filter(Boolean)
        .join('; '));
  return {
    ...base,
    status,
    msg,
    ...(diff.length && status !== 'ok' && !task.noLog ? { diff } : {}),
    ...(outcomes.some((o) => o.irreversible) ? { irreversible: true } : {}),
    ...(status === 'failed' && task.ignoreErrors ? { ignored: true } : {}),
    result: reg,
    durationMs: performance.now() - started,
  };
}
