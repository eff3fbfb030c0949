import { zodToJsonSchema, type PostProcessCallback } from 'zod-to-json-schema';
import type { z } from 'zod';
import { emptyIsUnset, type AliasStep } from './args.js';

/**
 * JSON Schema (draft-07) of a module's arguments, from its zod schema: the one place that turns
 * zod into JSON Schema, for the editor schemas (src/schemas/). It describes what a playbook may
 * write (the input side of transforms and pipes), and, as the loader does, lets any value be a
 * `{{ }}` template, since templated values are checked per host after rendering.
 */
export type JsonSchema = { [key: string]: unknown };

/** A string holding a template: accepted wherever the loader defers the check to run time. */
export const TEMPLATE: JsonSchema = Object.freeze({ type: 'string', pattern: '\\{\\{' });

/** What z.coerce.number() reads from a string. */
const NUMBER_TEXT = '^\\s*[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?\\s*$';

interface EffectDef {
  typeName: 'ZodEffects';
  effect: { type: string; transform?: unknown };
}

const postProcess: PostProcessCallback = (schema, def) => {
  if (!schema) return schema;
  const d = def as { typeName?: string; coerce?: boolean };
  if (d.typeName === 'ZodNumber' && d.coerce) return { anyOf: [schema, { type: 'string', pattern: NUMBER_TEXT }] };
  if (d.typeName === 'ZodString' && d.coerce) return { anyOf: [schema, { type: ['number', 'boolean'] }] };
  if (d.typeName === 'ZodEffects') {
    const e = (def as unknown as EffectDef).effect;
    if (e.type === 'preprocess' && e.transform === emptyIsUnset) {
      return { anyOf: [schema, { const: '' }, { type: 'null' }] };
    }
    const aliases = e.type === 'preprocess' ? (e.transform as Partial<AliasStep>).aliases : undefined;
    if (aliases) return withAliases(schema, aliases);
  }
  return schema;
};

/** `dest:` for `path:`: each alias is a property like its target; a required target may be given by an alias. */
function withAliases(schema: JsonSchema, aliases: Readonly<Record<string, string>>): JsonSchema {
  const props = { ...(schema.properties as Record<string, JsonSchema> | undefined) };
  const required = [...((schema.required as string[] | undefined) ?? [])];
  const anyOfRequired: JsonSchema[] = [];
  for (const target of new Set(Object.values(aliases))) {
    const names = Object.keys(aliases).filter((a) => aliases[a] === target);
    for (const a of names) if (props[target]) props[a] = { ...props[target], description: `alias of ${target}` };
    if (required.includes(target)) {
      required.splice(required.indexOf(target), 1);
      anyOfRequired.push({ anyOf: [target, ...names].map((n) => ({ required: [n] })) });
    }
  }
  const out: JsonSchema = { ...schema, properties: props };
  if (required.length) out.required = required;
  else delete out.required;
  if (anyOfRequired.length) out.allOf = [...((schema.allOf as JsonSchema[] | undefined) ?? []), ...anyOfRequired];
  return out;
}

/** The JSON Schema of one zod schema, templates allowed everywhere a plain string is not already. */
export function argsJsonSchema(schema: z.ZodType): JsonSchema {
  const raw = zodToJsonSchema(schema, {
    target: 'jsonSchema7',
    $refStrategy: 'none',
    effectStrategy: 'input',
    pipeStrategy: 'input',
    postProcess,
  }) as JsonSchema;
  delete raw.$schema;
  return allowTemplates(raw);
}

/** True when the schema accepts every string, templates included. */
function takesAnyString(s: JsonSchema): boolean {
  if (Object.keys(s).every((k) => k === 'description' || k === 'default')) return true;
  const types = Array.isArray(s.type) ? s.type : [s.type];
  const plain = ['pattern', 'enum', 'const', 'format', 'minLength', 'maxLength'].every((k) => !(k in s));
  if (types.includes('string') && plain && !s.anyOf && !s.allOf && !s.not) return true;
  return Array.isArray(s.anyOf) && (s.anyOf as JsonSchema[]).some(takesAnyString);
}

const isUnion = (s: JsonSchema): boolean => Array.isArray(s.anyOf) && !('type' in s) && !('properties' in s);
/** A union with nothing but its members (and a description or default): its members can be spliced. */
const isBareUnion = (s: JsonSchema): boolean =>
  isUnion(s) && Object.keys(s).every((k) => k === 'anyOf' || k === 'description' || k === 'default');

/** Every value may be a template: wrap each node that refuses one (a union once, not each member). */
export function allowTemplates(s: JsonSchema): JsonSchema {
  const out = inner(s);
  if (takesAnyString(out)) return out;
  if (isBareUnion(out)) return { ...out, anyOf: [...(out.anyOf as JsonSchema[]), TEMPLATE] };
  const { description, default: dflt, ...rest } = out;
  return {
    ...(description !== undefined ? { description } : {}),
    ...(dflt !== undefined ? { default: dflt } : {}),
    anyOf: [rest, TEMPLATE],
  };
}

function inner(s: JsonSchema): JsonSchema {
  const out: JsonSchema = { ...s };
  if (isUnion(s)) {
    out.anyOf = (s.anyOf as JsonSchema[]).map(inner).flatMap((m) => (isBareUnion(m) ? (m.anyOf as JsonSchema[]) : [m]));
  }
  if (s.properties) {
    out.properties = Object.fromEntries(
      Object.entries(s.properties as Record<string, JsonSchema>).map(([k, v]) => [k, allowTemplates(v)]),
    );
  }
  if (s.items && !Array.isArray(s.items)) out.items = allowTemplates(s.items as JsonSchema);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    out.additionalProperties = allowTemplates(s.additionalProperties as JsonSchema);
  }
  return out;
}
