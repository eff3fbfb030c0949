import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { ModuleCtx } from '../modules/types.js';
import { findLocalFile } from '../playbook/local-files.js';
import { bindData, type TemplateEngine } from '../template/render.js';
import type { ShellCmd } from '../transport/shell.js';
import type { ExecOptions, ExecResult, Transport } from '../transport/types.js';
import type { BecomeSpec } from './connect.js';
import type { HostLock } from './host-lock.js';
import type { JournalEntry } from './types.js';

/** Everything the engine keeps per host for one run. */
export class HostState {
  transport?: Transport;
  unreachable?: string;
  failed = false;
  rolledBack = false;
  lock?: HostLock;
  readonly registered: Record<string, unknown> = {};
  readonly notified = new Set<string>();
  /** In-memory mirror of the journal: this host's undo entries in order of change. */
  readonly undoLog: JournalEntry[];
  readonly facts: Map<string, Promise<unknown>>;
  constructor(
    readonly name: string,
    shared: { undoLog?: JournalEntry[]; facts?: Map<string, Promise<unknown>> } = {},
  ) {
    this.undoLog = shared.undoLog ?? [];
    this.facts = shared.facts ?? new Map<string, Promise<unknown>>();
  }

  get active(): boolean {
    return !this.failed && !this.unreachable;
  }
}

/**
 * delegate_to: `origin`'s task run over `target`'s connection. The module sees the origin's name (its
 * variables are the origin's); probes are cached per target; the change belongs to the target, as
 * the journal records it (under the transport's host): its undo joins the target's log, so a rollback
 * of the target in the run does what `lvsrun rollback` of that host does.
 */
export function delegateView(origin: HostState, target: HostState): HostState {
  const v = new HostState(origin.name, { undoLog: target.undoLog, facts: target.facts });
  if (target.transport) v.transport = target.transport;
  return v;
}

export interface CtxInput {
  hs: HostState;
  vars: Record<string, unknown>;
  check: boolean;
  become: BecomeSpec;
  baseDirs: string[];
  templates: TemplateEngine;
  signal?: AbortSignal;
  /** Every exec of the task is recorded here (for -v and the JSON report). */
  execLog: ExecResult[];
}

export function execOpts(become: BecomeSpec, extra: ExecOptions = {}): ExecOptions {
  return {
    ...extra,
    ...(become.enabled
      ? { become: { user: become.user, ...(become.password !== undefined ? { password: become.password } : {}) } }
      : {}),
  };
}

export function makeCtx(i: CtxInput): ModuleCtx {
  return {
    host: i.hs.name,
    vars: i.vars,
    check: i.check,
    async exec(cmd: ShellCmd, opts = {}) {
      const r = await i.hs.transport!.exec(
        cmd,
        execOpts(i.become, { ...opts, ...(i.signal ? { signal: i.signal } : {}) }),
      );
      i.execLog.push(r);
      return r;
    },
    readLocal(path, kind) {
      const { found, candidates } = findLocalFile(path, i.baseDirs, kind);
      if (!found)
        throw new ConfigError('E_CONFIG', `${kind === 'templates' ? 'template' : 'file'} '${path}' not found`, {
          hint: `looked in ${candidates.join(', ')}`,
        });
      const bytes = readFileSync(found);
      return { path: found, text: bytes.toString('utf8'), bytes };
    },
    // A module's own context (keepalived's) holds rendered arguments: data, never rendered again.
    render: (text, where, data) =>
      i.templates.renderString(text, data ? bindData({}, data) : i.vars, { file: where.file }),
    fact<T>(key: string, load: () => Promise<T>): Promise<T> {
      let p = i.hs.facts.get(key) as Promise<T> | undefined;
      if (!p) {
        p = load();
        i.hs.facts.set(key, p);
      }
      return p;
    },
  };
}
