import PQueue from 'p-queue';
import type { Inventory } from '../inventory/types.js';
import { selectHosts } from '../inventory/select.js';
import type { Play, Playbook, Task } from '../playbook/types.js';
import { Journal } from '../rollback/journal.js';
import { TemplateEngine } from '../template/render.js';
import { batches } from './batch.js';
import { becomeSpec } from './connect.js';
import type { EventBus } from './events.js';
import { ensureConnected, type Connector } from './connect-host.js';
import { ConnectAhead } from './connect-ahead.js';
import { HostState, aheadView, delegateView } from './host-state.js';
import { AHEAD_OF_PLAY_MAX_AGE_MS, probeAhead, type ProbeEnv } from './speculate.js';
import { rollbackHost } from './rollback-host.js';
import { runTask, type TaskEnv } from './run-task.js';
import { runBatch, type BatchExec } from './play-exec.js';
import { taskTree } from './task-tree.js';
import { delegateTarget } from '../playbook/delegate.js';
import { asData } from '../template/render.js';
import { recapOf, exitCodeOf } from './recap.js';
import { runsUnderTags } from './tag-filter.js';
import type { RunOptions, RunSummary, TaskResult } from './types.js';
import { LvsrunError } from '../errors.js';
import { hostVars, inventoryMagic, withoutRunLists } from './vars.js';

export type { Connector };

/**
 * Plays → batches (serial) → tasks (linear or free) → hosts, through one p-queue of `forks`.
 * Only this file imports p-queue.
 */
export async function runPlaybook(
  pb: Playbook,
  inv: Inventory,
  opts: RunOptions,
  connect: Connector,
  bus: EventBus,
): Promise<RunSummary> {
  const started = performance.now();
  const queue = new PQueue({ concurrency: Math.max(1, opts.forks) });
  const journal = new Journal(opts.runDir);
  journal.write({ phase: 'run-start', ...(opts.meta ? { meta: opts.meta } : {}) });
  const templates = new TemplateEngine();
  const magic = inventoryMagic(inv);
  const states = new Map<string, HostState>();
  // Results registered on any host so far: a probe that read variables is stale once this moves.
  const registered = { count: 0 };
  const results: TaskResult[] = [];
  const rolledBack: RunSummary['rolledBack'] = {};
  const limit = opts.limitHosts
    ? new Set(opts.limitHosts)
    : opts.limit
      ? new Set(selectHosts(inv, opts.limit))
      : undefined;
  const state = (h: string): HostState => {
    let s = states.get(h);
    if (!s) {
      s = new HostState(h);
      states.set(h, s);
    }
    return s;
  };
  const record = (r: TaskResult): void => {
    results.push(r);
    bus.emit({ type: 'host:result', result: r });
  };

  const rollback = async (hs: HostState, play: Play): Promise<void> => {
    if (opts.check) return;
    const vars = hostVars({
      inv,
      host: hs.name,
      play,
      playHosts: [],
      registered: {},
      extraVars: opts.extraVars,
      magic,
    });
    // Each undo runs as the user its change ran as (recorded in the journal); the password comes from the inventory.
    const become = (user?: string) => ({
      ...becomeSpec(vars, false, play.becomeUser),
      enabled: user !== undefined,
      user: user ?? play.becomeUser,
    });
    await rollbackHost(hs, become, journal, bus, rolledBack);
  };
  let lastPlay: Play | undefined;
  // A secret-named variable's value as rendered for this host joins the redactor before any task uses it.
  const secretsJoin = (vars: Record<string, unknown>, registered: Record<string, unknown>): Record<string, unknown> => {
    // hostvars and groups repeat the inventory, whose secrets the redactor already holds, and the play's
    // host lists are names (walking them for every task made a 1000-host run quadratic); registered
    // results joined it when they were registered (as data, so never rendered here).
    const own = withoutRunLists(vars);
    for (const k of Object.keys(registered)) delete own[k];
    opts.redactor?.addVars(own, [], (s) => templates.renderValue(s, vars));
    return vars;
  };

  const common = { extraVars: opts.extraVars, magic };
  /** A host's variables as a play's tasks see them. */
  const varsIn =
    (play: Play, playHosts: string[]) =>
    (hs: HostState, task?: Task): Record<string, unknown> =>
      secretsJoin(
        hostVars({ inv, host: hs.name, play, playHosts, task, ...common, registered: hs.registered }),
        hs.registered,
      );
  // Hosts whose first play (or serial batch) comes later connect while the run has forks to spare,
  // and once connected, the first tasks of that play are probed (read-only; checked again at their turn).
  const firstPlay = new Map<string, ProbeEnv & { tasks: Task[] }>();
  // Changes on every host so far, each counted when applied and again when done: an answer asked
  // ahead of its play is void once this moves (also for a change under way when it was asked).
  const changes = { count: 0 };
  // At most the forks the first batch leaves free connect ahead at once, so that the play's own work
  // always finds a fork (p-queue hands a freed fork to the next job before the play asks for it).
  let aheadQueue: PQueue | undefined;
  const ahead = new ConnectAhead(
    connect,
    (fn) => aheadQueue!.add(() => queue.add(fn, { priority: -1, throwOnTimeout: true }), { throwOnTimeout: true }),
    {
      ready: (h, o) => {
        const p = firstPlay.get(h);
        if (!p || !o.transport || opts.signal?.aborted) return;
        const stamp = { at: performance.now() + AHEAD_OF_PLAY_MAX_AGE_MS, runChanges: changes.count };
        probeAhead(p, aheadView(state(h), o.transport), p.tasks, 0, stamp);
      },
      dropped: (h) => {
        state(h).probing.probes.clear();
        state(h).facts.clear();
      },
    },
  );
  const stopAhead = (): void => ahead.stop();
  opts.signal?.addEventListener('abort', stopAhead, { once: true });
  let aheadStarted = false;
  const connectAhead = (now: string[]): void => {
    aheadStarted = true;
    const forks = Math.max(1, opts.forks);
    const spare = forks - now.length;
    if (spare < 1) return;
    aheadQueue = new PQueue({ concurrency: spare });
    const seen = new Set(now);
    for (const play of pb.plays) {
      const hosts = selectHosts(inv, play.hosts).filter((h) => !limit || limit.has(h));
      const vars = varsIn(play, hosts);
      const probing: ProbeEnv & { tasks: Task[] } = {
        play,
        check: opts.check,
        templates,
        // the host's own state, not the view the probes go through
        vars: (hs, task) => vars(state(hs.name), task),
        registered,
        tasks: selectedTasks(play, opts),
      };
      // Only the hosts of a play's first batch are probed ahead, and only when that batch connects in one
      // go (no more hosts than forks): a batch connects whole before its first task, so a later batch's
      // answers, or those of a batch connecting over several rounds of forks (1000 hosts: 12 s), would be
      // past their age limit by their turn and asked again, twice the work on the host for nothing.
      const first = batches(hosts, play.serial)[0] ?? [];
      const firstBatch = new Set(first.length <= forks ? first : []);
      for (const h of hosts) {
        if (seen.has(h)) continue;
        seen.add(h);
        if (firstBatch.has(h)) firstPlay.set(h, probing);
        ahead.start(h, { play: play.name, vars: vars(state(h)), templates, opts });
      }
    }
  };

  let aborted = false;
  const connecting = new Map<string, Promise<void>>();
  const played = new Set<string>();
  /** Per host, the hosts its tasks delegated to (rollback-play puts those back too). */
  const delegatedTo = new Map<string, Set<string>>();
  for (const play of pb.plays) {
    if (aborted || opts.signal?.aborted) break;
    const matched = selectHosts(inv, play.hosts, {
      unknown: (t, hint) =>
        bus.emit({ type: 'warning', msg: `play '${play.name}': no host or group '${t}' (${hint})` }),
    }).filter((h) => !limit || limit.has(h));
    const hosts = matched.filter((h) => state(h).active);
    bus.emit({ type: 'play:start', play: play.name, hosts });
    if (!hosts.length) continue;
    lastPlay = play;
    const tasks = selectedTasks(play, opts);
    const playHosts = hosts;
    const env: TaskEnv = {
      play,
      check: opts.check,
      templates,
      journal,
      ...(opts.signal ? { signal: opts.signal } : {}),
      vars: varsIn(play, playHosts),
      ...(opts.redactor ? { redactor: opts.redactor } : {}),
      ahead: (t) => {
        const i = order.get(t);
        return i === undefined ? [] : tasks.slice(i + 1);
      },
      registered,
      changes,
    };
    // delegate_to: the named inventory host, connected and locked once for the run like any other.
    const delegateTo = async (hs: HostState, task: Task, vars: Record<string, unknown>): Promise<HostState> => {
      const where = { ...task.where, field: 'delegate_to' };
      const value = templates.renderValue(task.delegateTo, vars, where);
      const d = state(delegateTarget(value, (n) => inv.hosts.has(n), where));
      delegatedTo.set(hs.name, (delegatedTo.get(hs.name) ?? new Set()).add(d.name));
      let c = connecting.get(d.name);
      if (!c) {
        c = ensureConnected(d, { play: play.name, vars: env.vars(d), templates, opts, bus, record, ahead }, connect);
        connecting.set(d.name, c);
      }
      await c;
      if (!d.transport) {
        throw new LvsrunError('E_COMMAND', `delegate_to ${d.name}: ${d.unreachable ?? 'no connection'}`, {
          hint: "the task runs over the delegated host's own connection: that host must be reachable",
        });
      }
      // Never change a host whose lock this run does not hold (another run has it).
      if (opts.lock?.enabled && !opts.check && !d.lock) {
        throw new LvsrunError('E_LOCKED', `delegate_to ${d.name}: this run does not hold the host's lock`, {
          hint: `see the lock result of ${d.name} above: another run may hold it`,
        });
      }
      return d;
    };
    const order = new Map(tasks.map((t, i) => [t, i]));
    for (const batch of batches(hosts, play.serial)) {
      if (opts.signal?.aborted) break;
      for (const h of batch) played.add(h);
      const connected = Promise.all(
        batch.map((h) =>
          queue.add(() =>
            ensureConnected(
              state(h),
              { play: play.name, vars: env.vars(state(h)), templates, opts, bus, record, ahead },
              connect,
            ),
          ),
        ),
      );
      if (!aheadStarted) connectAhead(batch);
      await connected;
      const onFail = async (hs: HostState, r: TaskResult): Promise<void> => {
        if (r.status === 'unreachable') return rollback(hs, play); // reported pending: lvsrun rollback finishes it
        if (r.status !== 'failed' || r.ignored) return;
        hs.failed = true;
        if (play.onFailure === 'rollback-host') await rollback(hs, play);
      };
      const strategy = opts.strategy ?? play.strategy ?? 'linear';
      const exec: BatchExec = {
        play,
        linear: strategy === 'linear',
        schedule: (fn) => queue.add(fn, { throwOnTimeout: true }),
        run: (hs, t) => runDelegating(env, hs, t, delegateTo),
        record,
        taskStart: (t, now) =>
          bus.emit({ type: 'task:start', play: play.name, task: t.name, hosts: now.map((s) => s.name) }),
        settle: onFail,
        rescuing: (hs, t, r) => {
          hs.registered.ansible_failed_task = asData({ name: t.name, action: t.moduleKey });
          hs.registered.ansible_failed_result = asData({ ...(r.result ?? {}), failed: true, msg: r.msg ?? '' });
        },
        notify: (hs, names) => {
          for (const n of names) {
            if (!hs.notified.has(n)) journal.write({ phase: 'notify', host: hs.name, task: n });
            hs.notified.add(n);
          }
        },
        stopped: () => aborted || Boolean(opts.signal?.aborted),
        afterTask: () => {
          if (exceeded(play, batch.map(state))) aborted = true;
        },
      };
      // Ansible flushes handlers after pre_tasks, after roles and tasks, and after post_tasks.
      for (const phase of PHASES) {
        const section = tasks.filter((t) => t.phase === phase);
        if (!section.length || aborted || opts.signal?.aborted) continue;
        const live = batch.map(state).filter((s) => s.active);
        const { fatal } = await runBatch(taskTree(section), live, exec);
        if (fatal) {
          // any_errors_fatal: the play ends on every host of the batch; each follows on_failure.
          bus.emit({ type: 'warning', msg: `play '${play.name}': a task with any_errors_fatal failed: stopping` });
          for (const hs of batch.map(state).filter((s) => s.active)) {
            hs.failed = true;
            if (play.onFailure === 'rollback-host') await rollback(hs, play);
          }
          aborted = true;
        }
        await runHandlers(
          play,
          batch.map(state).filter((s) => s.active),
          exec.run,
          queue,
          record,
          opts,
          bus,
          journal,
        );
      }
      const failedInBatch = batch.map(state).filter((s) => s.failed);
      if (failedInBatch.length && play.onFailure === 'rollback-play') {
        for (const hs of batch.map(state)) {
          hs.failed = hs.failed || hs.undoLog.length > 0;
          await rollback(hs, play);
        }
        // The hosts this batch delegated changes to are put back too (all their changes of this run).
        for (const h of batch.flatMap((b) => [...(delegatedTo.get(b) ?? [])])) await rollback(state(h), play);
        aborted = true;
      }
      if (aborted || exceeded(play, batch.map(state))) {
        aborted = true;
        break;
      }
    }
  }
  const interrupted = Boolean(opts.signal?.aborted);
  if (interrupted && lastPlay && lastPlay.onFailure !== 'stop') {
    // An interrupted run counts as failed on every host it touched: put them all back.
    bus.emit({ type: 'warning', msg: 'interrupted: rolling back every host this run changed' });
    const play = lastPlay;
    await Promise.all(
      [...states.values()].filter((hs) => hs.undoLog.length).map((hs) => queue.add(() => rollback(hs, play))),
    );
  }
  opts.signal?.removeEventListener('abort', stopAhead);
  await ahead.close();
  for (const s of states.values()) s.lock?.release();
  const roundTrips: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const s of states.values()) {
    const n = s.transport?.roundTrips?.();
    if (n !== undefined) roundTrips[s.name] = n;
  }
  const closing = [...states.values()].flatMap((s) =>
    s.transport ? [s.transport.close().catch(() => undefined)] : [],
  );
  await Promise.all(closing);
  // A host only delegated to is not one the run played: it shows in the recap only if something happened there.
  const shown = new Map(
    [...states].filter(([h]) => played.has(h) || Object.hasOwn(rolledBack, h) || results.some((r) => r.host === h)),
  );
  const recap = recapOf(results, shown, rolledBack);
  const summary: RunSummary = {
    runId: opts.runId,
    check: opts.check,
    recap,
    results,
    rolledBack,
    durationMs: performance.now() - started,
    exitCode: 0,
    ...(interrupted ? { interrupted } : {}),
    ...(Object.keys(roundTrips).length ? { roundTrips } : {}),
  };
  summary.exitCode = exitCodeOf(summary);
  const failedHosts = Object.entries(recap)
    .filter(([, c]) => c.failed > 0 || c.unreachable > 0)
    .map(([h]) => h);
  journal.write({
    phase: 'run-end',
    outcome: interrupted ? 'interrupted' : String(summary.exitCode),
    ...(failedHosts.length ? { failedHosts } : {}),
  });
  await journal.close();
  bus.emit({ type: 'run:end', summary });
  return summary;
}

const PHASES = ['pre', undefined, 'post'] as const;

/** Runs a task; with delegate_to, each item over the delegated host's connection (`to`). */
async function runDelegating(
  env: TaskEnv,
  hs: HostState,
  task: Task,
  to: (hs: HostState, task: Task, vars: Record<string, unknown>) => Promise<HostState>,
): Promise<TaskResult> {
  if (task.delegateTo === undefined) return runTask(env, hs, task);
  const used: string[] = [];
  const target = async (h: HostState, t: Task, v: Record<string, unknown>): Promise<HostState> => {
    const d = await to(h, t, v);
    if (!used.includes(d.name)) used.push(d.name);
    return delegateView(h, d);
  };
  const r = await runTask({ ...env, target }, hs, task);
  return used.length ? { ...r, delegatedTo: used } : r;
}

async function runHandlers(
  play: Play,
  hosts: HostState[],
  run: (hs: HostState, t: Task) => Promise<TaskResult>,
  queue: PQueue,
  record: (r: TaskResult) => void,
  opts: RunOptions,
  bus: EventBus,
  journal: Journal,
): Promise<void> {
  for (const h of play.handlers) {
    const names = h.listen ?? [h.name];
    const who = hosts.filter((hs) => hs.active && names.some((n) => hs.notified.has(n)));
    if (!who.length || opts.signal?.aborted) continue;
    bus.emit({ type: 'task:start', play: play.name, task: `handler: ${h.name}`, hosts: who.map((s) => s.name) });
    const settle = (hs: HostState, r: TaskResult): void => {
      if (r.status === 'failed' && !r.ignored) hs.failed = true;
      else for (const n of names) if (hs.notified.has(n)) journal.write({ phase: 'handler', host: hs.name, task: n });
    };
    // run_once: the first notified host runs the handler for all of them.
    const runOn = h.runOnce ? who.slice(0, 1) : who;
    const done = await Promise.all(
      runOn.map((hs) =>
        queue.add(
          async () => {
            const r = await run(hs, h);
            record(r);
            return r;
          },
          { throwOnTimeout: true },
        ),
      ),
    );
    for (const hs of who) settle(hs, done[h.runOnce ? 0 : who.indexOf(hs)]!);
  }
  for (const hs of hosts) hs.notified.clear();
}

function exceeded(play: Play, batch: HostState[]): boolean {
  const failed = batch.filter((s) => s.failed || s.unreachable).length;
  if (!failed) return false;
  if (failed === batch.length) return false; // nothing left to run in this batch; later batches still go
  if (play.maxFailPercentage === undefined) return false;
  return (failed / batch.length) * 100 > play.maxFailPercentage;
}

function tagged(t: Task, play: Play, opts: RunOptions): boolean {
  return runsUnderTags([...new Set([...t.tags, ...play.tags])], opts.tags, opts.skipTags);
}

/**
 * The play's tasks that --tags and --skip-tags select: an included task only when its include_tasks is
 * selected too (an include is dynamic: its own tags decide whether its tasks exist at all).
 */
function selectedTasks(play: Play, opts: RunOptions): Task[] {
  const tasks = play.tasks.filter((t) => tagged(t, play, opts));
  const includes = new Set(tasks.flatMap((t) => (t.includeId === undefined ? [] : [t.includeId])));
  return tasks.filter((t) => !t.within || t.within.every((id) => includes.has(id)));
}
