import { ConfigError, type Where } from '../errors.js';
import { MISSING, ownData } from '../template/own-data.js';
import { same } from '../template/same.js';

/**
 * A small, safe evaluator for `when`, `changed_when`, `failed_when` and `assert`:
 * literals, variables (a.b, a['b'], a[0]), == != < <= > >=, in / not in, and / or / not,
 * `is [not] defined|none|succeeded|failed|changed|skipped`, parentheses, lists, and the filters
 * bool, int, length, lower, upper, string, default(x). Never JavaScript eval of playbook text.
 */
type Tok = { t: 'num' | 'str' | 'id' | 'op' | 'end'; v: string; at: number };
type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'var'; path: Array<string | Node> }
  | { k: 'list'; items: Node[] }
  | { k: 'un'; op: 'not'; a: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'is'; neg: boolean; test: string; a: Node }
  | { k: 'filter'; name: string; a: Node; args: Node[] };

const UNDEF = Symbol('undefined');

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  const re =
    /\s*(?:(\d+(?:\.\d+)?)|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([A-Za-z_][\w]*)|(==|!=|<=|>=|[<>()[\].,|]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new Error(`unexpected character '${src.slice(i).trim()[0]}' at column ${i + 1}`);
    const at = m.index + m[0].length - (m[1] ?? m[2] ?? m[3] ?? m[4] ?? '').length;
    if (m[1] !== undefined) out.push({ t: 'num', v: m[1], at });
    else if (m[2] !== undefined) out.push({ t: 'str', v: m[2].slice(1, -1).replace(/\\(.)/g, '$1'), at });
    else if (m[3] !== undefined) out.push({ t: 'id', v: m[3], at });
    else out.push({ t: 'op', v: m[4]!, at });
    i = re.lastIndex;
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}
  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private next(): Tok {
    return this.toks[this.i++]!;
  }
  private isKw(v: string): boolean {
    const t = this.peek();
    return t.t === 'id' && t.v === v;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private expect(v: string): void {
    const t = this.next();
    if (t.v !== v) throw new Error(`expected '${v}' at column ${t.at + 1}, found '${t.v || 'end'}'`);
  }

  parse(): Node {
    const n = this.or();
    if (this.peek().t !== 'end') throw new Error(`unexpected '${this.peek().v}' at column ${this.peek().at + 1}`);
    return n;
  }
  private or(): Node {
    let a = this.and();
    while (this.isKw('or')) {
      this.next();
      a = { k: 'bin', op: 'or', a, b: this.and() };
    }
    return a;
  }
  private and(): Node {
    let a = this.not();
    while (this.isKw('and')) {
      this.next();
      a = { k: 'bin', op: 'and', a, b: this.not() };
    }
    return a;
  }
  private not(): Node {
    if (this.isKw('not')) {
      this.next();
      return { k: 'un', op: 'not', a: this.not() };
    }
    return this.cmp();
  }
  private cmp(): Node {
    const a = this.filtered();
    const t = this.peek();
    if (t.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      this.next();
      return { k: 'bin', op: t.v, a, b: this.filtered() };
    }
    if (this.isKw('in')) {
      this.next();
      return { k: 'bin', op: 'in', a, b: this.filtered() };
    }
    if (this.isKw('not') && this.toks[this.i + 1]?.v === 'in') {
      this.i += 2;
      return { k: 'un', op: 'not', a: { k: 'bin', op: 'in', a, b: this.filtered() } };
    }
    if (this.isKw('is')) {
      this.next();
      let neg = false;
      if (this.isKw('not')) {
        this.next();
        neg = true;
      }
      const test = this.next();
      if (test.t !== 'id') throw new Error(`expected a test name after 'is' at column ${test.at + 1}`);
      return { k: 'is', neg, test: test.v, a };
    }
    return a;
  }
  private filtered(): Node {
    let a = this.primary();
    while (this.isOp('|')) {
      this.next();
      const name = this.next();
      if (name.t !== 'id') throw new Error(`expected a filter name at column ${name.at + 1}`);
      const args: Node[] = [];
      if (this.isOp('(')) {
        this.next();
        if (!this.isOp(')')) {
          args.push(this.or());
          while (this.isOp(',')) {
            this.next();
            args.push(this.or());
          }
        }
        this.expect(')');
      }
      a = { k: 'filter', name: name.v, a, args };
    }
    return a;
  }
  private primary(): Node {
    const t = this.next();
    if (t.t === 'num') return { k: 'lit', v: Number(t.v) };
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'op' && t.v === '(') {
      const n = this.or();
      this.expect(')');
      return n;
    }
    if (t.t === 'op' && t.v === '[') {
      const items: Node[] = [];
      if (!this.isOp(']')) {
        items.push(this.or());
        while (this.isOp(',')) {
          this.next();
          items.push(this.or());
        }
      }
      this.expect(']');
      return { k: 'list', items };
    }
    if (t.t === 'id') {
      if (['true', 'True'].includes(t.v)) return { k: 'lit', v: true };
      if (['false', 'False'].includes(t.v)) return { k: 'lit', v: false };
      if (['none', 'None', 'null'].includes(t.v)) return { k: 'lit', v: null };
      const path: Array<string | Node> = [t.v];
      for (;;) {
        if (this.isOp('.')) {
          this.next();
          const p = this.next();
          if (p.t !== 'id' && p.t !== 'num') throw new Error(`expected a name after '.' at column ${p.at + 1}`);
          path.push(p.v);
        } else if (this.isOp('[')) {
          this.next();
          path.push(this.or());
          this.expect(']');
        } else break;
      }
      return { k: 'var', path };
    }
    throw new Error(`unexpected '${t.v || 'end of expression'}' at column ${t.at + 1}`);
  }
}

export function compileExpr(src: string, where: Where = {}): Node {
  try {
    return new Parser(lex(src.replace(/^\s*\{\{|\}\}\s*$/g, ''))).parse();
  } catch (e) {
    throw new ConfigError('E_WHEN', `cannot parse condition '${src}': ${(e as Error).message}`, {
      where,
      hint: "conditions look like: ansible_os_family == 'Debian' and result.rc == 0",
    });
  }
}

export function evalExpr(node: Node, vars: Record<string, unknown>, where: Where = {}): unknown {
  const v = ev(node, vars, where);
  if (v === UNDEF) throw undefinedErr(node, where);
  return v;
}

/** Evaluate `when`: a string or a list of strings (all must hold). */
export function evalCondition(cond: unknown, vars: Record<string, unknown>, where: Where = {}): boolean {
  if (cond === undefined || cond === null) return true;
  if (typeof cond === 'boolean') return cond;
  const list = Array.isArray(cond) ? cond : [cond];
  return list.every((c) => (typeof c === 'boolean' ? c : truthy(evalExpr(compileExpr(String(c), where), vars, where))));
}

function undefinedErr(node: Node, where: Where): ConfigError {
  const name = node.k === 'var' ? node.path.filter((p) => typeof p === 'string').join('.') : 'value';
  return new ConfigError('E_WHEN', `'${name}' is undefined in condition`, {
    where,
    hint: `use '${name} is defined' to test for it`,
  });
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

function ev(n: Node, vars: Record<string, unknown>, where: Where): unknown {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'list':
      return n.items.map((x) => strict(x, vars, where));
    case 'var': {
      let cur: unknown = vars;
      for (const seg of n.path) {
        const key = typeof seg === 'string' ? seg : strict(seg, vars, where);
        // Own data members only: never an inherited `constructor`, a getter or a function.
        cur = ownData(cur, String(key));
        if (cur === MISSING) return UNDEF;
      }
      return cur;
    }
    case 'un':
      return !truthy(strict(n.a, vars, where));
    case 'is': {
      const v = ev(n.a, vars, where);
      const r = test(n.test, v, where);
      return n.neg ? !r : r;
    }
    case 'filter':
      return filter(
        n.name,
        ev(n.a, vars, where),
        n.args.map((x) => strict(x, vars, where)),
        n,
        where,
      );
    case 'bin': {
      if (n.op === 'and') return truthy(strict(n.a, vars, where)) && truthy(strict(n.b, vars, where));
      if (n.op === 'or') return truthy(strict(n.a, vars, where)) || truthy(strict(n.b, vars, where));
      const a = strict(n.a, vars, where);
      const b = strict(n.b, vars, where);
      switch (n.op) {
        case '==':
          return same(a, b);
        case '!=':
          return !same(a, b);
        case '<':
          return ordered(n.op, a, b, where) < 0;
        case '<=':
          return ordered(n.op, a, b, where) <= 0;
        case '>':
          return ordered(n.op, a, b, where) > 0;
        case '>=':
          return ordered(n.op, a, b, where) >= 0;
        case 'in':
          if (typeof b === 'string') return b.includes(String(a));
          if (Array.isArray(b)) return b.some((x) => same(x, a));
          if (b && typeof b === 'object') return ownData(b, String(a)) !== MISSING;
          return false;
      }
    }
  }
  return UNDEF;
}

function strict(n: Node, vars: Record<string, unknown>, where: Where): unknown {
  const v = ev(n, vars, where);
  if (v === UNDEF) throw undefinedErr(n, where);
  return v;
}

/**
 * Equality as Jinja has it: a string never equals a number (`'5' == 5` is false), a boolean equals the
 * number it stands for (`true == 1`), lists are equal item by item and mappings key by key (in any
 * order), anything else only itself.
 */

/** Ordering as Jinja has it: numbers with numbers, strings with strings; anything else is an error. */
function ordered(op: string, a: unknown, b: unknown, where: Where): number {
  const num = (x: unknown): x is number | boolean => typeof x === 'number' || typeof x === 'boolean';
  if (num(a) && num(b)) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new ConfigError('E_WHEN', `'${op}' cannot compare ${kind(a)} with ${kind(b)}`, {
    where,
    hint: "convert first, e.g. 'value | int > 5'",
  });
}

function kind(v: unknown): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

function test(name: string, v: unknown, where: Where): boolean {
  const r = v as { failed?: boolean; changed?: boolean; skipped?: boolean } | undefined;
  switch (name) {
    case 'defined':
      return v !== UNDEF;
    case 'undefined':
      return v === UNDEF;
    case 'none':
      return v === null;
    case 'succeeded':
    case 'success':
      return v !== UNDEF && !r?.failed;
    case 'failed':
    case 'failure':
      return v !== UNDEF && Boolean(r?.failed);
    case 'changed':
    case 'change':
      return v !== UNDEF && Boolean(r?.changed);
    case 'skipped':
    case 'skip':
      return v !== UNDEF && Boolean(r?.skipped);
    default:
      throw new ConfigError('E_WHEN', `unknown test 'is ${name}'`, {
        where,
        hint: 'tests: defined, undefined, none, succeeded, failed, changed, skipped',
      });
  }
}

function filter(name: string, v: unknown, args: unknown[], n: Node, where: Where): unknown {
  if (name === 'default' || name === 'd') return v === UNDEF || v === null ? (args[0] ?? '') : v;
  if (v === UNDEF) throw undefinedErr((n as { a: Node }).a, where);
  switch (name) {
    case 'bool':
      return typeof v === 'string' ? ['true', 'yes', 'on', '1'].includes(v.toLowerCase()) : Boolean(v);
    case 'int':
      return Number.parseInt(String(v), 10) || 0;
    case 'length':
    case 'count':
      return Array.isArray(v) || typeof v === 'string' ? v.length : Object.keys(v ?? {}).length;
    case 'lower':
      return String(v).toLowerCase();
    case 'upper':
      return String(v).toUpperCase();
    case 'string':
      return String(v);
    default:
      throw new ConfigError('E_WHEN', `unknown filter '| ${name}'`, {
        where,
        hint: 'filters: bool, int, length, lower, upper, string, default(x)',
      });
  }
}

/**
 * What decides, before the run, whether a task runs: its `when` and those of the include_tasks it is
 * in (which the run evaluates once, on the include).
 */
export function wholeWhen(task: { when?: unknown; includeWhen?: unknown[] }): unknown {
  if (!task.includeWhen?.length) return task.when;
  const own: unknown[] =
    task.when === undefined || task.when === null ? [] : Array.isArray(task.when) ? task.when : [task.when];
  return [...task.includeWhen, ...own];
}
