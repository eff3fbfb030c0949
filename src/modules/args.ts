import { z } from 'zod';
import { isHostOrIp, isInterfaceLabel, isInterfaceName, isIpAddress, isIpOrCidr } from '../lvs/addr.js';
import type { ModuleBase } from './types.js';

/** Ansible's booleans: yes/no/true/false/on/off/1/0. */
export const boolish = z
  .union([
    z.boolean(),
    z.enum(['yes', 'no', 'true', 'false', 'True', 'False', 'on', 'off', '1', '0']),
    z.literal(1),
    z.literal(0),
  ])
  .transform((v) => v === true || v === 1 || ['yes', 'true', 'True', 'on', '1'].includes(String(v)));

export const modeArg = z.union([z.string(), z.number()]).transform((m) => {
  if (typeof m === 'number') return m.toString(8).padStart(4, '0');
  return /^0?[0-7]{3,4}$/.test(m) ? m.padStart(4, '0').slice(-4) : m;
});

export const strList = z.union([z.string(), z.array(z.union([z.string(), z.number()]))]).transform((v) =>
  Array.isArray(v)
    ? v.map(String)
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
);

export const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** Ansible allows several names for one argument (dest/path/name). */
export function alias<T extends Record<string, unknown>>(raw: unknown, map: Record<string, string>): T {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw as T;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const [from, to] of Object.entries(map)) {
    if (from in out && !(to in out)) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return out as T;
}

/**
 * The preprocess step that renames Ansible's aliases. The map rides on the function (not in a
 * closure only) so that the JSON Schemas for editors list the aliases too (modules/json-schema.ts).
 */
export type AliasStep = ((raw: unknown) => unknown) & { readonly aliases: Readonly<Record<string, string>> };

export function aliasStep(map: Record<string, string>): AliasStep {
  return Object.assign((raw: unknown) => alias(raw, map), { aliases: Object.freeze({ ...map }) });
}

/** `z.preprocess(emptyIsUnset, x.optional())`: '' and null mean "not set" (a role's `{{default x ''}}`). */
export function emptyIsUnset(v: unknown): unknown {
  return v === '' || v === null ? undefined : v;
}

export { z };

export type ArgPath = ReadonlyArray<string | number>;

/** One thing wrong with a module's arguments, in lvsrun's words (zod stays inside modules/). */
export interface ArgIssue {
  /** Where: keys and list positions from the top of the arguments. */
  path: ArgPath;
  message: string;
  /** A key the module does not take at `path`, and the keys it does take there. */
  unknownKey?: { key: string; known: string[] };
}

export type ParsedArgs<P> = { ok: true; data: P } | { ok: false; issues: ArgIssue[] };

/** A module's arguments checked by its schema: the typed arguments, or every issue found. */
export function parseModuleArgs<P>(mod: Pick<ModuleBase<P>, 'schema'>, raw: unknown): ParsedArgs<P> {
  const r = mod.schema.safeParse(raw);
  if (r.success) return { ok: true, data: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((i) => ({
      path: i.path,
      message: i.message,
      ...(i.code === 'unrecognized_keys'
        ? { unknownKey: { key: i.keys[0]!, known: shapeKeys(mod.schema, i.path) } }
        : {}),
    })),
  };
}

/** The keys of the object the schema expects at `path` (through defaults, effects, arrays and records). */
function shapeKeys(schema: unknown, path: ArgPath = []): string[] {
  type Def = {
    shape?: () => Record<string, unknown>;
    schema?: unknown;
    innerType?: unknown;
    in?: unknown;
    out?: unknown;
    type?: unknown;
    valueType?: unknown;
    options?: unknown[];
  };
  let s: unknown = schema;
  let rest = [...path];
  for (let i = 0; i < 40 && s; i++) {
    const def = (s as { _def?: Def })._def;
    if (!def) return [];
    if (def.shape) {
      if (!rest.length) return Object.keys(def.shape());
      const k = String(rest.shift());
      s = Object.hasOwn(def.shape(), k) ? def.shape()[k] : undefined;
      continue;
    }
    if (typeof rest[0] === 'number' && def.type) {
      rest = rest.slice(1);
      s = def.type;
      continue;
    }
    if (def.valueType) {
      rest = rest.slice(1);
      s = def.valueType;
      continue;
    }
    // a union (a map or a list of the same entries): the first member that has an object shape
    if (def.options) return def.options.map((o) => shapeKeys(o, rest)).find((k) => k.length) ?? [];
    s = def.schema ?? def.innerType ?? def.in ?? def.type;
  }
  return [];
}

/*
 * Typed values for what goes into commands and config files. Each refuses anything that could
 * end a word or a line where it is written: quotes, braces, newlines, a leading dash.
 */
export const ipAddr = z.string().refine(isIpAddress, 'an IP address such as 10.0.0.1 or 2001:db8::1');
export const ipCidr = z.string().refine(isIpOrCidr, 'an IP address, optionally with /LEN (10.0.0.0/24)');
export const ifaceName = z
  .string()
  .refine(isInterfaceName, 'an interface name such as eth0 (1-15 of A-Z a-z 0-9 _ . @ + -)');
export const ifaceLabel = z
  .string()
  .refine(isInterfaceLabel, 'an interface name or label such as eth0 or lo:0 (15 characters at most)');
export const hostOrIp = z.string().refine(isHostOrIp, 'a host name or IP address');
/** A word that reaches a command line where the tool offers no `--`: no leading dash, no spaces or quotes. */
export const plainWord = (what: string) => z.string().regex(/^[A-Za-z0-9_@:][A-Za-z0-9_.@:+-]*$/, what);
