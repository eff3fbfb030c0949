import { ConfigError } from '../errors.js';

/** Host ranges: web[01:03] and db-[a:c]. */
export function expandRange(pattern: string, file = '', line = 0): string[] {
  const m = /^(.*)\[([0-9a-z]+):([0-9a-z]+)(?::(\d+))?\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, pre, a, b, stepS, post] = m as unknown as [string, string, string, string, string | undefined, string];
  const step = stepS ? Number(stepS) : 1;
  const out: string[] = [];
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    for (let i = Number(a); i <= Number(b); i += step) out.push(`${pre}${String(i).padStart(a.length, '0')}${post}`);
  } else if (/^[a-z]$/.test(a) && /^[a-z]$/.test(b)) {
    for (let c = a.charCodeAt(0); c <= b.charCodeAt(0); c += step) out.push(`${pre}${String.fromCharCode(c)}${post}`);
  } else throw new ConfigError('E_INVENTORY', `bad host range '${pattern}'`, { where: { file, line } });
  return out.flatMap((h) => expandRange(h, file, line));
}
