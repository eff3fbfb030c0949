import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../src/cli/extra-vars.js';
import { loadInventory } from '../../src/inventory/load.js';

// `__proto__` is a valid variable name in YAML and INI. Stored with `obj[k] = v` or Object.assign it
// replaces the record's prototype instead of being a variable: the value is lost, and every other
// lookup on that record then sees the attacker's object.
describe('prototype names in inventories and -e are plain variables', () => {
  const dir = (): string => mkdtempSync(join(tmpdir(), 'lvsrun-proto-'));

  it('YAML host vars, group_vars files and INI host vars keep __proto__ as a variable', () => {
    const d = dir();
    mkdirSync(join(d, 'group_vars'));
    writeFileSync(
      join(d, 'inv.yaml'),
      'all:\n  hosts:\n    h1: {}\n    h2:\n      __proto__: {ansible_host: 10.9.9.9}\n',
    );
    writeFileSync(join(d, 'group_vars', 'all.yml'), '__proto__:\n  become: true\nplain: 1\n');
    const inv = loadInventory(join(d, 'inv.yaml'));
    const h1 = inv.hosts.get('h1')!.vars;
    expect(Object.getPrototypeOf(h1)).not.toHaveProperty('become');
    expect(Object.hasOwn(h1, '__proto__')).toBe(true);
    expect(h1.__proto__).toEqual({ become: true });
    const h2 = inv.hosts.get('h2')!.vars;
    // The host's own value wins, as data, and ansible_host is not inherited from it.
    expect(Object.getOwnPropertyDescriptor(h2, '__proto__')?.value).toEqual({ ansible_host: '10.9.9.9' });
    expect(h2.ansible_host).toBeUndefined();
    writeFileSync(join(d, 'inv.ini'), '[web]\nw1 __proto__=evil\n');
    const w1 = loadInventory(join(d, 'inv.ini')).hosts.get('w1')!.vars;
    expect(Object.getOwnPropertyDescriptor(w1, '__proto__')?.value).toBe('evil');
    expect(({} as Record<string, unknown>).become).toBeUndefined();
  });

  it('-e @file and -e JSON keep __proto__ as a variable', () => {
    const d = dir();
    writeFileSync(join(d, 'x.yaml'), '__proto__: {polluted: 1}\n');
    const ev = parseExtraVars(['@x.yaml'], d);
    expect(Object.getOwnPropertyDescriptor(ev, '__proto__')?.value).toEqual({ polluted: 1 });
    expect(ev.polluted).toBeUndefined();
    const j = parseExtraVars(['{"__proto__": {"p": 2}}'], d);
    expect(Object.getOwnPropertyDescriptor(j, '__proto__')?.value).toEqual({ p: 2 });
    expect(j.p).toBeUndefined();
  });
});
