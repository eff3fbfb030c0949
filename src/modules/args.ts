import { z } from 'zod';

/** Ansible's booleans: yes/no/true/false/on/off/1/0. */
export const boolish = z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false', 'True', 'False', 'on', 'off', '1', '0']), z.literal(1), z.literal(0)])
  .transform((v) => v === true || v === 1 || ['yes', 'true', 'True', 'on', '1'].includes(String(v)));

export const modeArg = z.union([z.string(), z.number()]).transform((m) => {
  if (typeof m === 'number') return m.toString(8).padStart(4, '0');
  return /^0?[0-7]{3,4}$/.test(m) ? m.padStart(4, '0').slice(-4) : m;
});

export const strList = z.union([z.string(), z.array(z.union([z.string(), z.number()]))])
  .transform((v) => (Array.isArray(v) ? v.map(String) : v.split(',').map((s) => s.trim()).filter(Boolean)));

export const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** Ansible allows several names for one argument (dest/path/name). */
export function alias<T extends Record<string, unknown>>(raw: unknown, map: Record<string, string>): T {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw as T;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const [from, to] of Object.entries(map)) {
    if (from in out && !(to in out)) { out[to] = out[from]; delete out[from]; }
  }
  return out as T;
}

export { z };
