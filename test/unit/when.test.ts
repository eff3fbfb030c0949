import { describe, expect, it } from 'vitest';
import { evalCondition } from '../../src/playbook/when.js';
import { ConfigError } from '../../src/errors.js';

const vars = {
  os: 'Debian',
  n: 3,
  s: '5',
  nums: [5],
  t: true,
  list: ['a', 'b'],
  r: { rc: 0, stdout: 'added', changed: true },
  flag: 'yes',
  empty: [],
  m1: { a: 1, b: [1, 'x'] },
  m2: { b: [true, 'x'], a: 1 },
  m3: { a: 1, b: [1, 'x'], c: null },
  l2: ['a', 'b'],
  nested: [['a', 'b']],
  proto: { constructor: 1 },
};

describe('when evaluator', () => {
  it.each([
    ["os == 'Debian'", true],
    ["os != 'Debian'", false],
    ['n > 2 and n <= 3', true],
    ['n < 2 or n == 3', true],
    ["'a' in list", true],
    ["'z' not in list", true],
    ['not (n == 3)', false],
    ['r.rc == 0', true],
    ["'add' in r.stdout", true],
    ['undefined_var is defined', false],
    ['undefined_var is not defined', true],
    ['r is changed', true],
    ['r is failed', false],
    ['flag | bool', true],
    ['list | length == 2', true],
    ["missing | default('x') == 'x'", true],
    ['empty', false],
    ["r['rc'] == 0", true],
    // Types as Jinja compares them: a string never equals a number; a boolean is 0 or 1.
    ['n == "3"', false],
    ['n != "3"', true],
    ['s == 5', false],
    ['s != 5', true],
    ["s == '5'", true],
    ['s | int == 5', true],
    ['s in nums', false],
    ['5 in nums', true],
    ['t == 1', true],
    ['n == 3.0', true],
    ["s == '5.0'", false],
    ['[1, 2] | length == 2', true],
    // Lists and mappings compare by content, as in Jinja (a mapping's key order does not matter).
    ['list == l2', true],
    ["list == ['a', 'b']", true],
    ["list != ['a', 'b']", false],
    ["list == ['b', 'a']", false],
    ["list == ['a']", false],
    ['m1 == m2', true],
    ['m1 != m2', false],
    ['m1 == m3', false],
    ['m3 == m1', false],
    ['r == r', true],
    ['list in nested', true],
    ['list == m1', false],
    ['empty == []', true],
    ['proto == proto', true],
    ['m1 == proto', false],
  ])('%s → %s', (expr, want) => {
    expect(evalCondition(expr, vars)).toBe(want);
  });
  it('takes a list as AND', () => {
    expect(evalCondition(['n == 3', "os == 'Debian'"], vars)).toBe(true);
    expect(evalCondition(['n == 3', "os == 'RedHat'"], vars)).toBe(false);
  });
  it('refuses to order a string against a number, as Jinja does, with a hint', () => {
    expect(() => evalCondition('s < 6', vars)).toThrow(/'<' cannot compare a string with a number/);
    expect(() => evalCondition('n >= s', vars)).toThrow(ConfigError);
    expect(() => evalCondition("list > '{{constructor}}'", vars)).toThrow(/a list with a string/);
    expect(evalCondition("s < '6'", vars)).toBe(true);
  });
  it('names an undefined variable with a hint', () => {
    expect(() => evalCondition('nope == 1', vars)).toThrow(/'nope' is undefined/);
  });
  it('rejects syntax errors and never evaluates JavaScript', () => {
    expect(() => evalCondition('process.exit(1)', vars)).toThrow(ConfigError);
    expect(() => evalCondition('n ==', vars)).toThrow(/cannot parse condition/);
    expect(() => evalCondition('constructor.constructor("return 1")()', vars)).toThrow(ConfigError);
  });
});
