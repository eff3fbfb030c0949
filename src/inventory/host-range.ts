import { ConfigError } from '../errors.js';

/** A single range pattern may name at most this many hosts; the size is computed before expanding. */
export const MAX_RANGE_HOSTS = 10_000;

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const HINT = 'ranges look like web[01:20], web[1:9:2] or db-[a:f]; begin and end are numbers or single letters';

/** One `[begin:end:step]`: how many values it has and the i-th of them. */
interface Range {
  count: number;
  at(i: number): string;
}
type Part = string | Range;

/**
 * Host ranges as Ansible expands them: `web[01:03]` (zero-padded when begin has a leading zero),
 * `web[1:9:2]` (with a step), `[:3]` (begin defaults to 0), `db-[a:c]` (letters a-z then A-Z),
 * several ranges in one name (their product). A bracket without `:` is part of the name.
 */
export function expandRange(pattern: string, file = '', line = 0): string[] {
  const parts = parse(pattern, file, line);
  let total = 1;
  for (const p of parts) if (typeof p !== 'string') total *= p.count;
  if (total > MAX_RANGE_HOSTS) {
    const n = Number.isFinite(total) ? String(total) : 'too many';
    const msg = `host range '${clip(pattern)}' names ${n} hosts (at most ${MAX_RANGE_HOSTS})`;
    throw new ConfigError('E_INVENTORY', msg, {
      where: { file, line },
      hint: 'split the range over several lines or groups',
    });
  }
  let out = [''];
  for (const p of parts) {
    if (typeof p === 'string') out = out.map((h) => h + p);
    else out = out.flatMap((h) => Array.from({ length: p.count }, (_, i) => h + p.at(i)));
  }
  return out;
}

function parse(pattern: string, file: string, line: number): Part[] {
  const parts: Part[] = [];
  let lit = '';
  let i = 0;
  while (i < pattern.length) {
    const open = pattern.indexOf('[', i);
    const close = open < 0 ? -1 : pattern.indexOf(']', open);
    if (open < 0 || close < 0) break;
    const body = pattern.slice(open + 1, close);
    if (!body.includes(':')) {
      lit += pattern.slice(i, close + 1);
      i = close + 1;
      continue;
    }
    lit += pattern.slice(i, open);
    parts.push(lit);
    lit = '';
    parts.push(values(body, pattern, file, line));
    i = close + 1;
  }
  parts.push(lit + pattern.slice(i));
  return parts;
}

/** One `[begin:end:step]`, refusing what Ansible refuses (and a step of 0). */
function values(body: string, pattern: string, file: string, line: number): Range {
  const bad = (why: string): ConfigError =>
    new ConfigError('E_INVENTORY', `bad host range '${clip(pattern)}': ${why}`, { where: { file, line }, hint: HINT });
  const bounds = body.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw bad('a range is begin:end or begin:end:step');
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  if (!end) throw bad('the range has no end');
  let step = 1;
  if (bounds.length === 3) {
    if (!/^\d{1,9}$/.test(bounds[2]!)) throw bad(`the step '${bounds[2]}' is not a whole number`);
    step = Number(bounds[2]);
    if (step === 0) throw bad('the step must be at least 1');
  }
  const ib = LETTERS.indexOf(beg);
  const ie = LETTERS.indexOf(end);
  if (beg.length === 1 && end.length === 1 && ib >= 0 && ie >= 0) {
    if (ib > ie) throw bad('begin must not come after end');
    return { count: Math.floor((ie - ib) / step) + 1, at: (i) => LETTERS[ib + i * step]! };
  }
  if (!/^\d{1,15}$/.test(beg) || !/^\d{1,15}$/.test(end)) {
    throw bad(`'${beg}:${end}' is neither numbers nor single letters`);
  }
  const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
  if (width && end.length !== width) throw bad('a zero-padded begin and its end must have the same number of digits');
  const b = Number(beg);
  const e = Number(end);
  // Like Ansible, an end below the begin names no host.
  const count = e < b ? 0 : Math.floor((e - b) / step) + 1;
  return { count, at: (i) => String(b + i * step).padStart(width, '0') };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
