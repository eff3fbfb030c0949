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
import { HostState } from './host-state.js';
import { rollbackHost } from './rollback-host.js';
import { runTask, type TaskEnv } from './run-task.js';
import { recapOf, exitCodeOf } from './recap.js';
import type { RunOptions, RunSummary, TaskResult } from './types.js';
import { hostVars, inventoryMagic } from './vars.js';

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
    // hostvars and groups repeat the inventory, whose secrets the redactor already holds; registered results
    // joined it when they were registered (as data, so never rendered here).
    const { hostvars: _h, groups: _g, ...own } = vars;
    for (const k of Object.keys(registered)) delete own[k];
    opts.redactor?.addVars(own, [], (s) => templates.renderValue(s, vars));
    return vars;
  };

  let aborted = false;
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
    const tasks = play.tasks.filter((t) => tagged(t, play, opts));
    const playHosts = hosts;
    const env: TaskEnv = {
      play,
      check: opts.check,
      templates,
      journal,
      ...(opts.signal ? { signal: opts.signal } : {}),
      vars: (hs, task) =>
        secretsJoin(
          hostVars({
            inv,
            host: hs.name,
            play,
            playHosts,
            task,
            registered: hs.registered,
            extraVars: opts.extraVars,
            magic,
          }),
          hs.registered,
        ),
      ...(opts.redactor ? { redactor: opts.redactor } : {}),
      ahead: (t) => {
        const i = order.get(t);
        return i === undefined ? [] : tasks.slice(i + 1);
      },
      registers: () => [...states.values()].reduce((n, s) => n + s.registers, 0),
    };
    const order = new Map(tasks.map((t, i) => [t, i]));
    for (const batch of batches(hosts, play.serial)) {
      if (opts.signal?.aborted) break;
      await Promise.all(
        batch.map((h) =>
          queue.add(() =>
            ensureConnected(
              state(h),
              { play: play.name, vars: env.vars(state(h)), templates, opts, bus, record },
              connect,
            ),
          ),
        ),
      );
      const live = (): HostState[] => batch.map(state).filter((s) => s.active);
      const onFail = async (hs: HostState, r: TaskResult): Promise<void> => {
        if (r.status === 'unreachable') return rollback(hs, play); // reported pending: lvsrun rollback finishes it
        if (r.status !== 'failed' || r.ignored) return;
        hs.failed = true;
        if (play.onFailure === 'rollback-host') await rollback(hs, play);
      };
      const strategy = opts.strategy ?? play.strategy ?? 'linear';
      if (strategy === 'free') {
        await Promise.all(
          live().map((hs) =>
            queue.add(async () => {
              for (const t of tasks) {
                if (!hs.active || opts.signal?.aborted) return;
                const r = await runTask(env, hs, t);
                record(r);
                await onFail(hs, r);
              }
            }),
          ),
        );
      } else {
        for (const t of tasks) {
          const now = live();
          if (!now.length || opts.signal?.aborted) break;
          bus.emit({ type: 'task:start', play: play.name, task: t.name, hosts: now.map((s) => s.name) });
          await Promise.all(
            now.map((hs) =>
              queue.add(async () => {
                const r = await runTask(env, hs, t);
                record(r);
                await onFail(hs, r);
              }),
            ),
          );
          if (exceeded(play, batch.map(state))) {
            aborted = true;
            break;
          }
        }
      }
      await runHandlers(
        play,
        batch.map(state).filter((s) => s.active),
        env,
        queue,
        record,
        opts,
        bus,
        journal,
      );
      const failedInBatch = batch.map(state).filter((s) => s.failed);
      if (failedInBatch.length && play.onFailure === 'rollback-play') {
        for (const hs of batch.map(state)) {
          hs.failed = hs.failed || hs.undoLog.length > 0;
          await rollback(hs, play);
        }
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
  const recap = recapOf(results, states, rolledBack);
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

async function runHandlers(
  play: Play,
  hosts: HostState[],
  env: TaskEnv,
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
    await Promise.all(
      who.map((hs) =>
        queue.add(async () => {
          const r = await runTask(env, hs, h);
          record(r);
          if (r.status === 'failed' && !r.ignored) hs.failed = true;
          else
            for (const n of names) if (hs.notified.has(n)) journal.write({ phase: 'handler', host: hs.name, task: n });
        }),
      ),
    );
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
  const tags = new Set([...t.tags, ...play.tags]);
  if (tags.has('always')) return !opts.skipTags.includes('always');
  if (opts.tags.length && !opts.tags.some((x) => tags.has(x) || x === 'all')) return false;
  if (opts.skipTags.some((x) => tags.has(x))) return false;
  if (tags.has('never') && !opts.tags.some((x) => tags.has(x))) return false;
  return true;
}
