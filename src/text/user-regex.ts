import { RE2JS } from 're2js';
import { ConfigError, type ErrorCode, type Where } from '../errors.js';

/**
 * Regular expressions written by users (lineinfile regexp, host patterns `~regex`, ...).
 * They run on RE2 (re2js): matching time is linear in the input, so no pattern can hang a run
 * by catastrophic backtracking. Only this file imports re2js.
 */
export interface UserRegex {
  readonly source: string;
  /** True when the pattern matches somewhere in `s` (like RegExp.prototype.test). */
  test(s: string): boolean;
  /** The first match in `s` and its groups, or null. */
  search(s: string): { index: number; match: string; groups: Array<string | undefined> } | null;
  /** Replace every match; `$1` / `${name}` in `by` refer to groups. */
  replaceAll(s: string, by: string): string;
}

/** Longer patterns are refused: they are never needed and only cost compile time and memory. */
export const MAX_REGEX_LENGTH = 4096;

const HINT = 'regular expressions use RE2 syntax: no backreferences (\\1) and no lookaround ((?=, (?!, (?<=, (?<!)';

export interface RegexOpts {
  where?: Where;
  what?: string;
  code?: ErrorCode;
}

export function compileUserRegex(pattern: string, opts: RegexOpts = {}): UserRegex {
  const { where = {}, what = 'regular expression', code = 'E_CONFIG' } = opts;
  if (pattern.length > MAX_REGEX_LENGTH) {
    const msg = `${what} is ${pattern.length} characters long (at most ${MAX_REGEX_LENGTH})`;
    throw new ConfigError(code, msg, { where });
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    const detail = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '') : String(e);
    const msg = `invalid ${what} ${JSON.stringify(clip(pattern))}: ${clip(detail)}`;
    throw new ConfigError(code, msg, { where, hint: hintFor(pattern) });
  }
  return {
    source: pattern,
    test: (s) => re.test(s),
    search(s) {
      const m = re.exec(s) as (string[] & { index: number }) | null;
      return m ? { index: m.index, match: m[0]!, groups: m.slice(1) } : null;
    },
    replaceAll: (s, by) => re.matcher(s).replaceAll(by),
  };
}

/** Escape `s` so that it matches itself literally. */
export function quoteRegex(s: string): string {
  return RE2JS.quote(s);
}

function hintFor(pattern: string): string {
  if (/\\[1-9]|\(\?<?[=!]/.test(pattern)) return HINT;
  return `${HINT}; see docs/playbooks.md#regular-expressions`;
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
