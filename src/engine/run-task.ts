import { LvsrunError, TransportError } from '../errors.js';
import { lookupModule } from '../modules/registry.js';
import type { Plan, TaskModule } from '../modules/types.js';
import type { Play, Task } from '../playbook/types.js';
import { evalCondition } from '../playbook/when.js';
import { applyJournaled, journalsNoUndo } from '../rollback/apply.js';
import type { Journal } from '../rollback/journal.js';
import { MISSING, ownData } from '../template/own-data.js';
import { asData, type TemplateEngine } from '../template/render.js';
import type { ExecResult } from '../transport/types.js';
import { becomeSpec, type BecomeSpec } from './connect.js';
import { makeCtx, type HostState } from './host-state.js';
import { loopItems, parseTaskArgs, withItem } from './task-args.js';
import type { Redactor } from '../report/redact.js';
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
}

interface ItemOutcome {
  status: TaskResult['status'];
  msg?: string;
  plan?: Plan;
  result: Record<string, unknown>;
  error?: LvsrunError;
  irreversible?: boolean;
}

/** Run one task on one host: when → loop → render → parse → check → plan → (journal, apply) → register. */
export async function runTask(env: TaskEnv, hs: HostState, task: Task): Promise<TaskResult> {
  const started = performance.now();
  const base = { play: env.play.name, task: task.name, host: hs.name };
  const vars = env.vars(hs, task);
  const where = task.where;
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
    if (task.register) hs.registered[task.register] = asData({ failed: true, changed: false, msg: error.message });
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

async function runItem(
  env: TaskEnv,
  hs: HostState,
  task: Task,
  mod: TaskModule,
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
  if (mod.name === 'assert') return assertOutcome(p as { that: string[]; fail_msg?: string; msg?: string }, vars, task);
  if (mod.name === 'debug') {
    const d = p as { msg?: unknown; var?: string };
    const named = d.var === undefined ? undefined : ownData(vars, d.var);
    const msg =
      d.var !== undefined
        ? JSON.stringify(named === MISSING ? undefined : named)
        : typeof d.msg === 'string'
          ? d.msg
          : JSON.stringify(d.msg ?? 'Hello world!');
    return { status: 'ok', msg, result: { msg } };
  }
  const on = env.target ? await env.target(hs, task, vars) : hs;
  const become = becomeSpec(vars, env.play.become, env.play.becomeUser, task);
  const execLog: ExecResult[] = [];
  const ctx = makeCtx({
    hs: on,
    vars,
    check: env.check,
    become,
    baseDirs: task.baseDirs,
    templates: env.templates,
    execLog,
    ...(env.signal ? { signal: env.signal } : {}),
  });
  const observed = await mod.check(ctx, p);
  const plan = mod.plan(p, observed);
  if (plan.fail) return { status: 'failed', msg: plan.fail, plan, result: { failed: true, msg: plan.fail } };
  if (plan.checkOnly && !env.check)
    return { status: 'failed', msg: plan.checkOnly, plan, result: { failed: true, msg: plan.checkOnly } };
  const changes = plan.action !== 'noop';
  if (env.check) {
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
  const stepResults = await applyPlan(env, on, task, plan, become);
  const result = {
    changed: changes,
    failed: false,
    ...(mod.result ? mod.result(p, observed, plan, stepResults) : (plan.result ?? {})),
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

/** Journal the undo (write-ahead), run the steps, mark done; the entry joins the host's undo log. */
function applyPlan(env: TaskEnv, hs: HostState, task: Task, plan: Plan, become: BecomeSpec): Promise<ExecResult[]> {
  return applyJournaled(
    env.journal,
    hs.transport!,
    task.name,
    plan,
    become,
    (e) => hs.undoLog.push(e),
    (e) => hs.undoLog.splice(hs.undoLog.indexOf(e), 1),
  );
}

function assertOutcome(
  p: { that: string[]; fail_msg?: string; msg?: string },
  vars: Record<string, unknown>,
  task: Task,
): ItemOutcome {
  for (const cond of p.that) {
    if (!evalCondition(cond, vars, { ...task.where, field: 'assert.that' })) {
      const msg = p.fail_msg ?? p.msg ?? `Assertion failed: ${cond}`;
      return { status: 'failed', msg, result: { failed: true, assertion: cond, msg } };
    }
  }
  return { status: 'ok', msg: 'All assertions passed', result: { msg: 'All assertions passed' } };
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
    if (p && journalsNoUndo(p) && !env.check && o.status !== 'skipped' && o.result.changed === false) {
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
