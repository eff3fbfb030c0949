import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, didYouMean } from '../errors.js';
import { findRole } from './roles-path.js';
import { loadYamlFile, type Path, type YamlSource } from '../yaml/source.js';
import { parseTask, type Expansion, type TaskSource } from './task.js';
import { checkPlayKeywords, checkTaskKeywords, keywordBool } from './keyword-types.js';
import { BLOCK_KEYS, NO_BLOCK, blockKeywords, inherit, isBlockEntry, type BlockScope } from './block.js';
import { checkDelegateTo } from './delegate.js';
import { compileExpr } from './when.js';
import type { VaultKeyring } from '../vault/keyring.js';
import {
  BLOCK_SECTIONS,
  INCLUDE_MODULE,
  ON_FAILURE,
  PLAY_KEYWORDS,
  STRATEGIES,
  type OnFailure,
  type Play,
  type Playbook,
  type Task,
} from './types.js';
import { assignOwn } from '../data/own-record.js';
import { LvsrunError } from '../errors.js';
import { TemplateEngine } from '../template/render.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The keys of a playbook entry that imports another playbook, and of a task that includes a tasks file. */
export const IMPORT_PLAYBOOK_KEYS = ['import_playbook', 'ansible.builtin.import_playbook'] as const;
export const INCLUDE_KEYS = [
  'include_tasks',
  'import_tasks',
  'ansible.builtin.include_tasks',
  'ansible.builtin.import_tasks',
] as const;
/** serial: a positive number, or this text (a count or a percentage), or a list of them. */
export const SERIAL_TEXT = /^\d+%?$/;

/** A playbook expands (includes and roles counted) to at most this many tasks and handlers. */
export const MAX_TASKS = 10_000;
/** include_tasks may nest this deep. */
export const MAX_INCLUDE_DEPTH = 20;

/**
 * rolesPath: configured role folders (lvsrun.cfg, LVSRUN_ROLES_PATH), searched after the playbook's roles/.
 * vault: decrypts encrypted playbooks, task and vars files and `!vault` values.
 */
export interface LoadOptions {
  rolesPath?: readonly string[];
  vault?: VaultKeyring;
  /** -e: known when the playbook loads, so an include_tasks file name or serial may be a template of them. */
  vars?: Record<string, unknown>;
}

export function loadPlaybook(file: string, opts: LoadOptions = {}): Playbook {
  const plays: Play[] = [];
  const expansion: Expansion = {
    tasks: 0,
    sources: new Map(),
    sizes: new Map(),
    rolesPath: opts.rolesPath ?? [],
    ...(opts.vault ? { vault: opts.vault } : {}),
  };
  loadInto(resolve(file), plays, new Set(), expansion, opts.vars ?? {});
  return { file: resolve(file), plays };
}

function loadInto(
  file: string,
  plays: Play[],
  seen: Set<string>,
  expansion: Expansion,
  extraVars: Record<string, unknown>,
): void {
  if (seen.has(file)) throw new ConfigError('E_CONFIG', `import_playbook cycle through ${file}`, { where: { file } });
  seen.add(file);
  const src = loadYamlFile(file, expansion.vault);
  if (!Array.isArray(src.data))
    throw err(src, [], 'a playbook is a list of plays', 'start each play with `- name: ...` and `hosts: ...`');
  src.data.forEach((p, i) => {
    if (!isObj(p)) throw err(src, [i], 'a play must be a mapping');
    const imp = IMPORT_PLAYBOOK_KEYS.map((k) => p[k]).find((v) => v !== undefined && v !== null);
    if (imp !== undefined) {
      loadInto(resolve(dirname(file), String(imp)), plays, new Set(seen), expansion, extraVars);
      return;
    }
    plays.push(parsePlay(src, p, i, expansion, extraVars));
  });
}

function parsePlay(src: YamlSource, p: Obj, i: number, expansion: Expansion, extraVars: Record<string, unknown>): Play {
  const path: Path = [i];
  for (const k of Object.keys(p)) {
    if (!(PLAY_KEYWORDS as readonly string[]).includes(k)) {
      throw err(
        src,
        [i, k],
        `unknown play keyword '${k}'`,
        didYouMean(k, PLAY_KEYWORDS) ?? `play keywords are: ${PLAY_KEYWORDS.join(', ')}`,
      );
    }
  }
  checkPlayKeywords(p, (k, msg, hint) => err(src, [i, k], msg, hint));
  if (typeof p.hosts !== 'string' && !Array.isArray(p.hosts))
    throw err(src, path, 'a play needs `hosts:` (a host pattern such as directors or all)');
  const dir = dirname(src.file);
  const vars: Obj = {};
  if (p.vars !== undefined) {
    if (!isObj(p.vars)) throw err(src, [i, 'vars'], 'vars must be a mapping');
    assignOwn(vars, p.vars);
  }
  for (const [j, vf] of asList(p.vars_files).entries()) {
    const f = resolve(dir, String(vf));
    const v = loadYamlFile(f, expansion.vault);
    if (!isObj(v.data)) throw err(src, [i, 'vars_files', j], `vars file ${f} must be a mapping`);
    assignOwn(vars, v.data);
  }
  const baseDirs = [dir, join(dir, 'templates'), join(dir, '..', 'templates'), join(dir, 'files')];
  expansion.loadVars = { ...vars, ...extraVars };
  const base: TaskSource = { src, baseDirs, expansion };
  const tasks: Task[] = [];
  const handlers: Task[] = [];
  const listAt = (key: string): unknown[] => {
    const v = p[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw err(src, [i, key], `${key} must be a list of tasks`);
    return v;
  };
  const phase = (t: Task, ph: 'pre' | 'post'): Task => ({ ...t, phase: ph });
  tasks.push(...expandTasks(listAt('pre_tasks'), base, [i, 'pre_tasks']).map((t) => phase(t, 'pre')));
  // Every role's defaults and vars are the play's too (Ansible's default: role vars are not private).
  const roleDefaults: Obj = {};
  const roleVars: Obj = {};
  for (const [j, r] of asList(p.roles).entries()) {
    const role = loadRole(src, r, [i, 'roles', j], dir, expansion);
    tasks.push(...role.tasks);
    handlers.push(...role.handlers);
    assignOwn(roleDefaults, role.defaults);
    assignOwn(roleVars, role.vars);
  }
  tasks.push(...expandTasks(listAt('tasks'), base, [i, 'tasks']));
  tasks.push(...expandTasks(listAt('post_tasks'), base, [i, 'post_tasks']).map((t) => phase(t, 'post')));
  handlers.push(...expandTasks(listAt('handlers'), { ...base, staticIncludes: true }, [i, 'handlers']));
  const blocked = handlers.find((h) => h.block);
  if (blocked) {
    throw new ConfigError('E_CONFIG', `handler '${blocked.name}' is inside a block: handlers cannot use block`, {
      where: blocked.where,
      hint: 'write each handler as a plain task; put a block in tasks instead',
    });
  }
  const onFailure = (p.on_failure ?? 'rollback-host') as OnFailure;
  if (!ON_FAILURE.includes(onFailure)) {
    throw err(
      src,
      [i, 'on_failure'],
      `on_failure must be ${ON_FAILURE.slice(0, -1).join(', ')} or ${ON_FAILURE.at(-1)}`,
    );
  }
  const mfp = p.max_fail_percentage;
  if (mfp !== undefined && (typeof mfp !== 'number' || mfp < 0 || mfp > 100))
    throw err(src, [i, 'max_fail_percentage'], 'max_fail_percentage must be a number from 0 to 100');
  const strategy = p.strategy;
  if (strategy !== undefined && !(STRATEGIES as readonly unknown[]).includes(strategy)) {
    throw err(src, [i, 'strategy'], `strategy must be ${STRATEGIES.join(' or ')}`);
  }
  return {
    name: String(p.name ?? p.hosts),
    hosts: Array.isArray(p.hosts) ? p.hosts.join(':') : String(p.hosts),
    vars,
    ...(Object.keys(roleDefaults).length ? { roleDefaults } : {}),
    ...(Object.keys(roleVars).length ? { roleVars } : {}),
    serial: parseSerial(src, p.serial, [i, 'serial'], expansion.loadVars),
    ...(typeof mfp === 'number' ? { maxFailPercentage: mfp } : {}),
    become: keywordBool(p.become),
    becomeUser: String(p.become_user ?? 'root'),
    onFailure,
    ...(p.any_errors_fatal !== undefined && p.any_errors_fatal !== null
      ? { anyErrorsFatal: keywordBool(p.any_errors_fatal) }
      : {}),
    ...(strategy ? { strategy: strategy as Play['strategy'] } : {}),
    tasks,
    handlers,
    tags: asList(p.tags).map(String),
    where: { file: src.file, line: src.pos(path)?.line },
  };
}

function parseSerial(src: YamlSource, v: unknown, path: Path, known: Record<string, unknown>): Array<number | string> {
  if (v === undefined || v === null) return [];
  const list = (Array.isArray(v) ? v : [v]).map((s) => loadTimeValue(src, s, path, known));
  for (const s of list) {
    if (!(typeof s === 'number' && s > 0) && !(typeof s === 'string' && SERIAL_TEXT.test(s))) {
      throw err(
        src,
        path,
        `serial must be a positive number, a percentage such as '30%', or a list of them (got ${JSON.stringify(s)})`,
      );
    }
  }
  return list as Array<number | string>;
}

/**
 * Tasks with include_tasks / import_tasks expanded statically (their `when` is added to each included
 * task) and blocks flattened: each task inherits its blocks' keywords and carries its place in them.
 */
export function expandTasks(list: unknown[], ts: TaskSource, path: Path, depth = 0, scope = NO_BLOCK): Task[] {
  const expansion: Expansion =
    ts.expansion ?? (ts.expansion = { tasks: 0, sources: new Map(), sizes: new Map(), rolesPath: [] });
  const out: Task[] = [];
  list.forEach((raw, j) => {
    const p = [...path, j];
    if (!isObj(raw)) throw err(ts.src, p, 'a task must be a mapping such as `- name: ...` with one module');
    if (isBlockEntry(raw)) {
      out.push(...expandBlock(raw, ts, p, depth, scope));
      return;
    }
    const inc = includeOf(raw);
    if (inc !== undefined) {
      const f = includeTarget(ts.src, raw, inc, p, depth, expansion);
      if (raw.vars !== undefined && raw.vars !== null && !isObj(raw.vars))
        throw err(ts.src, [...p, 'vars'], 'vars must be a mapping');
      const size = expandedSize(expansion, f, [f], depth + 1);
      if (expansion.tasks + size > MAX_TASKS) throw tooMany(ts.src, p, `include_tasks ${f} expands to ${size} tasks`);
      const isrc = loadCached(expansion, f);
      const items = isrc.data === null ? [] : isrc.data;
      if (!Array.isArray(items)) throw err(isrc, [], 'an included tasks file is a list of tasks');
      // A template or file `src` of an included task is also looked for beside the included file (after the
      // playbook's own folders, which win): a change given with -e can bring its own templates.
      const own = dirname(f);
      const baseDirs = [...new Set([...ts.baseDirs, own, join(own, 'templates'), join(own, 'files')])];
      // The include's vars apply to every included task, below the task's own (as a block's vars do).
      const inScope = isObj(raw.vars) ? { ...scope, kw: inherit(scope.kw, { vars: raw.vars }) } : scope;
      if (isDynamic(raw) && !ts.staticIncludes) {
        // include_tasks is dynamic, as in Ansible: it runs as a task of its own (its when and tags decide
        // whether a host takes the included tasks, which do not inherit them) and counts ok in the recap.
        const id = (expansion.includes = (expansion.includes ?? 0) + 1);
        const include = includeTask(ts, raw, p, f, id, inScope);
        const within = [...(ts.within ?? []), id];
        const inner = expandTasks(items, { ...ts, src: isrc, baseDirs, within }, [], depth + 1, inScope);
        // What decides whether the included tasks run at all, for the checks made before the run.
        const conds = asList(include.when);
        if (conds.length) for (const t of inner) t.includeWhen = [...conds, ...(t.includeWhen ?? [])];
        out.push(include, ...inner);
        return;
      }
      const inner = expandTasks(items, { ...ts, src: isrc, baseDirs }, [], depth + 1, inScope);
      const extraWhen = raw.when;
      const extraTags = asList(raw.tags).map(String);
      for (const t of inner) {
        if (extraWhen !== undefined)
          t.when = t.when === undefined ? extraWhen : [...asList(extraWhen), ...asList(t.when)];
        t.tags.push(...extraTags);
      }
      out.push(...inner);
      return;
    }
    if (++expansion.tasks > MAX_TASKS) throw tooMany(ts.src, p, 'this task');
    const task = parseTask(ts, inherit(scope.kw, raw), p);
    out.push({
      ...task,
      ...(scope.frames.length ? { block: scope.frames } : {}),
      ...(ts.within ? { within: ts.within } : {}),
    });
  });
  return out;
}

/** A `block` entry: its sections' tasks, each inheriting the block's keywords and knowing its section. */
function expandBlock(raw: Obj, ts: TaskSource, p: Path, depth: number, scope: BlockScope): Task[] {
  for (const k of Object.keys(raw)) {
    if (!BLOCK_KEYS.includes(k)) {
      const hint = didYouMean(k, BLOCK_KEYS) ?? `a block holds ${BLOCK_KEYS.join(', ')} (its tasks go under block:)`;
      throw err(ts.src, [...p, k], `unknown block keyword '${k}'`, hint);
    }
  }
  checkTaskKeywords(raw, (k, msg, hint) => err(ts.src, [...p, k], msg, hint));
  const at = (k: string) => ({ file: ts.src.file, line: ts.src.pos([...p, k])?.line, field: k });
  for (const c of asList(raw.when)) if (typeof c === 'string') compileExpr(c, at('when'));
  if (typeof raw.delegate_to === 'string') checkDelegateTo(raw.delegate_to, at('delegate_to'));
  const expansion = ts.expansion!;
  const id = (expansion.blocks = (expansion.blocks ?? 0) + 1);
  const kw = inherit(scope.kw, blockKeywords(raw));
  const name = typeof raw.name === 'string' ? { name: raw.name } : {};
  return BLOCK_SECTIONS.flatMap((part) => {
    const v = raw[part];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw err(ts.src, [...p, part], `${part} must be a list of tasks`);
    return expandTasks(v, ts, [...p, part], depth, { kw, frames: [...scope.frames, { id, part, ...name }] });
  });
}

/** include_tasks (dynamic), as opposed to import_tasks (static). */
function isDynamic(raw: Obj): boolean {
  return ['include_tasks', 'ansible.builtin.include_tasks'].some((k) => raw[k] !== undefined && raw[k] !== null);
}

/**
 * The task an include_tasks entry runs as: its own when, tags and vars (with those of the blocks around
 * it); on a host where it runs, the host takes the included tasks (`within` names it).
 */
function includeTask(ts: TaskSource, raw: Obj, p: Path, file: string, id: number, scope: BlockScope): Task {
  checkTaskKeywords(raw, (k, msg, hint) => err(ts.src, [...p, k], msg, hint));
  const kw = inherit(scope.kw, { ...(raw.when !== undefined ? { when: raw.when } : {}), tags: raw.tags });
  const line = ts.src.pos(p)?.line;
  for (const c of asList(raw.when))
    if (typeof c === 'string')
      compileExpr(c, { file: ts.src.file, line: ts.src.pos([...p, 'when'])?.line, field: 'when' });
  const key = INCLUDE_KEYS.find((k) => raw[k] !== undefined && raw[k] !== null)!;
  return {
    name: typeof raw.name === 'string' ? raw.name : key,
    moduleKey: key,
    module: INCLUDE_MODULE,
    args: { file },
    ...(kw.when !== undefined && kw.when !== null ? { when: kw.when } : {}),
    loopVar: 'item',
    notify: [],
    tags: asList(kw.tags).map(String),
    ignoreErrors: false,
    noLog: false,
    baseDirs: ts.baseDirs,
    where: { file: ts.src.file, line },
    ...(isObj(scope.kw.vars) ? { roleVars: scope.kw.vars } : {}),
    includeId: id,
    ...(scope.frames.length ? { block: scope.frames } : {}),
    ...(ts.within ? { within: ts.within } : {}),
  };
}

function includeOf(raw: Obj): unknown {
  return INCLUDE_KEYS.map((k) => raw[k]).find((v) => v !== undefined && v !== null);
}

function includeTarget(src: YamlSource, raw: Obj, inc: unknown, p: Path, depth: number, expansion: Expansion): string {
  if (depth >= MAX_INCLUDE_DEPTH) {
    const hint = 'an included file that includes itself never ends';
    throw err(src, p, `include_tasks nested more than ${MAX_INCLUDE_DEPTH} deep`, hint);
  }
  // A loop over an include would run the file once per item; it is not supported, and must not be
  // dropped silently (the file would run once, without the item).
  const loopKey = ['loop', 'with_items', 'loop_control'].find((k) => raw[k] !== undefined);
  if (loopKey) {
    const hint = 'put the loop on the tasks inside the included file';
    throw err(src, [...p, loopKey], `${loopKey} on include_tasks or import_tasks is not supported`, hint);
  }
  const named = isObj(inc) ? inc.file : inc;
  const name = loadTimeValue(src, named, p, expansion.loadVars ?? {});
  if (typeof name !== 'string' || !name) {
    throw err(src, p, 'include_tasks needs a file name', 'write include_tasks: other.yaml');
  }
  const f = resolve(dirname(src.file), name);
  if (!existsSync(f)) throw err(src, p, `include_tasks: ${f} does not exist`);
  return f;
}

/**
 * How many tasks `file` expands to, computed once per file before anything is expanded, so that
 * files including each other twice per level fail at once instead of after minutes of work.
 */
function expandedSize(expansion: Expansion, file: string, chain: string[], depth: number): number {
  const known = expansion.sizes.get(file);
  if (known !== undefined) return known;
  if (depth > MAX_INCLUDE_DEPTH) return 0; // reported where the expansion reaches it
  const data = loadCached(expansion, file).data;
  let n = 0;
  for (const raw of Array.isArray(data) ? data : []) {
    const inc = isObj(raw) ? includeOf(raw) : undefined;
    const named = isObj(inc) ? inc.file : inc;
    // A templated name is rendered (and its errors reported) by the expansion; here it only counts.
    const name = typeof named === 'string' && named.includes('{{') ? renderQuiet(named, expansion) : named;
    if (typeof name !== 'string') {
      n += 1;
      continue;
    }
    const f = resolve(dirname(file), name);
    if (chain.includes(f) || !existsSync(f)) continue; // a cycle or a missing file is reported by the expansion
    n += expandedSize(expansion, f, [...chain, f], depth + 1);
    if (n > MAX_TASKS) break;
  }
  expansion.sizes.set(file, n);
  return n;
}

/**
 * A template in include_tasks or serial, rendered when the playbook loads against what is known then
 * (the play's vars and -e), as Ansible renders them before the play's hosts are known.
 */
function loadTimeValue(src: YamlSource, v: unknown, p: Path, known: Record<string, unknown>): unknown {
  if (typeof v !== 'string' || !v.includes('{{')) return v;
  try {
    return new TemplateEngine().renderValue(v, known, { file: src.file });
  } catch (e) {
    throw err(
      src,
      p,
      e instanceof LvsrunError ? e.message : String(e),
      "only the play's vars and -e are known when the playbook loads",
    );
  }
}

function renderQuiet(v: string, expansion: Expansion): unknown {
  try {
    return new TemplateEngine().renderValue(v, expansion.loadVars ?? {});
  } catch {
    return undefined;
  }
}

function loadCached(expansion: Expansion, file: string): YamlSource {
  let s = expansion.sources.get(file);
  if (!s) expansion.sources.set(file, (s = loadYamlFile(file, expansion.vault)));
  return s;
}

function tooMany(src: YamlSource, p: Path, what: string): ConfigError {
  return err(
    src,
    p,
    `${what}: the playbook would hold more than ${MAX_TASKS} tasks`,
    'include_tasks files that include others several times multiply; include each once',
  );
}

function loadRole(
  src: YamlSource,
  r: unknown,
  path: Path,
  dir: string,
  expansion: Expansion,
): { tasks: Task[]; handlers: Task[]; defaults: Obj; vars: Obj } {
  const name = typeof r === 'string' ? r : isObj(r) ? String(r.role ?? r.name ?? '') : '';
  if (!name) throw err(src, path, 'a role entry is a name or {role: name, vars: {...}}');
  if (name === '.' || name === '..' || /[\0-\x1f]/.test(name)) {
    throw err(src, path, `role name ${JSON.stringify(name)} is not a role name`);
  }
  const { found: roleDir, candidates } = findRole(name, dir, expansion.rolesPath);
  if (!roleDir) {
    const hint = `looked in ${candidates.join(', ')}; add a folder to roles_path in lvsrun.cfg or LVSRUN_ROLES_PATH`;
    throw err(src, path, `role '${name}' not found`, hint);
  }
  const file = (sub: string): string | undefined =>
    ['main.yaml', 'main.yml'].map((f) => join(roleDir, sub, f)).find((f) => existsSync(f));
  const mapping = (sub: string): Obj => {
    const f = file(sub);
    if (!f) return {};
    const d = loadYamlFile(f, expansion.vault).data;
    return isObj(d) ? d : {};
  };
  if (isObj(r) && r.vars !== undefined && r.vars !== null && !isObj(r.vars)) {
    throw err(src, [...path, 'vars'], 'vars must be a mapping');
  }
  const roleVars = { ...mapping('vars'), ...(isObj(r) && isObj(r.vars) ? r.vars : {}) };
  const roleDefaults = mapping('defaults');
  const roleDefaultsFile = file('defaults');
  // After the role's own folders: the playbook's folder and its parent, so roles can use the shipped templates/.
  const ts = (f: string): TaskSource => ({
    src: loadYamlFile(f, expansion.vault),
    baseDirs: [join(roleDir, 'templates'), join(roleDir, 'files'), roleDir, dir, join(dir, '..')],
    expansion,
  });
  const load = (sub: string): Task[] => {
    const f = file(sub);
    if (!f) return [];
    const s = ts(f);
    const items = s.src.data ?? [];
    if (!Array.isArray(items)) throw err(s.src, [], `${sub}/main.yaml of role ${name} must be a list`);
    // A task's own vars: win over the role's vars (Ansible: task vars > role vars).
    return expandTasks(items, sub === 'handlers' ? { ...s, staticIncludes: true } : s, []).map((t) => ({
      ...t,
      roleVars: { ...roleVars, ...(t.roleVars ?? {}) },
      roleDefaults,
      ...(roleDefaultsFile ? { roleDefaultsFile } : {}),
      name: `${name} : ${t.name}`,
    }));
  };
  const roleTags = isObj(r) ? asList(r.tags).map(String) : [];
  const tasks = load('tasks').map((t) => ({ ...t, tags: [...t.tags, ...roleTags] }));
  const handlers = load('handlers').map((h) => ({
    ...h,
    name: h.name.replace(`${name} : `, ''),
    listen: [h.name.replace(`${name} : `, ''), `${name} : ${h.name.replace(`${name} : `, '')}`, ...(h.listen ?? [])],
  }));
  return { tasks, handlers, defaults: roleDefaults, vars: roleVars };
}

export function asList(v: unknown): unknown[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

export function err(src: YamlSource, path: Path, msg: string, hint?: string): ConfigError {
  const p = src.pos(path);
  return new ConfigError('E_CONFIG', msg, {
    where: { file: src.file, line: p?.line, col: p?.col, field: fieldName(path) },
    hint,
  });
}

function fieldName(path: Path): string | undefined {
  if (!path.length) return undefined;
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : `${i ? '.' : ''}${s}`)).join('');
}
