import type { ConfigError } from '../errors.js';

/**
 * The types task and play keywords accept, checked at load so that `when: {a: 1}` or
 * `register: [x]` is bad input with file:line instead of being read as something else.
 */
export type KeywordKind = 'condition' | 'names' | 'name' | 'identifier' | 'mapping' | 'bool' | 'loop' | 'count';

export const TASK_KINDS: Readonly<Record<string, KeywordKind>> = {
  name: 'name',
  when: 'condition',
  changed_when: 'condition',
  failed_when: 'condition',
  notify: 'names',
  tags: 'names',
  listen: 'names',
  register: 'identifier',
  vars: 'mapping',
  become: 'bool',
  become_user: 'name',
  ignore_errors: 'bool',
  no_log: 'bool',
  loop: 'loop',
  with_items: 'loop',
  loop_control: 'mapping',
  args: 'mapping',
  run_once: 'bool',
  delegate_to: 'name',
  delegate_facts: 'bool',
  any_errors_fatal: 'bool',
  throttle: 'count',
};

export const PLAY_KINDS: Readonly<Record<string, KeywordKind>> = {
  name: 'name',
  tags: 'names',
  vars: 'mapping',
  become: 'bool',
  become_user: 'name',
  gather_facts: 'bool',
  any_errors_fatal: 'bool',
};

const EXPECT: Record<KeywordKind, string> = {
  condition: 'a condition string, a boolean, or a list of them',
  names: 'a name or a list of names',
  name: 'a single text value',
  identifier: 'a variable name such as result (letters, digits, _)',
  mapping: 'a mapping of names to values',
  bool: 'true or false (yes/no; read at load, so not a template)',
  loop: 'a list, or a template string that gives one',
  count: 'a whole number, 0 or more',
};

type Fail = (key: string, msg: string, hint?: string) => ConfigError;

export function checkTaskKeywords(raw: Record<string, unknown>, fail: Fail): void {
  check(raw, TASK_KINDS, fail);
}

export function checkPlayKeywords(raw: Record<string, unknown>, fail: Fail): void {
  check(raw, PLAY_KINDS, fail);
}

function check(raw: Record<string, unknown>, kinds: Readonly<Record<string, KeywordKind>>, fail: Fail): void {
  for (const [key, kind] of Object.entries(kinds)) {
    if (!Object.prototype.hasOwnProperty.call(raw, key)) continue;
    const v = raw[key];
    if (v === null || v === undefined || fits(kind, v)) continue;
    throw fail(key, `'${key}' must be ${EXPECT[kind]}, not ${describe(v)}`);
  }
}

/**
 * The words a bool keyword takes (any case), besides true/false/0/1. Keywords are read at load, not
 * rendered, so a template there is refused rather than read as false.
 */
export const BOOL_WORDS = ['yes', 'no', 'true', 'false', 'on', 'off'] as const;
const BOOL_WORD = new RegExp(`^(${BOOL_WORDS.join('|')})$`, 'i');

/** A bool keyword's value as the check above accepts it: true, 1, or yes/true/on in any case. */
export function keywordBool(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'string' && /^(yes|true|on)$/i.test(v));
}
const scalar = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
const isMapping = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

function fits(kind: KeywordKind, v: unknown): boolean {
  switch (kind) {
    case 'condition':
      return scalar(v) || (Array.isArray(v) && v.every(scalar));
    case 'names':
      return scalar(v) || (Array.isArray(v) && v.every(scalar));
    case 'name':
      return scalar(v);
    case 'identifier':
      return typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v);
    case 'mapping':
      return isMapping(v);
    case 'bool':
      return typeof v === 'boolean' || v === 0 || v === 1 || (typeof v === 'string' && BOOL_WORD.test(v));
    case 'loop':
      return Array.isArray(v) || typeof v === 'string';
    case 'count':
      return (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && /^\d{1,9}$/.test(v));
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (isMapping(v)) return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}
