import { ConfigError, LvsrunError, TransportError } from '../errors.js';
import type { TemplateEngine } from '../template/render.js';
import type { Transport } from '../transport/types.js';
import type { EventBus } from './events.js';
import { lockHost } from './host-lock.js';
import type { HostState } from './host-state.js';
import type { RunOptions, TaskResult } from './types.js';

export type Connector = (host: string, vars: Record<string, unknown>) => Promise<Transport>;

export interface ConnectEnv {
  play: string;
  vars: Record<string, unknown>;
  templates: TemplateEngine;
  opts: RunOptions;
  bus: EventBus;
  record: (r: TaskResult) => void;
}

/** Connect once per run (the connection is reused by every task), then take the host lock. */
export async function ensureConnected(hs: HostState, env: ConnectEnv, connect: Connector): Promise<void> {
  if (hs.transport || hs.unreachable || hs.failed) return;
  const base = { play: env.play, task: 'connect', host: hs.name, durationMs: 0 };
  try {
    hs.transport = await connect(hs.name, env.vars);
  } catch (e) {
    if (e instanceof ConfigError) {
      // A connection variable that cannot work is the inventory's fault, not the host's.
      hs.failed = true;
      env.record({ ...base, status: 'failed', msg: e.format(), error: e });
      return;
    }
    const msg = e instanceof LvsrunError ? e.format() : (e as Error).message;
    hs.unreachable = msg;
    env.bus.emit({ type: 'host:unreachable', host: hs.name, msg });
    env.record({ ...base, status: 'unreachable', msg, ...(e instanceof TransportError ? { error: e } : {}) });
    return;
  }
  // The shell opens while the lock is taken: both cost a channel open, and they share the round trips.
  hs.transport.warm?.();
  const lock = env.opts.lock;
  if (!lock?.enabled || env.opts.check) return;
  try {
    hs.lock = await lockHost(hs.transport, env.vars, env.templates, env.opts.runId, lock.operator, lock.breakLock);
    if (hs.lock.warning) env.bus.emit({ type: 'warning', msg: `${hs.name}: ${hs.lock.warning}` });
  } catch (e) {
    const error = e instanceof LvsrunError ? e : new LvsrunError('E_LOCKED', (e as Error).message);
    hs.failed = true;
    env.record({ ...base, task: 'lock', status: 'failed', msg: error.format(), error });
  }
}
