import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { validateInventory } from '../../src/lvs/validate.js';
import { ipvs } from '../../src/modules/ipvs.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { markData, TemplateEngine } from '../../src/template/render.js';

/* A value that is exactly one {{expr}} keeps the type of what it refers to, through other variables too. */
const eng = new TemplateEngine();
const vars = {
  inner: { a: 1, b: ['x', 'y'] },
  outer: '{{inner}}',
  list_var: ['a', 'b', 'c'],
  via: '{{list_var}}',
  via2: '{{via}}',
  base_port: 8080,
  port: '{{base_port}}',
  no: false,
  flag: '{{no}}',
  picked: '{{default missing inner}}',
  looked: "{{lookup inner 'b'}}",
  text: 'port {{port}}',
};

describe('native types through variables', () => {
  it('a mapping, a list, a number and a bool keep their type through another variable', () => {
    expect(eng.renderValue('{{outer}}', vars)).toEqual({ a: 1, b: ['x', 'y'] });
    expect(eng.renderValue({ m: '{{outer}}' }, vars)).toEqual({ m: { a: 1, b: ['x', 'y'] } });
    expect(eng.renderValue('{{outer.b}}', vars)).toEqual(['x', 'y']);
    expect(eng.renderValue('{{port}}', vars)).toBe(8080);
    expect(eng.renderValue('{{flag}}', vars)).toBe(false);
    // a helper that hands back a mapping or a list keeps it too
    expect(eng.renderValue('{{picked}}', vars)).toEqual({ a: 1, b: ['x', 'y'] });
    expect(eng.renderValue('{{looked}}', vars)).toEqual(['x', 'y']);
    // text around the expression is text
    expect(eng.renderValue('{{text}}', vars)).toBe('port 8080');
    expect(eng.renderString('{{#each outer.b}}{{this}};{{/each}}', vars)).toBe('x;y;');
  });
  it('loop: "{{via}}" through one or two variables iterates the list', () => {
    expect(eng.renderValue('{{via}}', vars)).toEqual(['a', 'b', 'c']);
    expect(eng.renderValue('{{via2}}', vars)).toEqual(['a', 'b', 'c']);
  });
  it('an undefined variable is still an error naming it; a cycle is still refused', () => {
    expect(() => eng.renderValue('{{nope}}', vars)).toThrow(/undefined variable 'nope'/);
    expect(() => eng.renderValue('{{a}}', { a: '{{b}}', b: '{{a}}' })).toThrow(/cycle/);
  });
  it('a string holding {{ from a host or an earlier render stays data, inside a typed value too', () => {
    const printed = { stdout: '{{secret}}', lines: ['{{secret}}'] };
    const v = markData({ reg: printed, secret: 'S3CRET', outer: '{{reg}}', esc: '\\{{secret}}', e2: '{{esc}}' }, [
      'reg',
    ]);
    expect(eng.renderValue('{{outer}}', v)).toEqual(printed);
    expect(eng.renderValue('{{outer.stdout}}', v)).toBe('{{secret}}');
    expect(eng.renderValue({ l: '{{outer.lines}}' }, v)).toEqual({ l: ['{{secret}}'] });
    expect(eng.renderValue('{{e2}}', v)).toBe('{{secret}}');
  });
});

describe("the director role's single-director path (lvs_use_keepalived: false)", () => {
  const repo = join(import.meta.dirname, '..', '..');
  const inv = `all:
  vars: {lvs_vip: 10.60.0.100, lvs_interface: eth0, lvs_use_keepalived: false}
  children:
    directors:
      hosts:
        lb1: {ansible_host: 10.60.0.11}
    realservers:
      hosts:
        rs1: {ansible_host: 10.60.0.21}
        rs2: {ansible_host: 10.60.0.22}
`;
  it('lvs_reals reaches the ipvs task as a list and validates clean', () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-native-'));
    writeFileSync(join(d, 'hosts.yaml'), inv);
    mkdirSync(join(d, 'group_vars'));
    writeFileSync(
      join(d, 'group_vars', 'directors.yml'),
      'lvs_reals:\n  - {addr: 10.60.0.21, weight: 2}\n  - {addr: 10.60.0.22, weight: 1}\n',
    );
    const site = loadPlaybook(join(repo, 'playbooks', 'site.yaml'));
    const findings = validateInventory(loadInventory(d), site, new TemplateEngine(), {});
    expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    // the task's arguments as the role renders them
    const task = site.plays[0]!.tasks.find((t) => t.moduleKey === 'ipvs')!;
    const args = eng.renderValue(task.args, {
      ...(task.roleDefaults ?? {}),
      lvs_vip: '10.60.0.100',
      lvs_reals: [{ addr: '10.60.0.21', weight: 2 }],
    });
    const p = ipvs.schema.parse(args);
    expect(p.services[0]!.reals).toEqual([{ addr: '10.60.0.21', forward: 'dr', weight: 2 }]);
  });
});
