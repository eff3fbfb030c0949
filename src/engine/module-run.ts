import { type BecomeSpec, execOpts } from '../transport/become.js';
import { readFileSync } from 'node:fs';
import type { ChangePlan, JournalEntry, Plan } from '../change/types.js';
import { ConfigError } from '../errors.js';
import { parseModuleArgs } from '../modules/args.js';
import type { ModuleBase, ModuleCtx, TaskModule } from '../modules/types.js';
import { findLocalFile } from '../playbook/local-files.js';
import { applyJournaled } from '../rollback/apply.js';
import type { Journal } from '../rollback/journal.js';
import { bindData, TemplateEngine } from '../template/render.js';
import type { ShellCmd } from '../transport/shell.js';
import type { ExecResult, Transport } from '../transport/types.js';
import type { HostState } from './host-state.js';

/*
 * The one way a module runs on a host, for a playbook's tasks and for drills alike:
 * parse (moduleArgs) → check → plan → journaled apply (runModule).
 */

/** `value`: what the failing field rendered to (a variable's value is what the user must fix). */
export type ArgsResult<P = unknown> =
  { ok: true; data: P } | { ok: false; path: string; message: string; value?: unknown };

/**
 * A module's arguments (already rendered) for one host: no NUL byte outside data fields, accepted by
 * the module's schema, then vetted against the host's variables.
 */
export function moduleArgs<P>(mod: ModuleBase<P>, rendered: unknown, vars: Record<string, unknown>): ArgsResult<P> {
  const nul = findNul(rendered, []);
  if (nul)
    return { ok: false, path: nul.join('.'), message: 'contains a NUL byte, which no command or config file can hold' };
  const parsed = parseModuleArgs(mod, rendered);
  if (parsed.ok) {
    const problem = mod.vet?.(parsed.data, vars);
    return problem ? { ok: false, ...problem } : { ok: true, data: parsed.data };
  }
  const i = parsed.issues[0]!;
  const value = i.path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined),
    rendered,
  );
  return { ok: false, path: i.path.join('.'), message: i.message, ...(value !== undefined ? { value } : {}) };
}

/** Arguments that are data, not command text: they travel on stdin and may hold any byte. */
const DATA_ARGS = new Set(['content', 'stdin']);

/**
 * The path of the first string (value or key) holding a NUL byte: a command line or config file
 * cannot carry one (C strings end there). Top-level `content` and `stdin` are data sent on stdin: exempt.
 */
function findNul(v: unknown, path: Array<string | number>): Array<string | number> | undefined {
  if (typeof v === 'string') return v.includes('\0') ? path : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = findNul(v[i], [...path, i]);
      if (p) return p;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (!path.length && DATA_ARGS.has(k)) continue;
      const p = k.includes('\0') ? [...path, k] : findNul(x, [...path, k]);
      if (p) return p;
    }
  }
  return undefined;
}

/** The host a module runs on: its name, its connection and its per-run fact cache. */
export type ModuleTarget = Pick<HostState, 'name' | 'transport' | 'facts'>;

/** A target for a connection of its own (a drill's host, a test's fake): a fresh fact cache. */
export const targetOf = (t: Transport): ModuleTarget => ({ name: t.host, transport: t, facts: new Map() });

export interface CtxInput {
  hs: ModuleTarget;
  vars: Record<string, unknown>;
  check: boolean;
  become: BecomeSpec;
  baseDirs: readonly string[];
  templates: TemplateEngine;
  signal?: AbortSignal;
}

/** What a module sees of its host (ModuleCtx): commands run through the host's connection as its become user. */
export function makeCtx(i: CtxInput): ModuleCtx {
  return {
    host: i.hs.name,
    vars: i.vars,
    check: i.check,
    // async: a transport that throws (a NUL in the command) rejects, as every caller expects.
    async exec(cmd: ShellCmd, opts = {}) {
      return i.hs.transport!.exec(cmd, execOpts(i.become, { ...opts, ...(i.signal ? { signal: i.signal } : {}) }));
    },
    readLocal(path, kind) {
      const { found, candidates } = findLocalFile(path, [...i.baseDirs], kind);
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

/** A context for one connection with defaults (no become, no variables): drills' and tests' way in. */
export function moduleCtx(t: Transport, o: Partial<Omit<CtxInput, 'hs'>> = {}): ModuleCtx {
  return makeCtx({
    hs: targetOf(t),
    vars: o.vars ?? {},
    check: o.check ?? false,
    become: o.become ?? { enabled: false, user: 'root' },
    baseDirs: o.baseDirs ?? [],
    templates: o.templates ?? new TemplateEngine(),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}

/** Where an applied change is written down: the run's journal, under a name, and the caller's undo log. */
export interface ChangeLog {
  journal: Journal;
  /** The change's name in the journal (the task's name), or made from the plan (a drill's summary). */
  task: string | ((plan: ChangePlan) => string);
  /** The change's undo entry, journaled and on disk before its first step runs. */
  onBegin: (e: JournalEntry) => void;
  /** Its first (atomic) step failed without a trace: nothing to undo after all. */
  onUnapplied: (e: JournalEntry) => void;
  /** Called just before a plan with steps is applied. */
  onApply?: () => void;
  /** Called once its steps are sent: commands sent from here run on the host after them. */
  onSent?: () => void;
}

/** How the live state is read: an answer already in hand (a probe sent ahead); a hook run once the check is out. */
export interface Observe<O> {
  observed?: O;
  checking?: () => void;
}

/** How a module run ended: refused by its plan, planned only (check mode), or applied. */
export type ModuleOutcome<O> =
  | { kind: 'failed'; msg: string; plan: Plan; observed: O }
  | { kind: 'planned'; plan: ChangePlan; observed: O }
  | { kind: 'applied'; plan: ChangePlan; observed: O; results: ExecResult[] };

/**
 * check → plan → journaled apply. A plan that fails, or one that can only be shown (`checkOnly`) in a
 * real run, changes nothing; in check mode nothing is applied.
 */
export async function runModule<P, O>(
  mod: TaskModule<P, O>,
  p: P,
  ctx: CtxInput,
  log: ChangeLog,
  how: Observe<O> = {},
): Promise<ModuleOutcome<O>> {
  const checking = 'observed' in how ? undefined : mod.check(makeCtx(ctx), p);
  how.checking?.();
  const observed = checking ? await checking : (how.observed as O);
  const plan = mod.plan(p, observed);
  if (plan.action === 'fail') return { kind: 'failed', msg: plan.fail, plan, observed };
  if (ctx.check) return { kind: 'planned', plan, observed };
  if (plan.checkOnly) return { kind: 'failed', msg: plan.checkOnly, plan, observed };
  const { transport } = ctx.hs;
  const name = typeof log.task === 'string' ? log.task : log.task(plan);
  if (plan.steps.length) log.onApply?.();
  const results = await applyJournaled(
    log.journal,
    transport!,
    name,
    plan,
    ctx.become,
    log.onBegin,
    log.onUnapplied,
    log.onSent,
  );
  return { kind: 'applied', plan, observed, results };
}
