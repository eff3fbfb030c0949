/** Typed errors. Every error lvsrun raises on purpose is an LvsrunError with a stable code. */
export type ErrorCode =
  | 'E_CONFIG'
  | 'E_YAML'
  | 'E_TEMPLATE'
  | 'E_MODULE_ARGS'
  | 'E_UNKNOWN_MODULE'
  | 'E_INVENTORY'
  | 'E_PATTERN'
  | 'E_WHEN'
  | 'E_TRANSPORT'
  | 'E_HOSTKEY'
  | 'E_AUTH'
  | 'E_COMMAND'
  | 'E_FACT'
  | 'E_LAB'
  | 'E_USAGE'
  | 'E_ASSERT'
  | 'E_TIMEOUT'
  | 'E_VALIDATION'
  | 'E_LOCKED'
  | 'E_JOURNAL'
  | 'E_VAULT';

export interface Where {
  file?: string;
  line?: number;
  col?: number;
  field?: string;
}

export class LvsrunError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly where: Where;
  host?: string;
  constructor(code: ErrorCode, message: string, opts: { hint?: string; where?: Where; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = opts.hint;
    this.where = opts.where ?? {};
  }

  /** One-line location prefix such as `site.yaml:12:5 (tasks[2].template.src)`. */
  location(): string {
    const { file, line, col, field } = this.where;
    let s = file ?? '';
    if (file && line) s += `:${line}${col ? `:${col}` : ''}`;
    if (field) s += `${s ? ' ' : ''}(${field})`;
    return s;
  }

  format(): string {
    const loc = this.location();
    const lines = [`error[${this.code}]${loc ? ` ${loc}` : ''}: ${this.message}`];
    if (this.hint) lines.push(`  hint: ${this.hint}`);
    return lines.join('\n');
  }
}

/** Bad input found before any host is touched: exit code 1. */
export class ConfigError extends LvsrunError {}

export class TransportError extends LvsrunError {
  constructor(
    message: string,
    opts: { hint?: string; cause?: unknown; code?: 'E_TRANSPORT' | 'E_HOSTKEY' | 'E_AUTH' } = {},
  ) {
    super(opts.code ?? 'E_TRANSPORT', message, opts);
  }
}

export interface CommandOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CommandError extends LvsrunError {
  readonly result: CommandOutcome;
  constructor(what: string, result: CommandOutcome) {
    const err = result.stderr.trim() || result.stdout.trim();
    super(
      'E_COMMAND',
      `${what} failed (exit ${result.code ?? 'signal'})${err ? `: ${err.split('\n').slice(-3).join(' | ')}` : ''}`,
    );
    this.result = result;
  }
}

/** Levenshtein-based "did you mean" for unknown names. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const n = nearest(name, candidates);
  return n ? `did you mean '${n}'?` : undefined;
}
