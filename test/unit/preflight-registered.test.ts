import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preflightArgs } from '../../src/engine/preflight.js';
import { inventoryMagic } from '../../src/engine/vars.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { rootNames, TemplateEngine } from '../../src/template/render.js';

/** The pre-run check of task arguments on a playbook whose tasks are `tasks` (YAML, indented 4). */
function problems(tasks: string): string[] {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-pf-'));
  writeFileSync(join(d, 'hosts.yaml'), 'all:\n  hosts:\n    h1: {ansible_host: 10.0.0.1, known: 1}\n');
  writeFileSync(join(d, 'pb.yaml'), `- hosts: all\n  tasks:\n${tasks}`);
  const inv = loadInventory(join(d, 'hosts.yaml'));
  return preflightArgs(inv, loadPlaybook(join(d, 'pb.yaml')), new TemplateEngine(), {}, inventoryMagic(inv)).map(
    (p) => `${p.task.name}: ${p.field}: ${p.message}`,
  );
}

const registering = `    - name: r
      command: /bin/true
      register: r
    - name: s
      stat: {path: /etc}
      register: s
`;
const task = (name: string, cmd: string): string => `    - name: ${name}\n      command: ${JSON.stringify(cmd)}\n`;

describe('the pre-run argument check and registered results', () => {
  it('accepts templates that read a registered result more than one level deep', () => {
    expect(
      problems(
        registering +
          task('if', 'echo {{#if r.rc}}x{{/if}}') +
          task('json', 'echo {{json r.stdout_lines}}') +
          task('each', 'echo {{#each r.results}}{{this.rc}}{{/each}}') +
          task('stat', 'echo {{s.stat.exists}}') +
          task('sub', 'echo {{#if (eq s.stat.mode "0755")}}y{{/if}} {{default r.x "d"}}') +
          task('with', 'echo {{#with r}}{{rc}}{{/with}}'),
      ),
    ).toEqual([]);
  });

  it('still finds a misspelt top-level name, beside a registered one or alone', () => {
    expect(
      problems(
        registering +
          task('beside', 'echo {{#if r.rc}}{{knwon}}{{/if}}') +
          task('else of each', 'echo {{#each r.results}}{{zz}}{{else}}{{nope}}{{/each}}') +
          task('prototype name', 'echo {{r.rc}} {{constructor}}') +
          task('alone', 'echo {{rr.rc}}') +
          task('known', 'echo {{known}} {{r.rc}}'),
      ),
    ).toEqual([
      "beside: command.cmd: undefined variable 'knwon'",
      "else of each: command.cmd: undefined variable 'nope'",
      "prototype name: command.cmd: undefined variable 'constructor'",
      "alone: command.cmd: undefined variable 'rr.rc'",
    ]);
  });
});

describe('the pre-run argument check and include_tasks', () => {
  it("checks an included task only where the include's when holds", () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-pf-inc-'));
    writeFileSync(join(d, 'inc.yaml'), '- name: needs x\n  command: "echo {{x}}"\n');
    const inc = (when: string) => `    - include_tasks: ${JSON.stringify(join(d, 'inc.yaml'))}\n      when: ${when}\n`;
    expect(problems(inc('x is defined'))).toEqual([]);
    expect(problems(inc('known == 1'))).toEqual(["needs x: command.cmd: undefined variable 'x'"]);
  });
});

describe('rootNames: the variables a template reads at its top level', () => {
  it('leaves out helpers, this, ../, @data and the bodies of each and with', () => {
    expect(rootNames('{{a.b}} {{#if (eq c 1)}}{{d}}{{else}}{{e}}{{/if}} {{json f}} {{len}}')).toEqual([
      'a',
      'c',
      'd',
      'e',
      'f',
    ]);
    expect(rootNames('{{#each l}}{{x}}{{../y}}{{@index}}{{this.z}}{{/each}}{{#with m}}{{w}}{{/with}}')).toEqual([
      'l',
      'm',
    ]);
    expect(rootNames('{{__proto__}} {{toString}} {{{raw}}} {{bad')).toEqual([]);
    expect(rootNames('{{__proto__}} {{toString}} {{{raw}}}')).toEqual(['__proto__', 'toString', 'raw']);
    expect(rootNames('no template\n{ {x} }')).toEqual([]);
  });
});
