import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { aliasStep, boolish, emptyIsUnset, modeArg, strList, z } from '../../src/modules/args.js';
import { argsJsonSchema } from '../../src/modules/json-schema.js';
import { MODULES } from '../../src/modules/registry.js';

// Union types ("string or number") are what the schemas mean, not a mistake strict mode should warn about.
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });

/**
 * Each zod construct the modules use, converted and then judged by a real JSON Schema validator
 * against zod itself: the JSON Schema must accept what zod accepts, refuse what zod refuses, and
 * also accept a `{{ }}` template wherever a value may be one.
 */
const CASES: Array<{ what: string; schema: z.ZodTypeAny; same: unknown[]; template?: boolean }> = [
  { what: 'string with a regex', schema: z.string().regex(/^[a-z]+$/), same: ['abc', 'A b', 3] },
  { what: 'string min/max', schema: z.string().min(1).max(3), same: ['a', '', 'abcd'] },
  { what: 'number int min max', schema: z.number().int().min(1).max(10), same: [1, 10, 0, 11, 1.5, '5'] },
  { what: 'coerced number', schema: z.coerce.number().int().min(0).max(65535), same: [80, '80', ' 80 ', 70000, -1] },
  { what: 'coerced string', schema: z.coerce.string().min(1), same: ['x', 12345, true] },
  { what: 'boolean', schema: z.boolean(), same: [true, false, 'true', 1] },
  { what: 'enum', schema: z.enum(['present', 'absent']), same: ['present', 'absent', 'gone', 1] },
  { what: 'literal', schema: z.literal(1), same: [1, 2, '1'] },
  { what: 'union (boolish)', schema: boolish, same: [true, 'yes', 'on', 1, 0, 'maybe', 2, null] },
  { what: 'union of string and number (mode)', schema: modeArg, same: ['0644', 420, true] },
  { what: 'array', schema: z.array(z.number()), same: [[1, 2], [], ['a'], 1] },
  { what: 'pipe (input side)', schema: strList.pipe(z.array(z.string())), same: ['a,b', ['a', 1], [true]] },
  {
    what: 'record',
    schema: z.record(z.string(), z.object({ n: z.number() }).strict()),
    same: [{ a: { n: 1 } }, {}, { a: { m: 1 } }, { a: 1 }],
  },
  {
    what: 'strict object, optional and default',
    schema: z
      .object({
        a: z.string(),
        b: z.number().optional(),
        c: z.enum(['x', 'y']).default('x'),
      })
      .strict(),
    same: [{ a: 's' }, { a: 's', b: 1, c: 'y' }, {}, { a: 's', d: 1 }, { a: 's', c: 'z' }, 'a'],
  },
  { what: 'transform (input side)', schema: z.string().transform((s) => s.toUpperCase()), same: ['tcp', 1] },
  {
    what: 'refine (input side; the check itself runs in lvsrun)',
    schema: z.string().refine((s) => s.length > 0),
    same: ['x', 2],
  },
  {
    what: 'preprocess: empty is unset',
    schema: z.object({ o: z.preprocess(emptyIsUnset, z.number().optional()) }),
    same: [{ o: 1 }, { o: '' }, { o: null }, {}, { o: 'x' }],
  },
  {
    what: 'preprocess: aliases',
    schema: z.preprocess(
      aliasStep({ dest: 'path', name: 'path' }),
      z.object({ path: z.string(), mode: z.string().optional() }).strict(),
    ),
    same: [{ path: '/x' }, { dest: '/x' }, { name: '/x', mode: '0644' }, {}, { mode: '0644' }, { pth: '/x' }],
  },
  { what: 'unknown', schema: z.object({ msg: z.unknown().optional() }).strict(), same: [{ msg: [1, { a: 2 }] }, {}] },
];

describe('argsJsonSchema: zod constructs as JSON Schema', () => {
  for (const c of CASES) {
    it(`${c.what}: judges as zod does`, () => {
      const json = argsJsonSchema(c.schema);
      expect(ajv.validateSchema(json), ajv.errorsText()).toBe(true);
      const validate = ajv.compile(json);
      for (const v of c.same) expect(validate(v), JSON.stringify(v)).toBe(c.schema.safeParse(v).success);
    });
  }

  it('a template is accepted wherever a value is not already any string, at any depth', () => {
    const schema = z
      .object({
        n: z.number(),
        b: z.boolean(),
        e: z.enum(['a']),
        list: z.array(z.object({ port: z.number() }).strict()),
      })
      .strict();
    const validate = ajv.compile(argsJsonSchema(schema));
    expect(validate({ n: '{{ x }}', b: '{{ y }}', e: '{{ z }}', list: [{ port: '{{ p }}' }] })).toBe(true);
    expect(validate({ n: 1, b: true, e: 'a', list: '{{ items }}' })).toBe(true);
    expect(validate('{{ all_of_it }}')).toBe(true);
    expect(validate({ n: 'one', b: true, e: 'a', list: [] })).toBe(false);
    expect(validate({ n: '{ x }', b: true, e: 'a', list: [] })).toBe(false);
  });

  it('every module schema converts to a valid draft-07 schema that refuses an unknown argument', () => {
    for (const mod of new Set(MODULES.values())) {
      const json = argsJsonSchema(mod.schema);
      expect(ajv.validateSchema(json), `${mod.name}: ${ajv.errorsText()}`).toBe(true);
      expect(ajv.compile(json)({ no_such_argument_xyz: 1 }), mod.name).toBe(false);
    }
  });
});
