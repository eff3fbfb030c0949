import { ConfigError, didYouMean } from '../errors.js';
import { lookupModule, moduleNames } from '../modules/registry.js';
import { parseModuleArgs } from '../modules/args.js';
import type { ModuleBase } from '../modules/types.js';
import { readFileSync } from 'node:fs';
import { findLocalFile } from './local-files.js';
import { checkTemplateSyntax } from '../template/render.js';
import { compileExpr } from './when.js';
import { checkTaskKeywords, keywordBool } from './keyword-types.js';
import { compileUserRegex } from '../text/user-regex.js';
import { checkDelegateTo } from './delegate.js';
import type { Path, YamlSource } from '../yaml/source.js';
import type { VaultKeyring } from '../vault/keyring.js';
import { TASK_KEYWORDS, type Task } from './types.js';

/** Shared by one playbook load: tasks counted so far, YAML files read once, include sizes. */
export interface Expansion {
  tasks: number;
  sources: Map<string, YamlSource>;
  sizes: Map<string, number>;
  /** Configured role folders, searched after the playbook's own. */
  rolesPath: readonly string[];
  /** Decrypts encrypted playbooks, task and vars files and `!vault` values. */
  vault?: VaultKeyring;
  /** What a templated include_tasks name or serial sees when the playbook loads: the play's vars, then -e. */
  loadVars?: Record<string, unknown>;
  /** Blocks numbered so far (each block's id is unique in its playbook). */
  blocks?: number;
  /** include_tasks numbered so far (each id unique in its playbook). */
  includes?: number;
}
export interface TaskSource {
  src: YamlSource;
  baseDirs: string[];
  expansion?: Expansion;
  /** The include_tasks these tasks were included by, outermost first. */
  within?: number[];
  /** Handlers: include_tasks there is expanded in place, as import_tasks is. */
  staticIncludes?: boolean;
}
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** Every string of a task's arguments must parse as a template (rendering happens later, per host). */
function checkStrings(v: unknown, p: Path, at: (p: Path) => { file: string; line?: number; field?: string }): void {
  if (typeof v === 'string') checkTemplateSyntax(v, at(p));
  else if (Array.isArray(v)) v.forEach((x, i) => checkStrings(x, [...p, i], at));
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) checkStrings(x, [...p, k], at);
}

export function parseTask(ts: TaskSource, raw: Obj, path: Path): Task {
  const { src } = ts;
  const pos = (p: Path) => src.pos(p);
  const fail = (p: Path, msg: string, hint?: string): ConfigError => {
    const at = pos(p);
    return new ConfigError('E_CONFIG', msg, {
      where: { file: src.file, line: at?.line, col: at?.col, field: fieldOf(p) },
      hint,
    });
  };
  checkTaskKeywords(raw, (k, msg, hint) => fail([...path, k], msg, hint));
  const moduleKeys = Object.keys(raw).filter((k) => !(TASK_KEYWORDS as readonly string[]).includes(k));
  if (moduleKeys.length === 0)
    throw fail(
      path,
      `task${raw.name ? ` '${String(raw.name)}'` : ''} names no module`,
      `add one module, e.g. template: {src: x.hbs, dest: /etc/x}`,
    );
  const unknown = moduleKeys.filter((k) => !lookupModule(k));
  if (unknown.length) {
    const k = unknown[0]!;
    throw fail(
      [...path, k],
      `unknown module or task keyword '${k}'`,
      didYouMean(k, [...moduleNames(), ...TASK_KEYWORDS]) ?? `modules are: ${moduleNames().join(', ')}`,
    );
  }
  if (moduleKeys.length > 1)
    throw fail(
      [...path, moduleKeys[1]!],
      `a task has exactly one module, found ${moduleKeys.join(' and ')}`,
      'split it into two tasks',
    );
  const moduleKey = moduleKeys[0]!;
  const mod = lookupModule(moduleKey)!;
  let args = normaliseArgs(mod, raw[moduleKey], () =>
    fail([...path, moduleKey], `arguments of ${mod.name} must be a mapping or key=value words`),
  );
  if (isObj(raw.args)) args = { ...raw.args, ...(isObj(args) ? args : {}) };
  staticCheck(mod, args, (field, msg, hint) => fail([...path, moduleKey, ...field], `${mod.name}: ${msg}`, hint));
  const where = { file: src.file, line: pos(path)?.line };
  checkRegexArgs(mod.name, args, (p) => {
    const full = [...path, moduleKey, ...p];
    return { file: src.file, line: pos(full)?.line ?? where.line, field: fieldOf(full) };
  });
  checkStrings(args, [...path, moduleKey], (p) => ({
    file: src.file,
    line: pos(p)?.line ?? where.line,
    field: fieldOf(p),
  }));
  const tpl = isObj(args) ? mod.localTemplate?.(args) : undefined;
  if (typeof tpl === 'string' && !tpl.includes('{{')) {
    const s = tpl;
    const { found: file, candidates } = findLocalFile(s, ts.baseDirs, 'templates');
    const field = mod.name === 'template' ? 'src' : 'template';
    if (!file) {
      throw fail([...path, moduleKey, field], `template '${s}' not found`, `looked in ${candidates.join(', ')}`);
    }
    checkTemplateSyntax(readFileSync(file, 'utf8'), { file, line: 1 });
  }
  for (const k of ['when', 'changed_when', 'failed_when'] as const) {
    for (const c of list(raw[k]))
      if (typeof c === 'string') compileExpr(c, { ...where, line: pos([...path, k])?.line, field: k });
  }
  if (typeof raw.delegate_to === 'string') {
    checkDelegateTo(raw.delegate_to, { ...where, line: pos([...path, 'delegate_to'])?.line, field: 'delegate_to' });
  }
  const loop = raw.loop ?? raw.with_items;
  const lc = isObj(raw.loop_control) ? raw.loop_control : {};
  const ignoreErrors = keywordBool(raw.ignore_errors);
  return {
    name: String(raw.name ?? `${mod.name}`),
    moduleKey,
    module: mod.name,
    args,
    ...(raw.when !== undefined ? { when: raw.when } : {}),
    ...(loop !== undefined ? { loop } : {}),
    loopVar: typeof lc.loop_var === 'string' ? lc.loop_var : 'item',
    ...(typeof raw.register === 'string' ? { register: raw.register } : {}),
    notify: list(raw.notify).map(String),
    tags: list(raw.tags).map(String),
    ignoreErrors,
    ...(raw.changed_when !== undefined ? { changedWhen: raw.changed_when } : {}),
    ...(raw.failed_when !== undefined ? { failedWhen: raw.failed_when } : {}),
    ...(raw.become !== undefined ? { become: keywordBool(raw.become) } : {}),
    ...(raw.become_user !== undefined ? { becomeUser: String(raw.become_user) } : {}),
    noLog: keywordBool(raw.no_log),
    ...(raw.check_mode !== undefined ? { checkMode: keywordBool(raw.check_mode) } : {}),
    baseDirs: ts.baseDirs,
    where,
    ...(raw.listen !== undefined ? { listen: [String(raw.name ?? ''), ...list(raw.listen).map(String)] } : {}),
    ...(isObj(raw.vars) ? { roleVars: raw.vars } : {}),
    ...flowKeywords(raw),
  };
}

/** run_once, delegate_to, delegate_facts, any_errors_fatal, throttle: set only when written (or inherited). */
function flowKeywords(raw: Obj): Partial<Task> {
  const set = (k: string): boolean => raw[k] !== undefined && raw[k] !== null;
  return {
    ...(set('run_once') ? { runOnce: keywordBool(raw.run_once) } : {}),
    ...(set('delegate_to') ? { delegateTo: String(raw.delegate_to) } : {}),
    ...(set('delegate_facts') ? { delegateFacts: keywordBool(raw.delegate_facts) } : {}),
    ...(set('any_errors_fatal') ? { anyErrorsFatal: keywordBool(raw.any_errors_fatal) } : {}),
    ...(set('throttle') ? { throttle: Number(raw.throttle) } : {}),
  };
}

/** Arguments that are regular expressions, compiled at load so that a bad one is bad input. */
const REGEX_ARGS: Record<string, readonly string[]> = { lineinfile: ['regexp', 'insertafter', 'insertbefore'] };
const REGEX_KEYWORDS = new Set(['BOF', 'EOF']);

type At = (p: Path) => { file: string; line?: number; field?: string };

function checkRegexArgs(module: string, args: unknown, at: At): void {
  if (!isObj(args)) return;
  for (const k of REGEX_ARGS[module] ?? []) {
    const v = args[k];
    if (typeof v !== 'string' || templated(v) || (k !== 'regexp' && REGEX_KEYWORDS.has(v))) continue;
    compileUserRegex(v, { where: at([k]), what: k });
  }
}

/** `command: echo hi`, `copy: dest=/x content=y`, or a mapping. */
function normaliseArgs(mod: ModuleBase<unknown>, v: unknown, bad: () => ConfigError): unknown {
  if (v === null || v === undefined) return {};
  if (isObj(v)) return v;
  if (typeof v !== 'string') throw bad();
  if (mod.freeForm) return { [mod.freeForm]: v };
  const out: Obj = {};
  for (const w of v.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw bad();
    out[w.slice(0, eq)] = w.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

const templated = (v: unknown): boolean => typeof v === 'string' && v.includes('{{');

/** Validate arguments before any host is touched; fields holding templates are checked later, per host. */
function staticCheck(
  mod: ModuleBase<unknown>,
  args: unknown,
  fail: (field: Path, msg: string, hint?: string) => ConfigError,
): void {
  const r = parseModuleArgs(mod, args);
  if (r.ok) return;
  for (const issue of r.issues) {
    const field = issue.path;
    let val: unknown = args;
    for (const seg of field) val = isObj(val) || Array.isArray(val) ? (val as Obj)[seg as string] : undefined;
    if (templated(val) || (field.length && hasTemplateParent(args, field))) continue;
    if (issue.unknownKey) {
      const { key, known } = issue.unknownKey;
      const what = field.length ? `${field.join('.')} keys` : 'arguments';
      throw fail(
        [...field, key],
        `unknown ${field.length ? `key in ${field.join('.')}` : 'argument'} '${key}'`,
        didYouMean(key, known) ?? `${what} are: ${known.join(', ')}`,
      );
    }
    throw fail(
      field,
      `${field.length ? `${field.join('.')}: ` : ''}${issue.message}`,
      `see docs/modules.md#${mod.name}`,
    );
  }
}

function hasTemplateParent(args: unknown, field: Path): boolean {
  let v: unknown = args;
  for (const seg of field) {
    if (templated(v)) return true;
    v = isObj(v) || Array.isArray(v) ? (v as Obj)[seg as string] : undefined;
  }
  return templated(v);
}

function fieldOf(p: Path): string | undefined {
  return p.length ? p.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i ? '.' : ''}${s}`)).join('') : undefined;
}
