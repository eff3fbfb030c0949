import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { splitHostPort } from '../../src/inventory/host-address.js';
import { loadInventory } from '../../src/inventory/load.js';
import { iniLiteral } from '../../src/inventory/python-literal.js';

describe('INI values are Python literals, never code', () => {
  it.each([
    ['1', 1],
    ['-3', -3],
    ['0x1F', 31],
    ['0o17', 15],
    ['0b101', 5],
    ['1_000', 1000],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1e3', 1000],
    ['None', null],
    ['True', true],
    ['False', false],
    ["'a b'", 'a b'],
    ['"x" \'y\'', 'xy'],
    ['[1, "a", None]', [1, 'a', null]],
    ['(1, 2)', [1, 2]],
    ['(1)', 1],
    ['1, 2', [1, 2]],
    ["{'k': [1]}", { k: [1] }],
    ['1 # c', 1],
    ["'\\x41\\n'", 'A\n'],
    ["r'\\n'", '\\n'],
  ])('%s', (text, want) => expect(iniLiteral(text)).toEqual(want));

  it.each([
    'true',
    'yes',
    '010',
    '1j',
    'a b',
    '{{ x }}',
    '__import__("os")',
    "b'x'",
    '[1, 2',
    "'open",
    '99999999999999999999',
    '$(id)',
    '`id`',
    'lambda: 1',
    '1 + 1',
  ])('%s stays text', (text) => expect(iniLiteral(text)).toBe(text));

  it('dict keys named __proto__ or constructor are own data, not prototypes', () => {
    const v = iniLiteral("{'__proto__': {'polluted': 1}, 'constructor': 2}") as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('deep nesting and huge values stay bounded', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(iniLiteral(deep)).toBe(deep);
    const long = `'${'a'.repeat(500_000)}'`;
    const t = Date.now();
    expect(iniLiteral(long)).toBe('a'.repeat(500_000));
    expect(Date.now() - t).toBeLessThan(5000);
  });
});

describe('host names with ports', () => {
  it.each([
    ['badwolf.example.com:5309', { name: 'badwolf.example.com', port: 5309 }],
    ['10.0.0.5:2202', { name: '10.0.0.5', port: 2202 }],
    ['[2001:db8::2]:2222', { name: '2001:db8::2', port: 2222 }],
    ['2001:db8::3', { name: '2001:db8::3' }],
    ['web[01:03]:22', { name: 'web[01:03]', port: 22 }],
    ['we$ird:22', { name: 'we$ird:22' }],
  ])('%s', (text, want) => expect(splitHostPort(text)).toEqual(want));

  it('long hostile names are classified in linear time', () => {
    const names = [
      'a'.repeat(100_000) + '-',
      `${'a-'.repeat(50_000)}:x`,
      '1:'.repeat(50_000),
      `[${'a'.repeat(100_000)}`,
    ];
    for (const s of names) {
      const t = Date.now();
      splitHostPort(s);
      expect(Date.now() - t).toBeLessThan(2000);
    }
  });
});

describe('INI structure errors name file and line', () => {
  const write = (text: string): string => {
    const f = join(mkdtempSync(join(tmpdir(), 'lvsrun-ini-')), 'hosts.ini');
    writeFileSync(f, text);
    return f;
  };
  const error = (text: string): ConfigError => {
    try {
      loadInventory(write(text));
    } catch (e) {
      if (e instanceof ConfigError) return e;
      throw e;
    }
    throw new Error('expected a ConfigError');
  };
  it('an undefined group under :children', () => {
    const e = error('[web]\nw1\n[site:children]\nweb\nnope\n');
    expect(e.format()).toMatch(/hosts\.ini:5.*\[site:children\] names group 'nope', which is not defined/);
  });
  it('vars for a group that has no section', () => {
    expect(error('[ghost:vars]\nx=1\n').format()).toMatch(/hosts\.ini:1.*\[ghost:vars\]/);
  });
  it('a section of unknown type, and a header with a space', () => {
    expect(error('[g:hostz]\n').format()).toMatch(/hosts\.ini:1.*unknown type 'hostz'/);
    expect(error('[my group]\n').format()).toMatch(/hosts\.ini:1.*bad section header/);
  });
  it('a child defined later is accepted', () => {
    const inv = loadInventory(write('[site:children]\nweb\n[web]\nw1\n'));
    expect(inv.groups.get('site')!.children).toEqual(['web']);
    expect(inv.hosts.get('w1')!.groups).toEqual(['site', 'web']);
  });
  it('a non-integer ansible_group_priority is refused with its place', () => {
    const e = error('[g]\nh\n[g:vars]\nansible_group_priority=high\n');
    expect(e.format()).toMatch(/hosts\.ini:4.*ansible_group_priority/);
  });
});
