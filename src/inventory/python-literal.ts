/**
 * Values in INI inventories, read as Ansible reads them: Python's ast.literal_eval (numbers, strings,
 * True/False/None, lists, tuples, dicts, sets), else the text itself. Only literals are read: nothing is
 * evaluated, so a value can never run code.
 */
export function iniLiteral(text: string): unknown {
  const p = new LiteralParser(text.replace(/^[ \t]+/, ''));
  try {
    const v = p.top();
    return v;
  } catch (e) {
    if (e === NOT_LITERAL) return text;
    throw e;
  }
}

const NOT_LITERAL = Symbol('not a Python literal');
const DIGITS = String.raw`\d(?:_?\d)*`;
const EXPONENT = `(?:[eE][+-]?${DIGITS})`;
/** Python's number tokens: hex, octal, binary, floats with a dot or an exponent, decimal integers. */
const NUMBER = new RegExp(
  `^(?:${[
    '0[xX](?:_?[0-9a-fA-F])+',
    '0[oO](?:_?[0-7])+',
    '0[bB](?:_?[01])+',
    `(?:${DIGITS})?\\.${DIGITS}${EXPONENT}?`,
    `${DIGITS}\\.?${EXPONENT}?`,
  ].join('|')})`,
);
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\n': '',
};
/** Nesting deeper than this is kept as text rather than risking the call stack. */
const MAX_DEPTH = 100;

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  top(): unknown {
    const first = this.value(0);
    this.ws();
    let v: unknown = first;
    if (this.peek() === ',') v = this.seqTail(first, '', 0);
    this.ws();
    if (this.i < this.s.length) fail();
    return v;
  }

  private peek(): string {
    return this.s[this.i] ?? '';
  }

  /** Whitespace and a trailing # comment, as Python's tokenizer skips them. */
  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === ' ' || c === '\t' || c === '\f') this.i++;
      else if (c === '#') this.i = this.s.length;
      else if (c === '\\' && this.s[this.i + 1] === '\n') this.i += 2;
      else break;
    }
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) fail();
    this.ws();
    const c = this.peek();
    if (c === '[') return this.collection(']', depth);
    if (c === '(') return this.collection(')', depth);
    if (c === '{') return this.braces(depth);
    if (c === '-' || c === '+') {
      this.i++;
      this.ws();
      const n = this.number();
      return c === '-' ? -n : n;
    }
    if (/[0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.s.slice(this.i))?.[0];
    if (word !== undefined) {
      const after = this.s[this.i + word.length];
      if (/^[rRuUbB]{1,2}$/.test(word) && (after === '"' || after === "'")) return this.strings();
      this.i += word.length;
      if (word === 'True') return true;
      if (word === 'False') return false;
      if (word === 'None') return null;
      fail();
    }
    if (c === '"' || c === "'") return this.strings();
    return fail();
  }

  /** `( ... )` or `[ ... ]`: a tuple or list, both become arrays; `(x)` is just x. */
  private collection(close: string, depth: number): unknown {
    this.i++;
    this.ws();
    if (this.peek() === close) {
      this.i++;
      return [];
    }
    const first = this.value(depth + 1);
    this.ws();
    if (close === ')' && this.peek() === ')') {
      this.i++;
      return first;
    }
    return this.seqTail(first, close, depth);
  }

  private seqTail(first: unknown, close: string, depth: number): unknown[] {
    const out = [first];
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === close && close) {
        this.i++;
        return out;
      }
      if (c !== ',') {
        if (!close && this.i >= this.s.length) return out;
        fail();
      }
      this.i++;
      this.ws();
      if (this.peek() === close && close) {
        this.i++;
        return out;
      }
      if (!close && this.i >= this.s.length) return out;
      out.push(this.value(depth + 1));
    }
  }

  /** `{}` / `{k: v}` is a dict (an object with own keys); `{a, b}` a set (an array). */
  private braces(depth: number): unknown {
    this.i++;
    this.ws();
    if (this.peek() === '}') {
      this.i++;
      return {};
    }
    const first = this.value(depth + 1);
    this.ws();
    if (this.peek() !== ':') return this.seqTail(first, '}', depth);
    const out: Record<string, unknown> = {};
    let key = first;
    for (;;) {
      this.ws();
      if (this.peek() !== ':') fail();
      this.i++;
      const v = this.value(depth + 1);
      if (typeof key === 'object' && key !== null) fail();
      Object.defineProperty(out, pyKey(key), { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      if (this.peek() === '}') {
        this.i++;
        return out;
      }
      if (this.peek() !== ',') fail();
      this.i++;
      this.ws();
      if (this.peek() === '}') {
        this.i++;
        return out;
      }
      key = this.value(depth + 1);
    }
  }

  private number(): number {
    const rest = this.s.slice(this.i);
    const m = NUMBER.exec(rest);
    if (!m) return fail();
    const t = m[0].replace(/_/g, '');
    if (/^\d+$/.test(t) && t.length > 1 && t.startsWith('0') && /[1-9]/.test(t)) fail(); // 010 is not Python 3
    if (/^[A-Za-z0-9_.]/.test(rest[m[0].length] ?? '')) fail(); // 1j, 12abc
    this.i += m[0].length;
    const n = /^0[oO]/.test(t) ? parseInt(t.slice(2), 8) : /^0[bB]/.test(t) ? parseInt(t.slice(2), 2) : Number(t);
    // Python integers are unbounded; one that a double cannot hold exactly stays text.
    if (!/[.eE]/.test(t) || /^0[xX]/.test(t)) {
      if (!Number.isSafeInteger(n)) fail();
    }
    return n;
  }

  /** One or more adjacent string literals, joined like Python does. */
  private strings(): string {
    let out = '';
    let any = false;
    for (;;) {
      this.ws();
      const prefix = /^[rRuUbB]{0,2}(?=["'])/.exec(this.s.slice(this.i))?.[0];
      if (prefix === undefined) break;
      if (/[bB]/.test(prefix) || /^[uU]./.test(prefix)) fail(); // bytes; Ansible's text differs
      this.i += prefix.length;
      out += this.string(/[rR]/.test(prefix));
      any = true;
    }
    if (!any) fail();
    return out;
  }

  private string(raw: boolean): string {
    const q = this.s.startsWith(this.peek().repeat(3), this.i) ? this.peek().repeat(3) : this.peek();
    this.i += q.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) fail();
      if (this.s.startsWith(q, this.i)) {
        this.i += q.length;
        return out;
      }
      const c = this.s[this.i++]!;
      if (c === '\n' && q.length === 1) fail();
      if (c !== '\\') {
        out += c;
        continue;
      }
      const n = this.s[this.i++] ?? fail();
      if (raw) {
        out += c + n;
        continue;
      }
      if (Object.hasOwn(ESCAPES, n)) {
        out += ESCAPES[n];
        continue;
      }
      const hex = n === 'x' ? 2 : n === 'u' ? 4 : n === 'U' ? 8 : 0;
      if (hex) {
        const h = this.s.slice(this.i, this.i + hex);
        if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(h)) fail();
        const cp = parseInt(h, 16);
        if (cp > 0x10ffff) fail();
        out += String.fromCodePoint(cp);
        this.i += hex;
        continue;
      }
      if (/[0-7]/.test(n)) {
        const o = /^[0-7]{1,3}/.exec(this.s.slice(this.i - 1))![0];
        out += String.fromCodePoint(parseInt(o, 8));
        this.i += o.length - 1;
        continue;
      }
      out += c + n;
    }
  }
}

function fail(): never {
  // A sentinel, caught by iniLiteral above: the text is then kept as a plain string.
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  throw NOT_LITERAL;
}

/** The JSON key Ansible prints for a Python dict key. */
function pyKey(k: unknown): string {
  if (k === true) return 'true';
  if (k === false) return 'false';
  if (k === null) return 'null';
  return String(k);
}
