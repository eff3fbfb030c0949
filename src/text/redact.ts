import { setOwn } from '../data/own-record.js';

/**
 * Secrets never reach output: every known secret value is replaced wherever it appears.
 *
 * One Redactor per command, live: the run adds values as it learns them (a secret-named variable's
 * rendered value per host, the registered result of a `no_log` task) and every sink (terminal,
 * JSON, report, diff, errors, journal metadata) consults the same instance.
 */
export const SECRET_NAME = /(pass(word)?|passwd|secret|token|auth_pass|private_key_passphrase)$/i;

export const MASK = '********';

/**
 * Shorter values are never masked: replacing every `ok` or `1` in the output would hide the
 * output, not the secret. A secret that short is no secret; `docs/security.md` says so.
 */
export const MIN_SECRET_LENGTH = 3;

/** How far a value is walked for secrets: data from YAML and hosts, never deeper in practice. */
const MAX_DEPTH = 64;

/** Renders a variable's value for one host (templates); throws when it cannot. */
export type RenderFn = (v: string) => unknown;

export class Redactor {
  /** Every form to replace, longest first. */
  private forms: string[] = [];
  private readonly known = new Set<string>();

  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  /**
   * `secretValues`: values known to be secret whatever their name (everything decrypted from a vault,
   * values tagged `!secret`). `render` renders a templated secret for the host the vars belong to.
   */
  static fromVars(
    varSets: Iterable<Record<string, unknown>>,
    extraNames: string[] = [],
    secretValues: Iterable<string> = [],
    render?: RenderFn,
  ): Redactor {
    const red = new Redactor(secretValues);
    for (const vars of varSets) red.addVars(vars, extraNames, render);
    return red;
  }

  /** Add secret values. A secret also hides as its JSON-escaped text and, when it spans lines, line by line. */
  add(values: Iterable<string>): void {
    let grew = false;
    for (const v of values) {
      if (v.length < MIN_SECRET_LENGTH || this.known.has(v)) continue;
      this.known.add(v);
      const forms = [v, JSON.stringify(v).slice(1, -1), ...v.split(/\r?\n/)];
      for (const f of forms) if (f.length >= MIN_SECRET_LENGTH && !this.forms.includes(f)) this.forms.push(f);
      grew = true;
    }
    if (grew) this.forms.sort((a, b) => b.length - a.length);
  }

  /** Every string and number inside `v` (mappings and lists walked) is a secret. */
  addValue(v: unknown): void {
    this.add(leaves(v));
  }

  /**
   * The secrets of a set of variables: every value under a secret-named key (at any depth, so
   * `creds.password`), under a name in `lvsrun_secret_vars` or `extraNames`; templated ones rendered.
   */
  addVars(vars: Record<string, unknown>, extraNames: string[] = [], render?: RenderFn): void {
    const marked = Array.isArray(vars.lvsrun_secret_vars) ? vars.lvsrun_secret_vars.map(String) : [];
    const seen = new Set<object>();
    const visit = (x: unknown, depth: number): void => {
      if (!x || typeof x !== 'object' || seen.has(x) || depth > MAX_DEPTH) return;
      seen.add(x);
      for (const [k, v] of Object.entries(x)) {
        if (SECRET_NAME.test(k) || marked.includes(k) || extraNames.includes(k)) this.addSecretValue(v, render);
        else visit(v, depth + 1);
      }
    };
    visit(vars, 0);
  }

  private addSecretValue(v: unknown, render?: RenderFn): void {
    const found = leaves(v);
    this.add(found);
    if (!render) return;
    for (const s of found) {
      if (!s.includes('{{')) continue;
      try {
        this.addValue(render(s));
      } catch {
        // Not renderable here (a variable of another scope): the task that uses it fails on its own.
      }
    }
  }

  text(s: string): string {
    let out = s;
    for (const sec of this.forms) if (out.includes(sec)) out = out.split(sec).join(MASK);
    return out;
  }

  /** A copy with secrets replaced in every string; a number that is itself a secret becomes the mask. */
  deep<T>(v: T): T {
    // Walking values, not JSON text: replacing inside JSON text breaks it when a secret is a number.
    const plain = JSON.parse(JSON.stringify(v) ?? 'null') as unknown;
    const walk = (x: unknown): unknown => {
      if (typeof x === 'string') return this.text(x);
      if (typeof x === 'number') return this.known.has(String(x)) ? MASK : x;
      if (Array.isArray(x)) return x.map(walk);
      if (x && typeof x === 'object') {
        const o: Record<string, unknown> = {};
        for (const [k, val] of Object.entries(x)) setOwn(o, this.text(k), walk(val));
        return o;
      }
      return x;
    };
    return walk(plain) as T;
  }
}

/** Strings and numbers inside a value, as strings. */
function leaves(v: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<object>();
  const walk = (x: unknown, depth: number): void => {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'bigint') out.push(String(x));
    else if (x && typeof x === 'object' && !seen.has(x) && depth <= MAX_DEPTH) {
      seen.add(x);
      for (const val of Object.values(x)) walk(val, depth + 1);
    }
  };
  walk(v, 0);
  return out;
}
