import { connectionVarKinds, JUMP_PATTERN, PROXY_COMMAND_PATTERN, type ConnVarKind } from '../engine/connect-vars.js';
import { parseModuleArgs } from '../modules/args.js';
import { argsJsonSchema, type JsonSchema } from '../modules/json-schema.js';
import { MODULE_PREFIXES, MODULES } from '../modules/registry.js';
import type { AnyTaskModule } from '../modules/types.js';
import { BOOL_WORDS, PLAY_KINDS, TASK_KINDS, type KeywordKind } from '../playbook/keyword-types.js';
import { IMPORT_PLAYBOOK_KEYS, INCLUDE_KEYS, SERIAL_TEXT } from '../playbook/load.js';
import {
  BLOCK_KEYWORDS,
  BLOCK_SECTIONS,
  ON_FAILURE,
  PLAY_KEYWORDS,
  STRATEGIES,
  TASK_KEYWORDS,
} from '../playbook/types.js';

/**
 * The JSON Schemas (draft-07) editors use for lvsrun's YAML, built from what the loaders accept:
 * the module argument schemas, the keyword lists and their types. Nothing here is written by hand
 * twice: a module, argument or keyword added to the code appears in the schemas when they are
 * generated again (`npm run schemas`).
 */
export const SCHEMA_FILES = ['playbook', 'tasks', 'inventory', 'group_vars'] as const;
export type SchemaName = (typeof SCHEMA_FILES)[number];

const DRAFT = 'http://json-schema.org/draft-07/schema#';
const ref = (name: string): JsonSchema => ({ $ref: `#/definitions/${name}` });
const NULL: JsonSchema = { type: 'null' };
const SCALAR: JsonSchema = { type: ['string', 'number', 'boolean'] };
const MAPPING: JsonSchema = { type: 'object' };

/** The pattern of a word in any case: `yes` -> `[yY][eE][sS]` (JSON Schema patterns have no flags). */
const anyCase = (w: string): string => [...w].map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`).join('');

/** keyword-types.ts's kinds as JSON Schema; null is accepted for each (the loader skips it). */
const KIND: Record<KeywordKind, JsonSchema> = {
  condition: { anyOf: [SCALAR, { type: 'array', items: SCALAR }, NULL] },
  names: { anyOf: [SCALAR, { type: 'array', items: SCALAR }, NULL] },
  name: { anyOf: [SCALAR, NULL] },
  identifier: { anyOf: [{ type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, NULL] },
  mapping: { anyOf: [MAPPING, NULL] },
  bool: {
    anyOf: [
      { type: 'boolean' },
      { enum: [0, 1] },
      { type: 'string', pattern: `^(${BOOL_WORDS.map(anyCase).join('|')})$` },
      NULL,
    ],
  },
  loop: { anyOf: [{ type: 'array' }, { type: 'string' }, NULL] },
  count: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^\\d{1,9}$' }, NULL] },
};

const TASK_DOC: Record<string, string> = {
  name: 'The task name shown in the output',
  when: 'Run the task only when this condition holds',
  register: 'Keep the result in this variable',
  notify: 'Handlers to run when the task changes something',
  loop: 'Run the task once per item (as `item`)',
  vars: 'Variables of this task',
  check_mode: 'false: run even under --check (for read-only tasks); true: only show what it would do',
};

function keyword(kind: KeywordKind, doc?: string): JsonSchema {
  return doc ? { description: doc, ...KIND[kind] } : KIND[kind];
}

/** Every key a module may be written as: `copy`, `ansible.builtin.copy`, `lvsrun.copy`... */
type Keyed = [string, AnyTaskModule];
function moduleKeys(): Keyed[] {
  const bare = [...MODULES.entries()];
  return [...bare, ...MODULE_PREFIXES.flatMap((p) => bare.map(([k, m]): Keyed => [p + k, m]))];
}

/** A module's value: its arguments as a mapping, `key=value` words (or a free-form command), or empty. */
function moduleValue(mod: AnyTaskModule): JsonSchema {
  const words: JsonSchema = mod.freeForm
    ? { type: 'string', description: `the ${mod.freeForm}` }
    : { type: 'string', pattern: '^\\s*[^\\s=]+=', description: 'key=value words' };
  // Empty (`stat:`) is the same as `{}`: accepted where the module needs no argument.
  const empty = parseModuleArgs(mod, {}).ok ? [NULL] : [];
  return {
    description: `lvsrun module ${mod.name} (docs/modules.md#${mod.name})`,
    anyOf: [argsJsonSchema(mod.schema), words, ...empty],
  };
}

const NO_MODULE = 'A task names one module, such as command: or copy:, or include_tasks:';

function taskDefinitions(): Record<string, JsonSchema> {
  const modules = Object.fromEntries(
    [...new Set(MODULES.values())].map((m) => [`module.${m.name}`, moduleValue(m)] as const),
  );
  const keys = moduleKeys();
  const include: JsonSchema = {
    description: 'A tasks file, relative to this file, whose tasks run here',
    anyOf: [
      { type: 'string', minLength: 1 },
      { type: 'object', properties: { file: { type: 'string', minLength: 1 } }, required: ['file'] },
    ],
  };
  const task: JsonSchema = {
    type: 'object',
    properties: {
      ...Object.fromEntries(TASK_KEYWORDS.map((k) => [k, keyword(TASK_KINDS[k]!, TASK_DOC[k])])),
      ...Object.fromEntries(INCLUDE_KEYS.map((k) => [k, include])),
      ...Object.fromEntries(keys.map(([k, m]) => [k, ref(`module.${m.name}`)])),
    },
    additionalProperties: false,
    // A task names a module (or includes a file); the loader refuses one that names none.
    // errorMessage: the YAML language server's message for it (not "Missing property include_tasks").
    anyOf: [...INCLUDE_KEYS, ...keys.map(([k]) => k)].map((k) => ({ required: [k], errorMessage: NO_MODULE })),
  };
  // A block: its sections hold tasks or blocks; its keywords are inherited by the tasks inside.
  const section: JsonSchema = { anyOf: [{ type: 'array', items: ref('entry') }, NULL] };
  const block: JsonSchema = {
    type: 'object',
    properties: {
      ...Object.fromEntries(BLOCK_KEYWORDS.map((k) => [k, keyword(TASK_KINDS[k]!, TASK_DOC[k])])),
      ...Object.fromEntries(BLOCK_SECTIONS.map((k) => [k, section])),
    },
    additionalProperties: false,
    required: ['block'],
  };
  const entry: JsonSchema = { anyOf: [ref('block'), ref('task')] };
  return { ...modules, task, block, entry, tasks: { anyOf: [{ type: 'array', items: ref('entry') }, NULL] } };
}

/** Play keywords load.ts reads itself (the others have a kind in keyword-types.ts). */
function playOnly(): Record<string, JsonSchema> {
  const serialOne: JsonSchema = {
    anyOf: [
      { type: 'number', exclusiveMinimum: 0 },
      { type: 'string', pattern: SERIAL_TEXT.source },
      // A template of the play's vars or -e, rendered when the playbook loads.
      { type: 'string', pattern: '\\{\\{' },
    ],
  };
  const role: JsonSchema = {
    anyOf: [
      { type: 'string', minLength: 1 },
      {
        type: 'object',
        properties: {
          role: { type: 'string', minLength: 1 },
          name: { type: 'string', minLength: 1 },
          vars: KIND.mapping,
          tags: KIND.names,
        },
        additionalProperties: false,
        anyOf: [{ required: ['role'] }, { required: ['name'] }],
      },
    ],
  };
  return {
    hosts: {
      description: 'A host pattern: directors, all, directors:&prod',
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    },
    vars_files: { anyOf: [SCALAR, { type: 'array', items: SCALAR }, NULL] },
    serial: {
      description: 'Hosts per batch: a number, a percentage such as 30%, or a list of them',
      anyOf: [serialOne, { type: 'array', items: serialOne }, NULL],
    },
    max_fail_percentage: { type: 'number', minimum: 0, maximum: 100 },
    pre_tasks: ref('tasks'),
    tasks: ref('tasks'),
    post_tasks: ref('tasks'),
    handlers: ref('tasks'),
    roles: { anyOf: [role, { type: 'array', items: role }, NULL] },
    on_failure: {
      description: 'What a failed host does: roll itself back (default), the whole play, or stop',
      enum: [...ON_FAILURE],
    },
    strategy: { enum: [...STRATEGIES] },
  };
}

function playbook(): JsonSchema {
  const only = playOnly();
  const play: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(PLAY_KEYWORDS.map((k) => [k, only[k] ?? keyword(PLAY_KINDS[k]!)])),
    required: ['hosts'],
    additionalProperties: false,
  };
  const imported: JsonSchema = {
    type: 'object',
    properties: {
      name: KIND.name,
      ...Object.fromEntries(IMPORT_PLAYBOOK_KEYS.map((k) => [k, { type: 'string', minLength: 1 }])),
    },
    additionalProperties: false,
    anyOf: IMPORT_PLAYBOOK_KEYS.map((k) => ({ required: [k] })),
  };
  return {
    $schema: DRAFT,
    title: 'lvsrun playbook',
    type: 'array',
    items: { anyOf: [ref('play'), ref('import_playbook')] },
    definitions: { play, import_playbook: imported, ...taskDefinitions() },
  };
}

function tasksFile(): JsonSchema {
  const definitions = taskDefinitions();
  // The root repeats definitions.tasks: draft-07 ignores the keywords beside a $ref.
  const title = 'lvsrun tasks file (include_tasks, roles/*/tasks, handlers)';
  return { $schema: DRAFT, title, ...definitions.tasks, definitions };
}

const NO_CONTROL = '\\x00-\\x1f\\x7f';
/** A whole number 1-65535 in at most 5 digits, as parsePort reads it. */
const PORT_TEXT =
  '^\\s*(?=\\d{1,5}\\s*$)0*' + '([1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])\\s*$';
/** A decimal above 0 and at most 86400, as parseSeconds reads it. */
const SECONDS_TEXT =
  '^\\s*(0*([1-9]\\d{0,3}|[1-7]\\d{4}|8[0-5]\\d{3}|86[0-3]\\d{2})(\\.\\d+)?' +
  '|0+\\.\\d*[1-9]\\d*|0*86400(\\.0+)?)\\s*$';
const USER_CHAR = `[^\\s:'"\\\\${NO_CONTROL}`;

/** connect-vars.ts's kinds as JSON Schema: the values are checked as written (a template is refused there too). */
const CONN_KIND: Record<ConnVarKind, JsonSchema> = {
  address: { type: 'string', maxLength: 255, pattern: '^[A-Za-z0-9_.:%][A-Za-z0-9_.:%-]*$' },
  port: {
    anyOf: [
      { type: 'integer', minimum: 1, maximum: 65535 },
      { type: 'string', pattern: PORT_TEXT },
    ],
  },
  user: {
    anyOf: [
      { type: 'number', minimum: 0 },
      { type: 'string', maxLength: 64, pattern: `^${USER_CHAR}-]${USER_CHAR}]*$` },
    ],
  },
  path: { type: 'string', pattern: `^[^${NO_CONTROL}]+$` },
  seconds: {
    anyOf: [
      { type: 'number', exclusiveMinimum: 0, maximum: 86_400 },
      { type: 'string', pattern: SECONDS_TEXT },
    ],
  },
  secret: { anyOf: [NULL, { type: 'number' }, { type: 'string', pattern: '^[^\\x00]*$' }] },
  'secret-line': { anyOf: [NULL, { type: 'number' }, { type: 'string', pattern: '^[^\\x00\\r\\n]*$' }] },
  jump: { anyOf: [NULL, { type: 'string', pattern: JUMP_PATTERN }] },
  'ssh-args': {
    anyOf: [NULL, { type: 'string', pattern: `^[^${NO_CONTROL}]*$`, not: { pattern: PROXY_COMMAND_PATTERN } }],
  },
  bool: {
    anyOf: [
      { type: 'boolean' },
      { enum: [0, 1] },
      { type: 'string', pattern: `^\\s*(${[...BOOL_WORDS, '1', '0'].map(anyCase).join('|')})\\s*$` },
    ],
  },
};

/** Variables: any names, holding data; the connection variables lvsrun reads are typed. */
const VARS: JsonSchema = {
  type: 'object',
  description: 'Variables: names to values',
  properties: Object.fromEntries(Object.entries(connectionVarKinds()).map(([n, k]) => [n, CONN_KIND[k]])),
};

function inventory(): JsonSchema {
  const group: JsonSchema = {
    anyOf: [
      {
        type: 'object',
        properties: {
          hosts: {
            anyOf: [
              {
                type: 'object',
                description: 'Host names (ranges such as rs[1:3]) to their variables',
                additionalProperties: { anyOf: [ref('vars'), NULL] },
              },
              NULL,
            ],
          },
          children: {
            anyOf: [{ type: 'object', description: 'Child groups', additionalProperties: ref('group') }, NULL],
          },
          vars: { anyOf: [ref('vars'), NULL] },
        },
        additionalProperties: false,
      },
      NULL,
    ],
  };
  return {
    $schema: DRAFT,
    title: 'lvsrun inventory (YAML)',
    anyOf: [{ type: 'object', description: 'Groups, usually all:', additionalProperties: ref('group') }, NULL],
    definitions: { group, vars: VARS },
  };
}

function groupVars(): JsonSchema {
  return { $schema: DRAFT, title: 'lvsrun group_vars / host_vars file', anyOf: [VARS, NULL] };
}

export function buildSchema(name: SchemaName): JsonSchema {
  switch (name) {
    case 'playbook':
      return playbook();
    case 'tasks':
      return tasksFile();
    case 'inventory':
      return inventory();
    case 'group_vars':
      return groupVars();
  }
}

/** The text of schemas/NAME.json, as committed and shipped. */
export function schemaText(name: SchemaName): string {
  return `${JSON.stringify(buildSchema(name), null, 2)}\n`;
}
