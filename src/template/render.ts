import Handlebars from 'handlebars';
import { ConfigError, type Where } from '../errors.js';
import { quote as shellQuote } from '../transport/shell.js';
import { isData, MISSING, ownData } from './own-data.js';
import { same } from './same.js';

/** Only this file imports handlebars. Strict mode: an undefined variable is an error naming it. */
const hb = Handlebars.create();

const helpers = {
  default: (v: unknown, d: unknown) => (v === undefined || v === null || v === '' ? d : v),
  eq: (a: unknown, b: unknown) => same(a, b),
  ne: (a: unknown, b: unknown) => !same(a, b),
  gt: (a: number, b: number) => a > b,
  lt: (a: number, b: number) => a < b,
  and: (...a: unknown[]) => a.slice(0, -1).every(Boolean),
  or: (...a: unknown[]) => a.slice(0, -1).some(Boolean),
  not: (a: unknown) => !a,
  join: (a: unknown, sep: unknown) =>
    Array.isArray(a) ? a.join(typeof sep === 'string' ? sep : ',') : String(a ?? ''),
  upper: (s: unknown) => String(s ?? '').toUpperCase(),
  lower: (s: unknown) => String(s ?? '').toLowerCase(),
  json: (v: unknown) => JSON.stringify(v),
  quote: (v: unknown) => quoteArg(v),
  add: (a: number, b: number) => Number(a) + Number(b),
  len: (v: unknown) => (Array.isArray(v) || typeof v === 'string' ? v.length : Object.keys(v ?? {}).length),
};
hb.registerHelper(helpers);

/**
 * Only these helpers and Handlebars' built-ins can be called: `{{x.y arg}}` with a variable in
 * the helper's place is a compile error, so no value is ever invoked as a function.
 */
const COMPILE_OPTIONS = {
  strict: true,
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(helpers).map((k) => [k, true])),
} as const;
const RUNTIME_OPTIONS = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false } as const;

/** POSIX shell single-quoting, like Ansible's `quote` filter: the value is one word, never code. */
function quoteArg(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (s.includes('\0')) throw new Error('quote: the value contains a NUL byte, which no shell word can hold');
  return shellQuote(s);
}

type Compiled = (ctx: unknown, opts: typeof RUNTIME_OPTIONS) => string;
const MAX_DEPTH = 20;

export interface RenderCtx {
  vars: Record<string, unknown>;
  where?: Where;
}

export class TemplateEngine {
  private readonly cache = new Map<string, Compiled>();
  /** Per text: its single `{{…}}` node when it is nothing else (see nativeValue), or null. */
  readonly singleNodes = new Map<string, Node | null>();

  compile(src: string): (ctx: Record<string, unknown>) => string {
    let c = this.cache.get(src);
    if (!c) {
      c = hb.compile(src, COMPILE_OPTIONS);
      this.cache.set(src, c);
    }
    const run = c;
    return (ctx) => run(ctx, RUNTIME_OPTIONS);
  }

  /** Render a template text (a .hbs file or a string value) against vars. */
  renderString(src: string, vars: Record<string, unknown>, where: Where = {}): string {
    try {
      return this.compile(src)(lazyVars(vars, this, where));
    } catch (e) {
      throw templateError(e, src, where);
    }
  }

  /**
   * Render every string inside a value. A string that is exactly one `{{ path }}` keeps the
   * referenced value's type (a list stays a list, a number a number), as Ansible's native types do.
   * What comes out is data: callers bind it with `bindData` so it is never rendered again.
   */
  renderValue(v: unknown, vars: Record<string, unknown>, where: Where = {}): unknown {
    if (typeof v === 'string') {
      if (!v.includes('{{')) return v;
      const native = singleExpr(v) ? nativeValue(v, lazyVars(vars, this, where), this.singleNodes) : MISSING;
      return native !== MISSING ? native : this.renderString(v, vars, where);
    }
    if (Array.isArray(v)) {
      return v.map((x, i) => this.renderValue(x, vars, { ...where, field: `${where.field ?? ''}[${i}]` }));
    }
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [
          k,
          this.renderValue(x, vars, { ...where, field: where.field ? `${where.field}.${k}` : k }),
        ]),
      );
    }
    return v;
  }
}

/** A path in the render context: own data members only (see own-data.ts). */
function lookupPath(ctx: Record<string, unknown>, parts: readonly string[]): unknown {
  const [head, ...rest] = parts;
  // The context's own getters are lazyVars' renderers; anything else on the way must be plain data.
  if (head === undefined || !Object.hasOwn(ctx, head)) return MISSING;
  let cur: unknown = ctx[head];
  for (const seg of rest) {
    cur = ownData(cur, seg);
    if (cur === MISSING) return MISSING;
  }
  return cur;
}

/** A text that is one `{{…}}` and nothing else (no block, no comment, no surrounding text). */
const singleExpr = (src: string): boolean => /^\{\{[^{}#/!>&^]/.test(src) && /\}\}$/.test(src);

type Node = { type: string } & Record<string, unknown>;
/** What nativeValue cannot evaluate itself: the text is rendered by Handlebars instead. */
const UNSUPPORTED: unique symbol = Symbol('unsupported');

/**
 * The value of a template that is exactly one `{{expr}}`, with its type, as in Ansible: a variable
 * (a path) keeps any type but a string; a helper call (`{{default x y}}`, `{{lookup m k}}`) keeps a
 * mapping or a list, which as text would only be `[object Object]` or `a,b`. MISSING when the text
 * should be rendered as usual (a string, an undefined variable, whose error Handlebars reports).
 * The value is returned as it is: nothing inside it is rendered again.
 */
function nativeValue(src: string, ctx: Record<string, unknown>, nodes: Map<string, Node | null>): unknown {
  let node = nodes.get(src);
  if (node === undefined) {
    node = null;
    try {
      const body = (hb.parse(src) as unknown as { body: Node[] }).body;
      if (body.length === 1 && body[0]!.type === 'MustacheStatement') node = body[0]!;
    } catch {
      // a syntax error is Handlebars' to report
    }
    nodes.set(src, node);
  }
  if (!node) return MISSING;
  const path = node.path as Node;
  const params = node.params as Node[];
  if (!params.length && !node.hash) {
    const v = path.type === 'PathExpression' ? pathValue(path, ctx) : UNSUPPORTED;
    return v === UNSUPPORTED || v === MISSING || v === undefined || typeof v === 'string' ? MISSING : v;
  }
  const v = callHelper(node, ctx);
  return v !== null && typeof v === 'object' ? v : MISSING;
}

function pathValue(p: Node, ctx: Record<string, unknown>): unknown {
  // @data, ../ and `this` are Handlebars' own: leave them to it.
  if (p.data || p.depth || !(p.parts as string[]).length) return UNSUPPORTED;
  return lookupPath(ctx, p.parts as string[]);
}

function evalParam(e: Node, ctx: Record<string, unknown>): unknown {
  switch (e.type) {
    case 'PathExpression': {
      const v = pathValue(e, ctx);
      // As in Handlebars, a helper's argument may be undefined (`{{default x 1}}`).
      return v === MISSING ? undefined : v;
    }
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral':
      return e.value;
    case 'NullLiteral':
      return null;
    case 'UndefinedLiteral':
      return undefined;
    case 'SubExpression':
      return callHelper(e, ctx);
    default:
      return UNSUPPORTED;
  }
}

function callHelper(e: Node, ctx: Record<string, unknown>): unknown {
  const path = e.path as Node;
  const hash = e.hash as { pairs: unknown[] } | undefined;
  if (path.type !== 'PathExpression' || hash?.pairs.length) return UNSUPPORTED;
  const name = path.original as string;
  const args = (e.params as Node[]).map((p) => evalParam(p, ctx));
  if (args.includes(UNSUPPORTED)) return UNSUPPORTED;
  if (name === 'lookup') {
    const v = ownData(args[0], String(args[1]));
    return v === MISSING ? undefined : v;
  }
  if (!Object.hasOwn(helpers, name)) return UNSUPPORTED;
  try {
    // Handlebars passes an options object last (and, or drop it).
    return (helpers[name as keyof typeof helpers] as (...a: unknown[]) => unknown)(...args, {});
  } catch {
    return UNSUPPORTED;
  }
}

/*
 * Which variables are data, never templates: loop items, registered results, values a module
 * already rendered. The set rides on the vars record under a symbol: `{ ...vars, x }` keeps it,
 * Object.entries and JSON never see it.
 */
const DATA_KEYS = Symbol('lvsrun.dataKeys');
type VarsRecord = Record<string, unknown> & { [DATA_KEYS]?: ReadonlySet<string> };

function dataKeys(vars: Record<string, unknown>): ReadonlySet<string> {
  return (vars as VarsRecord)[DATA_KEYS] ?? new Set();
}

/** `vars` with `keys` marked as data: `{{` in their values is text, as in Ansible's unsafe values. */
export function markData(vars: Record<string, unknown>, keys: Iterable<string>): Record<string, unknown> {
  const out: VarsRecord = { ...vars };
  out[DATA_KEYS] = new Set([...dataKeys(vars), ...keys]);
  return out;
}

/** `vars` with `data` bound on top, every binding of it data (a loop item, a module's context). */
export function bindData(vars: Record<string, unknown>, data: Record<string, unknown>): Record<string, unknown> {
  return markData({ ...vars, ...data }, Object.keys(data));
}

/*
 * The run's `hostvars`: each host's variables, rendered in that host's own context when a template
 * reaches them (`{{hostvars.lb1.x}}` with x = "{{inventory_hostname}}" is lb1, as in Ansible), not
 * in the context of the host whose task reads them.
 */
const HOSTVARS = Symbol('lvsrun.hostvars');

/** Mark `hv` (host name → that host's variables) as the run's hostvars. */
export function markHostvars<T extends object>(hv: T): T {
  Object.defineProperty(hv, HOSTVARS, { value: true });
  return hv;
}

function isHostvars(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as { [HOSTVARS]?: true })[HOSTVARS] === true;
}

/** A null-prototype render context; Handlebars names it in its strict-mode error as `name`. */
function context(name: string): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  // a symbol key no template can reach
  Object.defineProperty(out, Symbol.toPrimitive, { value: () => name });
  return out;
}

/** `out[k]` is `compute()`, computed on first access and kept. */
function defineLazy(out: Record<string, unknown>, k: string, compute: () => unknown): void {
  let memo: { v: unknown } | undefined;
  Object.defineProperty(out, k, { enumerable: true, get: () => (memo ??= { v: compute() }).v });
}

/** What a template sees as `hostvars`: per host, a render context of that host's own variables. */
function hostvarsContext(
  hv: Record<string, unknown>,
  groups: unknown,
  eng: TemplateEngine,
  where: Where,
  depth: number,
): Record<string, unknown> {
  const out = context('[hostvars]');
  for (const [h, own] of Object.entries(hv)) {
    if (!own || typeof own !== 'object') continue;
    // the host's own variables, and the run-wide magic they may name
    defineLazy(out, h, () => lazyVars({ ...own, groups, hostvars: hv }, eng, where, depth + 1));
  }
  return out;
}

/**
 * The render context: a null-prototype record of the variables (so `constructor`, `__proto__`,
 * `toString` are simply undefined) where a variable holding a template renders it on first
 * access, with a depth limit against cycles. Data variables are never rendered; a value that is
 * not data (a function) is left out.
 */
function lazyVars(
  vars: Record<string, unknown>,
  eng: TemplateEngine,
  where: Where,
  depth = 0,
): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new ConfigError('E_TEMPLATE', 'variables refer to each other in a cycle', { where });
  const data = dataKeys(vars);
  const out = context('[variables]');
  for (const [k, v] of Object.entries(vars)) {
    if (!isData(v)) continue;
    if (isHostvars(v) && !data.has(k)) defineLazy(out, k, () => hostvarsContext(v, vars.groups, eng, where, depth));
    else if (data.has(k) || !hasTemplate(v)) Object.defineProperty(out, k, { enumerable: true, value: v });
    else defineLazy(out, k, () => deepRender(v, vars, eng, { ...where, field: where.field ?? k }, depth + 1));
  }
  return out;
}

function deepRender(
  v: unknown,
  vars: Record<string, unknown>,
  eng: TemplateEngine,
  where: Where,
  depth: number,
): unknown {
  if (typeof v === 'string' && v.includes('{{')) {
    try {
      const ctx = lazyVars(vars, eng, where, depth);
      // `outer: "{{inner}}"` is inner itself, a mapping or a list included, as in Ansible.
      const native = singleExpr(v) ? nativeValue(v, ctx, eng.singleNodes) : MISSING;
      return native !== MISSING ? native : eng.compile(v)(ctx);
    } catch (e) {
      throw templateError(e, v, where);
    }
  }
  if (Array.isArray(v)) return v.map((x) => deepRender(x, vars, eng, where, depth));
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepRender(x, vars, eng, where, depth)]));
  }
  return v;
}

// Objects shared by every render (hostvars, groups) are scanned once, not once per task and host.
const scanned = new WeakMap<object, boolean>();

/**
 * Mark a value as data: a registered result holds what a host printed, and `{{` in it is text, not
 * a template (Ansible marks such values unsafe for the same reason).
 */
export function asData<T extends object>(v: T): T {
  scanned.set(v, false);
  return v;
}

function hasTemplate(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{');
  if (!v || typeof v !== 'object') return false;
  let r = scanned.get(v);
  if (r === undefined) {
    r = Array.isArray(v) ? v.some(hasTemplate) : Object.values(v).some(hasTemplate);
    scanned.set(v, r);
  }
  return r;
}

/**
 * Parse without rendering: a syntax mistake is found when the playbook loads, before any host is
 * touched. `where.line` is the line the text starts on; the error names the line inside it.
 */
export function checkTemplateSyntax(src: string, where: Where): void {
  if (!src.includes('{{')) return;
  try {
    hb.parse(src);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const at = /line (\d+)/.exec(msg);
    const line = at ? (where.line ?? 1) + Number(at[1]) - 1 : where.line;
    throw new ConfigError(
      'E_TEMPLATE',
      `template syntax error: ${msg
        .split('\n')
        .filter((l) => !/^-*\^$/.test(l))
        .slice(0, 3)
        .join(' | ')}`,
      {
        where: { ...where, ...(line !== undefined ? { line } : {}) },
        hint: 'lvsrun templates are Handlebars: {{var}}, {{#if x}}…{{/if}}, {{#each list}}…{{/each}}',
      },
    );
  }
  try {
    hb.precompile(src, COMPILE_OPTIONS);
  } catch (e) {
    const line = (e as { lineNumber?: number }).lineNumber;
    throw templateError(e, src, { ...where, ...(line !== undefined ? { line: (where.line ?? 1) + line - 1 } : {}) });
  }
}

function unknownHelperError(name: string, where: Where): ConfigError {
  return new ConfigError('E_TEMPLATE', `'${name}' is not a helper: a value in a template is never called`, {
    where,
    hint: `helpers are ${Object.keys(helpers).join(', ')} and Handlebars' if, unless, each, with, lookup`,
  });
}

function templateError(e: unknown, src: string, where: Where): ConfigError {
  if (e instanceof ConfigError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const helper = /^You specified knownHelpersOnly, but used the unknown helper (\S+)/.exec(msg);
  if (helper) {
    const at = e as { lineNumber?: number; column?: number };
    const text = src.split('\n')[(at.lineNumber ?? 1) - 1]?.slice(at.column ?? 0) ?? '';
    return unknownHelperError(/^[{~#(\s]*([^\s})]+)/.exec(text)?.[1] ?? helper[1]!, where);
  }
  const nd = /^"([^"]+)" not defined in .* - (\d+):(\d+)/.exec(msg);
  if (nd) {
    const line = src.split('\n')[Number(nd[2]) - 1] ?? '';
    const expr = /^\{*\s*([^\s}]+)/.exec(line.slice(Number(nd[3])))?.[1] ?? nd[1];
    return new ConfigError('E_TEMPLATE', `undefined variable '${expr}'`, {
      where: { ...where, ...(where.line ? {} : { line: Number(nd[2]) }) },
      hint:
        `define ${expr} in the inventory, the play's vars or with -e ${expr}=...; ` +
        `use {{default ${expr} "value"}} for an optional value`,
    });
  }
  // A helper's argument such as `x.y` in {{#if x.y}} is read without strict mode's check: name the
  // undefined part instead of passing JavaScript's message on.
  const cr = /^Cannot read properties of (undefined|null) \(reading '([^']*)'\)/.exec(msg);
  const path = cr ? new RegExp(`([\\w@.-]+)\\.${cr[2]!.replace(/[^\w-]/g, '')}(?![\\w-])`).exec(src) : null;
  if (cr && path) {
    const head = path[1]!;
    return new ConfigError('E_TEMPLATE', `'${head}' is ${cr[1]}, so '${head}.${cr[2]}' cannot be read`, {
      where,
      hint: `define ${head}, or test it first: {{#if ${head}}}…{{/if}}`,
    });
  }
  return new ConfigError('E_TEMPLATE', `template error: ${msg.split('\n').slice(0, 3).join(' ')}`, {
    where,
    hint: 'lvsrun templates are Handlebars: {{var}}, {{#if x}}…{{/if}}, {{#each list}}…{{/each}}',
  });
}

/**
 * The variables a template reads from its top-level context (the head of each path, `x` in
 * `{{x.y}}`), in order of first use. Paths inside `#each` and `#with` bodies are left out (they
 * read the item), as are helpers, `this`, `../` and `@data`. A text that does not parse reads none.
 */
export function rootNames(src: string): string[] {
  if (!src.includes('{{')) return [];
  let body: Node[];
  try {
    body = (hb.parse(src) as unknown as { body: Node[] }).body;
  } catch {
    return [];
  }
  const out = new Set<string>();
  const path = (p: unknown, asHelper: boolean): void => {
    const n = p as Node | undefined;
    if (!n) return;
    if (n.type === 'SubExpression') return call(n);
    if (n.type !== 'PathExpression' || asHelper || n.data || n.depth) return;
    if (/^(?:this|\.)(?:$|[./])/.test(String(n.original))) return;
    const head = (n.parts as string[])[0];
    if (head !== undefined) out.add(head);
  };
  const call = (n: Node): void => {
    const params = (n.params as unknown[] | undefined) ?? [];
    const pairs = (n.hash as { pairs?: Array<{ value: unknown }> } | undefined)?.pairs ?? [];
    // `{{name}}` with no argument may be a variable or a helper: a known helper's name is not a variable.
    const head = (n.path as Node).type === 'PathExpression' ? String((n.path as Node).original) : '';
    path(n.path, params.length > 0 || pairs.length > 0 || Object.hasOwn(helpers, head) || BUILTIN.has(head));
    for (const x of params) path(x, false);
    for (const x of pairs) path(x.value, false);
  };
  const walk = (nodes: Node[] | undefined): void => {
    for (const n of nodes ?? []) {
      if (n.type === 'MustacheStatement' || n.type === 'SubExpression') call(n);
      else if (n.type === 'BlockStatement') {
        call(n);
        const name = String((n.path as Node).original);
        // each and with run their body against the item; their {{else}} runs in the outer context.
        if (name !== 'each' && name !== 'with') walk((n.program as { body?: Node[] } | null)?.body);
        walk((n.inverse as { body?: Node[] } | null)?.body);
      }
    }
  };
  walk(body);
  return [...out];
}

const BUILTIN = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log']);
