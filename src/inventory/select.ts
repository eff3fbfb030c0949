import { ConfigError, didYouMean } from '../errors.js';
import { compileUserRegex, quoteRegex, type UserRegex } from '../text/user-regex.js';
import { parseAddress } from './host-address.js';
import type { Inventory } from './types.js';

type Unknown = (term: string, hint?: string) => void;

/** The names Ansible treats as an implicit localhost when the inventory does not define them. */
export const IMPLICIT_LOCALHOST = ['localhost', '127.0.0.1', '::1'];

/**
 * Ansible host patterns: all, *, group, host, globs, ~regex (anchored at the start), `group[0]`,
 * `group[-1]`, `group[1:3]` (inclusive), `group[2:]`, `a,b` or `a:b` (union), `a:&b` (intersection),
 * `a:!b` (exclusion). Unions first, then intersections, then exclusions, as Ansible does; hosts come in
 * pattern order (each group's hosts in the group's order), each once.
 */
export function selectHosts(inv: Inventory, pattern: string, opts: { unknown?: Unknown } = {}): string[] {
  const terms = orderTerms(splitPattern(pattern));
  let hosts: string[] = [];
  for (const t of terms) {
    if (inv.hosts.has(t)) {
      hosts.push(t);
      continue;
    }
    const that = matchTerm(inv, t.startsWith('&') || t.startsWith('!') ? t.slice(1) : t, pattern, opts.unknown);
    if (t.startsWith('!')) {
      const s = new Set(that);
      hosts = hosts.filter((h) => !s.has(h));
    } else if (t.startsWith('&')) {
      const s = new Set(that);
      hosts = hosts.filter((h) => s.has(h));
    } else hosts.push(...that);
  }
  return [...new Set(hosts)];
}

/** Like Ansible: commas separate terms; otherwise a lone host (even IPv6 or a range) is one term; else colons. */
function splitPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (parseAddress(pattern)) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter(Boolean);
}

function orderTerms(terms: string[]): string[] {
  const plain = terms.filter((t) => !t.startsWith('&') && !t.startsWith('!'));
  const inter = terms.filter((t) => t.startsWith('&'));
  return [...(plain.length ? plain : ['all']), ...inter, ...terms.filter((t) => t.startsWith('!'))];
}

const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/;

function matchTerm(inv: Inventory, term: string, whole: string, unknown?: Unknown): string[] {
  let expr = term;
  let sub: { start: number; end?: number } | undefined;
  const m = term.startsWith('~') ? null : SUBSCRIPT.exec(term);
  if (m) {
    expr = m[1]!;
    if (m[2] !== undefined) sub = { start: Number(m[2]) };
    else sub = { start: Number(m[3]), end: m[5] ? Number(m[5]) : -1 };
  }
  const hosts = enumerate(inv, expr, whole, unknown);
  if (!sub || !hosts.length) return hosts;
  const { start, end } = sub;
  // Like Ansible (Python slicing): [a:b] includes b, [a:] runs to the end, [i] is one host (negative from the end).
  if (end) return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1);
  const i = start < 0 ? hosts.length + start : start;
  if (i < 0 || i >= hosts.length) {
    throw new ConfigError('E_PATTERN', `host pattern '${whole}': '${term}' has no host at index ${start}`, {
      hint: `'${expr}' has ${hosts.length} host${hosts.length === 1 ? '' : 's'}; indexes start at 0, -1 is the last`,
    });
  }
  return [hosts[i]!];
}

/** Hosts of the groups the term matches, then (for a non-matching or wildcard term) the hosts it matches. */
function enumerate(inv: Inventory, term: string, whole: string, unknown?: Unknown): string[] {
  const what = `regular expression in host pattern '${whole}'`;
  const re: UserRegex = term.startsWith('~')
    ? compileUserRegex(`^(?:${term.slice(1)})`, { what, code: 'E_PATTERN' })
    : compileUserRegex(globToRegex(term), { what, code: 'E_PATTERN' });
  const out: string[] = [];
  const groups = [...inv.groups.keys()].filter((g) => re.test(g));
  for (const g of groups) out.push(...groupHosts(inv, g));
  if (!groups.length || term.startsWith('~') || /[.?*[]/.test(term)) {
    for (const h of inv.hosts.keys()) if (re.test(h)) out.push(h);
  }
  if (out.length || groups.length || term === 'all') return out;
  const hint =
    didYouMean(term, [...inv.groups.keys(), ...inv.hosts.keys()]) ?? `groups are: ${[...inv.groups.keys()].join(', ')}`;
  // Like Ansible, a play whose pattern names nothing is skipped with a warning; --limit is strict.
  if (unknown) {
    unknown(term, hint);
    return [];
  }
  const msg = `host pattern '${whole}': '${term}' is neither a group nor a host of the inventory`;
  throw new ConfigError('E_PATTERN', msg, { hint });
}

/** A group's hosts as Ansible orders them: its own, then its children's, then theirs, level by level. */
function groupHosts(inv: Inventory, name: string): string[] {
  const order = [name];
  const seen = new Set(order);
  let level = [name];
  while (level.length) {
    const next: string[] = [];
    for (const g of level) {
      for (const c of inv.groups.get(g)?.children ?? [])
        if (!seen.has(c)) {
          seen.add(c);
          next.push(c);
          order.push(c);
        }
    }
    level = next;
  }
  const out = new Set<string>();
  for (const g of order) for (const h of inv.groups.get(g)?.hosts ?? []) out.add(h);
  return [...out];
}

/** Python's fnmatch: `*`, `?`, `[abc]`, `[!abc]`; the whole name must match. */
function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') {
      // As in fnmatch, a `]` right after `[` or `[!` is a member, not the end of the class.
      const first = i + (glob[i + 1] === '!' ? 2 : 1);
      const close = glob.indexOf(']', first + (glob[first] === ']' ? 1 : 0));
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const neg = body.startsWith('!');
      if (neg) body = body.slice(1);
      out += `[${neg ? '^' : ''}${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else out += quoteRegex(ch);
  }
  return `^(?:${out})$`;
}
