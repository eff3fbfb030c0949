import { createHash } from 'node:crypto';
import { ConfigError, LvsrunError, TransportError } from '../errors.js';
import type { TemplateEngine } from '../template/render.js';
import type { Transport } from '../transport/types.js';
import type { EventBus } from './events.js';
import { lockFileOf, lockHost, type HostLock } from './host-lock.js';
import type { HostState } from './host-state.js';
import type { RunOptions, TaskResult } from './types.js';
import { withoutRunLists } from './vars.js';

export type Connector = (host: string, vars: Record<string, unknown>) => Promise<Transport>;

export interface ConnectEnv {
  play: string;
  vars: Record<string, unknown>;
  templates: TemplateEngine;
  opts: RunOptions;
  bus: EventBus;
  record: (r: TaskResult) => void;
  /** Connections opened ahead of the host's first play (engine/connect-ahead.ts). */
  ahead?: { take(host: string, env: TakeEnv): Promise<Opened | undefined> | undefined };
}

/** What connecting to a host and taking its lock gave, kept apart from the host's state until it plays. */
export interface Opened {
  transport?: Transport;
  lock?: HostLock;
  /** The connect or lock result to record when the host is taken into the run (none when all went well). */
  result?: TaskResult;
  /** Why the host could not be reached (also in `result`). */
  unreachable?: string;
}

/** Connect and take the host lock, without touching the host's state or the run's results. */
export async function openHost(
  name: string,
  env: Omit<ConnectEnv, 'record' | 'bus' | 'ahead'>,
  connect: Connector,
): Promise<Opened> {
  const base = { play: env.play, task: 'connect', host: name, durationMs: 0 };
  let transport: Transport;
  try {
    transport = await connect(name, env.vars);
  } catch (e) {
    // A connection variable that cannot work is the inventory's fault, not the host's.
    if (e instanceof ConfigError) return { result: { ...base, status: 'failed', msg: e.format(), error: e } };
    const msg = e instanceof LvsrunError ? e.format() : (e as Error).message;
    return {
      unreachable: msg,
      result: { ...base, status: 'unreachable', msg, ...(e instanceof TransportError ? { error: e } : {}) },
    };
  }
  // The shell opens while the lock is taken: both cost a channel open, and they share the round trips.
  transport.warm?.();
  const lock = env.opts.lock;
  if (!lock?.enabled || env.opts.check) return { transport };
  try {
    return {
      transport,
      lock: await lockHost(transport, env.vars, env.templates, env.opts.runId, lock.operator, lock.breakLock),
    };
  } catch (e) {
    const error = e instanceof LvsrunError ? e : new LvsrunError('E_LOCKED', (e as Error).message);
    return { transport, result: { ...base, task: 'lock', status: 'failed', msg: error.format(), error } };
  }
}

/** Take what `openHost` gave into the host's state: its connection, its lock, and the result if it failed. */
export function adoptOpened(hs: HostState, o: Opened, env: Pick<ConnectEnv, 'bus' | 'record'>): void {
  if (o.transport) hs.transport = o.transport;
  if (o.lock) {
    hs.lock = o.lock;
    if (o.lock.warning) env.bus.emit({ type: 'warning', msg: `${hs.name}: ${o.lock.warning}` });
  }
  if (o.unreachable !== undefined) {
    hs.unreachable = o.unreachable;
    env.bus.emit({ type: 'host:unreachable', host: hs.name, msg: o.unreachable });
  } else if (o.result) hs.failed = true;
  if (o.result) env.record(o.result);
}

/** What connectKey reads. */
export type KeyEnv = Pick<ConnectEnv, 'vars' | 'templates'>;
/** What taking a connection opened ahead reads: the key's inputs, and the play that takes it. */
export type TakeEnv = KeyEnv & Pick<ConnectEnv, 'play'>;

/**
 * What a connection and its lock were made from: the host's variables as its play sees them (the
 * run-wide host lists left out: they name hosts, not how to reach this one) and the lock file they
 * render. A connection opened ahead is used only if this is the same when the host's play comes.
 * Undefined when the variables cannot be written out (then nothing is opened ahead).
 */
export function connectKey({ vars, templates }: KeyEnv): string | undefined {
  const own = withoutRunLists(vars);
  try {
    let file = '';
    try {
      file = lockFileOf(vars, templates);
    } catch (e) {
      file = `\0${(e as Error).message}`;
    }
    // hashed: kept for every host a run connects ahead, and only ever compared
    return createHash('sha256')
      .update(JSON.stringify([file, own]))
      .digest('base64');
  } catch {
    return undefined;
  }
}

/** Release the lock and close the connection `openHost` gave (nothing when it gave none). */
export async function dispose(o: Opened | undefined): Promise<void> {
  o?.lock?.release();
  await o?.transport?.close().catch(() => undefined);
}

/** Connect once per run (the connection is reused by every task), then take the host lock. */
export async function ensureConnected(hs: HostState, env: ConnectEnv, connect: Connector): Promise<void> {
  if (hs.transport || hs.unreachable || hs.failed) return;
  const early = await env.ahead?.take(hs.name, env);
  adoptOpened(hs, early ?? (await openHost(hs.name, env, connect)), env);
}
