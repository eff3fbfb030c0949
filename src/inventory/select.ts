import { ConfigError, didYouMean } from '../errors.js';
import { compileUserRegex, quoteRegex, type UserRegex } from '../text/user-regex.js';
import type { Inventory } from './types.js';

/**
 * Ansible host patterns: all, *, group, host, globs, ~regex, `a:b` / `a,b` (union),
 * `a:&b` (intersection), `a:!b` (exclusion). Unions first, then intersections, then
 * exclusions, as Ansible does; the result keeps inventory order.
 */
export function selectHosts(inv: Inventory, pattern: string, opts: { unknown?: (term: string, hint?: string) => void } = {}): string[] {
  const terms = pattern.split(/[:,]/).map((t) => t.trim()).filter(Boolean);
  if (!terms.length) return [];
  let union = new Set<string>();
  const inter: Set<string>[] = [];
  const excl: Set<string>[] = [];
  for (const t of terms) {
    if (t.startsWith('&')) inter.push(matchTerm(inv, t.slice(1), pattern, opts.unknown));
    else if (t.startsWith('!')) excl.push(matchTerm(inv, t.slice(1), pattern, opts.unknown));
    else union = new Set([...union, ...matchTerm(inv, t, pattern, opts.unknown)]);
  }
  if (terms.every((t) => t.startsWith('&') || t.startsWith('!'))) union = new Set(inv.hosts.keys());
  return [...inv.hosts.keys()].filter((h) => union.has(h) && inter.every((s) => s.has(h)) && !excl.some((s) => s.has(h)));
}

function matchTerm(inv: Inventory, term: string, whole: string, unknown?: (term: string, hint?: string) => void): Set<string> {
  if (term === 'all' || term === '*') return new Set(inv.hosts.keys());
  const g = inv.groups.get(term);
  if (g) return new Set([...inv.hosts.values()].filter((h) => h.groups.includes(term)).map((h) => h.name));
  if (inv.hosts.has(term)) return new Set([term]);
  let re: UserRegex | undefined;
  const what = `regular expression in host pattern '${whole}'`;
  if (term.startsWith('~')) re = compileUserRegex(term.slice(1), { what, code: 'E_PATTERN' });
  else if (/[*?[]/.test(term)) re = compileUserRegex(globToRegex(term), { what, code: 'E_PATTERN' });
  if (re) {
    const hits = new Set<string>();
    for (const h of inv.hosts.values()) if (re.test(h.name)) hits.add(h.name);
    for (const gr of inv.groups.values()) if (re.test(gr.name)) for (const h of inv.hosts.values()) if (h.groups.includes(gr.name)) hits.add(h.name);
    return hits;
  }
  const hint = didYouMean(term, [...inv.groups.keys(), ...inv.hosts.keys()]) ?? `groups are: ${[...inv.groups.keys()].join(', ')}`;
  // Like Ansible, a play whose pattern names nothing is skipped with a warning; --limit is strict.
  if (unknown) { unknown(term, hint); return new Set(); }
  throw new ConfigError('E_PATTERN', `host pattern '${whole}': '${term}' is neither a group nor a host of the inventory`, { hint });
}

/** `web*`, `db?`, `lb[12]`: `*` and `?` are wildcards, `[...]` a character class, the rest literal. */
function globToRegex(glob: string): string {
  let out = '';
  let inClass = false;
  for (const ch of glob) {
    if (inClass) { out += ch === '\\' ? '\\\\' : ch; if (ch === ']') inClass = false; continue; }
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') { out += ch; inClass = true; }
    else out += quoteRegex(ch);
  }
  return `^${out}$`;
}
