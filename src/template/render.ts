import Handlebars from 'handlebars';
import { ConfigError, type Where } from '../errors.js';

/** Only this file imports handlebars. Strict mode: an undefined variable is an error naming it. */
const hb = Handlebars.create();

hb.registerHelper({
  default: (v: unknown, d: unknown) => (v === undefined || v === null || v === '' ? d : v),
  eq: (a: unknown, b: unknown) => a === b,
  ne: (a: unknown, b: unknown) => a !== b,
  gt: (a: number, b: number) => a > b,
  lt: (a: number, b: number) => a < b,
  and: (...a: unknown[]) => a.slice(0, -1).every(Boolean),
  or: (...a: unknown[]) => a.slice(0, -1).some(Boolean),
  not: (a: unknown) => !a,
  join: (a: unknown, sep: unknown) => (Array.isArray(a) ? a.join(typeof sep === 'string' ? sep : ',') : String(a ?? '')),
  upper: (s: unknown) => String(s ?? '').toUpperCase(),
  lower: (s: unknown) => String(s ?? '').toLowerCase(),
  json: (v: unknown) => JSON.stringify(v),
  quote: (v: unknown) => JSON.stringify(String(v ?? '')),
  add: (a: number, b: number) => Number(a) + Number(b),
  len: (v: unknown) => (Array.isArray(v) || typeof v === 'string' ? v.length : Object.keys(v ?? {}).length),
});

type Compiled = (ctx: unknown) => string;
const MAX_DEPTH = 20;

export interface RenderCtx {
  vars: Record<string, unknown>;
  where?: Where;
}

export class TemplateEngine {
  private readonly cache = new Map<string, Compiled>();

  compile(src: string): Compiled {
    let c = this.cache.get(src);
    if (!c) {
      c = hb.compile(src, { strict: true, noEscape: true });
      this.cache.set(src, c);
    }
    return c;
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
   */
  renderValue(v: unknown, vars: Record<string, unknown>, where: Where = {}): unknown {
    if (typeof v === 'string') {
      if (!v.includes('{{')) return v;
      const single = /^\{\{\s*([A-Za-z_][\w]*(?:\.[\w-]+)*)\s*\}\}$/.exec(v);
      if (single) {
        const val = lookupPath(lazyVars(vars, this, where), single[1]!);
        if (val !== undefined && typeof val !== 'string') return val;
      }
      return this.renderString(v, vars, where);
    }
    if (Array.isArray(v)) return v.map((x, i) => this.renderValue(x, vars, { ...where, field: `${where.field ?? ''}[${i}]` }));
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.renderValue(x, vars, { ...where, field: where.field ? `${where.field}.${k}` : k })]));
    }
    return v;
  }
}

function lookupPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as object))) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/**
 * Variables may refer to other variables: expose top-level vars through getters that render
 * their own templates on first access, with a depth limit against cycles.
 */
function lazyVars(vars: Record<string, unknown>, eng: TemplateEngine, where: Where, depth = 0): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new ConfigError('E_TEMPLATE', 'variables refer to each other in a cycle', { where });
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (!hasTemplate(v)) { out[k] = v; continue; }
    let memo: { v: unknown } | undefined;
    Object.defineProperty(out, k, {
      enumerable: true,
      get: () => {
        if (!memo) memo = { v: deepRender(v, vars, eng, { ...where, field: where.field ?? k }, depth + 1) };
        return memo.v;
      },
    });
  }
  return out;
}

function deepRender(v: unknown, vars: Record<string, unknown>, eng: TemplateEngine, where: Where, depth: number): unknown {
  if (typeof v === 'string' && v.includes('{{')) {
    try { return eng.compile(v)(lazyVars(vars, eng, where, depth)); } catch (e) { throw templateError(e, v, where); }
  }
  if (Array.isArray(v)) return v.map((x) => deepRender(x, vars, eng, where, depth));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepRender(x, vars, eng, where, depth)]));
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
    throw new ConfigError('E_TEMPLATE', `template syntax error: ${msg.split('\n').filter((l) => !/^-*\^$/.test(l)).slice(0, 3).join(' | ')}`, {
      where: { ...where, ...(line !== undefined ? { line } : {}) }, hint: 'lvsrun templates are Handlebars: {{var}}, {{#if x}}…{{/if}}, {{#each list}}…{{/each}}' });
  }
}

function templateError(e: unknown, src: string, where: Where): ConfigError {
  if (e instanceof ConfigError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const nd = /^"([^"]+)" not defined in .* - (\d+):(\d+)/.exec(msg);
  if (nd) {
    const line = src.split('\n')[Number(nd[2]) - 1] ?? '';
    const expr = /^\{*\s*([^\s}]+)/.exec(line.slice(Number(nd[3])))?.[1] ?? nd[1];
    return new ConfigError('E_TEMPLATE', `undefined variable '${expr}'`, {
      where: { ...where, ...(where.line ? {} : { line: Number(nd[2]) }) },
      hint: `define ${expr} in the inventory, the play's vars or with -e ${expr}=...; use {{default ${expr} "value"}} for an optional value`,
    });
  }
  return new ConfigError('E_TEMPLATE', `template error: ${msg.split('\n').slice(0, 3).join(' ')}`, { where, hint: 'lvsrun templates are Handlebars: {{var}}, {{#if x}}…{{/if}}, {{#each list}}…{{/each}}' });
}
