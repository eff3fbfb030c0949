import PQueue from 'p-queue';
import { LvsrunError, TransportError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { selectHosts } from '../inventory/select.js';
import type { Play, Playbook, Task } from '../playbook/types.js';
import { Journal } from '../rollback/journal.js';
import { replayUndo } from '../rollback/replay.js';
import { TemplateEngine } from '../template/render.js';
import type { Transport } from '../transport/types.js';
import { batches } from './batch.js';
import { becomeSpec } from './connect.js';
import type { EventBus } from './events.js';
import { execOpts, HostState } from './host-state.js';
import { runTask, type TaskEnv } from './run-task.js';
import { recapOf, exitCodeOf } from './recap.js';
import type { RunOptions, RunSummary, TaskResult } from './types.js';
import { hostVars, inventoryMagic } from './vars.js';

export type Connector = (host: string, vars: Record<string, unknown>) => Promise<Transport>;

/** Plays → batches (serial) → tasks (linear or free) → hosts, through one p-queue of `forks`. Only this file imports p-queue. */
export async function runPlaybook(pb: Playbook, inv: Inventory, opts: RunOptions, connect: Connector, bus: EventBus): Promise<RunSummary> {
  const started = performance.now();
  const queue = new PQueue({ concurrency: Math.max(1, opts.forks) });
  const journal = new Journal(opts.runDir);
  journal.write({ phase: 'run-start', outcome: JSON.stringify({ check: opts.check }) });
  const templates = new TemplateEngine();
  const magic = inventoryMagic(inv);
  const states = new Map<string, HostState>();
  const results: TaskResult[] = [];
  const rolledBack: RunSummary['rolledBack'] = {};
  const limit = opts.limit ? new Set(selectHosts(inv, opts.limit)) : undefined;
  const state = (h: string): HostState => {
    let s = states.get(h);
    if (!s) { s = new HostState(h); states.set(h, s); }
    return s;
  };
  const record = (r: TaskResult): void => { results.push(r); bus.emit({ type: 'host:result', result: r }); };

  const rollback = async (hs: HostState, play: Play): Promise<void> => {
    if (hs.rolledBack || !hs.undoLog.length || !hs.transport || opts.check) return;
    hs.rolledBack = true;
    bus.emit({ type: 'rollback:start', host: hs.name, steps: hs.undoLog.reduce((n, e) => n + e.undo.length, 0) });
    const vars = hostVars({ inv, host: hs.name, play, playHosts: [], registered: {}, extraVars: opts.extraVars, magic });
    const out = await replayUndo(hs.transport, hs.undoLog, journal, execOpts(becomeSpec(vars, play.become, play.becomeUser)));
    hs.undoLog.length = 0;
    rolledBack[hs.name] = out;
    bus.emit({ type: 'rollback:done', host: hs.name, ok: out.ok, ...(out.error ? { error: out.error } : {}) });
  };

  let aborted = false;
  for (const play of pb.plays) {
    if (aborted || opts.signal?.aborted) break;
    const matched = selectHosts(inv, play.hosts, { unknown: (t, hint) => bus.emit({ type: 'warning', msg: `play '${play.name}': no host or group '${t}' (${hint})` }) })
      .filter((h) => !limit || limit.has(h));
    const hosts = matched.filter((h) => state(h).active);
    bus.emit({ type: 'play:start', play: play.name, hosts });
    if (!hosts.length) continue;
    const tasks = play.tasks.filter((t) => tagged(t, play, opts));
    const playHosts = hosts;
    const env: TaskEnv = {
      play, check: opts.check, templates, journal, ...(opts.signal ? { signal: opts.signal } : {}),
      vars: (hs, task) => hostVars({ inv, host: hs.name, play, playHosts, task, registered: hs.registered, extraVars: opts.extraVars, magic }),
    };
    for (const batch of batches(hosts, play.serial)) {
      if (opts.signal?.aborted) break;
      await Promise.all(batch.map((h) => queue.add(() => ensureConnected(state(h), env, connect, bus, record))));
      const live = (): HostState[] => batch.map(state).filter((s) => s.active);
      const onFail = async (hs: HostState, r: TaskResult): Promise<void> => {
        if (r.status !== 'failed' || r.ignored) return;
        hs.failed = true;
        if (play.onFailure === 'rollback-host') await rollback(hs, play);
      };
      const strategy = opts.strategy ?? play.strategy ?? 'linear';
      if (strategy === 'free') {
        await Promise.all(live().map((hs) => queue.add(async () => {
          for (const t of tasks) {
            if (!hs.active || opts.signal?.aborted) return;
            const r = await runTask(env, hs, t);
            record(r);
            await onFail(hs, r);
          }
        })));
      } else {
        for (const t of tasks) {
          const now = live();
          if (!now.length || opts.signal?.aborted) break;
          bus.emit({ type: 'task:start', play: play.name, task: t.name, hosts: now.map((s) => s.name) });
          await Promise.all(now.map((hs) => queue.add(async () => {
            const r = await runTask(env, hs, t);
            record(r);
            await onFail(hs, r);
          })));
          if (exceeded(play, batch.map(state))) { aborted = true; break; }
        }
      }
      await runHandlers(play, batch.map(state).filter((s) => s.active), env, queue, record, opts, bus);
      const failedInBatch = batch.map(state).filter((s) => s.failed);
      if (failedInBatch.length && play.onFailure === 'rollback-play') {
        for (const hs of batch.map(state)) { hs.failed = hs.failed || hs.undoLog.length > 0; await rollback(hs, play); }
        aborted = true;
      }
      if (aborted || exceeded(play, batch.map(state))) { aborted = true; break; }
    }
  }
  await Promise.all([...states.values()].map((s) => s.transport?.close().catch(() => undefined)));
  const recap = recapOf(results, states, rolledBack);
  const summary: RunSummary = { runId: opts.runId, check: opts.check, recap, results, rolledBack, durationMs: performance.now() - started, exitCode: 0 };
  summary.exitCode = exitCodeOf(summary);
  journal.write({ phase: 'run-end', outcome: String(summary.exitCode) });
  journal.close();
  bus.emit({ type: 'run:end', summary });
  return summary;
}

async function ensureConnected(hs: HostState, env: TaskEnv, connect: Connector, bus: EventBus, record: (r: TaskResult) => void): Promise<void> {
  if (hs.transport || hs.unreachable) return;
  try {
    hs.transport = await connect(hs.name, env.vars(hs));
  } catch (e) {
    const msg = e instanceof LvsrunError ? e.format() : (e as Error).message;
    hs.unreachable = msg;
    bus.emit({ type: 'host:unreachable', host: hs.name, msg });
    record({ play: env.play.name, task: 'connect', host: hs.name, status: 'unreachable', msg, durationMs: 0, ...(e instanceof TransportError ? { error: e } : {}) });
  }
}

async function runHandlers(play: Play, hosts: HostState[], env: TaskEnv, queue: PQueue, record: (r: TaskResult) => void, opts: RunOptions, bus: EventBus): Promise<void> {
  for (const h of play.handlers) {
    const names = h.listen ?? [h.name];
    const who = hosts.filter((hs) => hs.active && names.some((n) => hs.notified.has(n)));
    if (!who.length || opts.signal?.aborted) continue;
    bus.emit({ type: 'task:start', play: play.name, task: `handler: ${h.name}`, hosts: who.map((s) => s.name) });
    await Promise.all(who.map((hs) => queue.add(async () => {
      const r = await runTask(env, hs, h);
      record(r);
      if (r.status === 'failed' && !r.ignored) hs.failed = true;
    })));
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
