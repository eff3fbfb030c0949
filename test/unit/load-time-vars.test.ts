import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { findLocalFile } from '../../src/playbook/local-files.js';
import { loadPlaybook } from '../../src/playbook/load.js';

// include_tasks and serial may be templates of the play's vars and -e: rendered when the playbook loads.
function pb(play: string, files: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-loadvars-'));
  for (const [f, t] of Object.entries(files)) writeFileSync(join(d, f), t);
  writeFileSync(join(d, 'pb.yaml'), play);
  return join(d, 'pb.yaml');
}
const PLAY = `- hosts: all
  serial: "{{n}}"
  vars: {n: 1, change: a.yaml}
  tasks:
    - include_tasks: "{{ change }}"
`;
const FILES = { 'a.yaml': '- name: from a\n  command: "true"\n', 'b.yaml': '- name: from b\n  command: "true"\n' };

describe('templates rendered when the playbook loads', () => {
  it('serial and the include_tasks file name from the play vars, and -e over them', () => {
    const f = pb(PLAY, FILES);
    const p = loadPlaybook(f).plays[0]!;
    expect(p.serial).toEqual([1]);
    expect(p.tasks.map((t) => t.name)).toEqual(['include_tasks', 'from a']);
    const q = loadPlaybook(f, { vars: { n: '50%', change: 'b.yaml' } }).plays[0]!;
    expect(q.serial).toEqual(['50%']);
    expect(q.tasks.map((t) => t.name)).toEqual(['include_tasks', 'from b']);
  });
  it('an absolute file name from -e', () => {
    const other = pb('[]', { 'c.yaml': '- name: from c\n  command: "true"\n' });
    const p = loadPlaybook(pb(PLAY, FILES), { vars: { change: join(other, '..', 'c.yaml') } }).plays[0]!;
    expect(p.tasks.map((t) => t.name)).toEqual(['include_tasks', 'from c']);
  });
  it("an included file's templates are found beside it, after the playbook's own", () => {
    const other = join(pb('[]'), '..');
    mkdirSync(join(other, 'templates'));
    writeFileSync(join(other, 'templates', 'page.hbs'), 'x');
    writeFileSync(join(other, 'c.yaml'), '- name: from c\n  template: {src: page.hbs, dest: /tmp/p}\n');
    const t = loadPlaybook(pb(PLAY, FILES), { vars: { change: join(other, 'c.yaml') } }).plays[0]!.tasks[1]!;
    expect(findLocalFile('page.hbs', t.baseDirs, 'templates').found).toBe(join(other, 'templates', 'page.hbs'));
  });
  it.each([
    ['a variable only known later (an inventory variable)', { change: '{{lvs_vip}}.yaml' }, /lvs_vip/],
    ['a serial that renders to nothing usable', { n: 'many' }, /serial must be a positive number/],
    ['a file that does not exist', { change: 'nope.yaml' }, /nope\.yaml does not exist/],
  ])('refuses %s, naming the file and the line', (_w, vars, msg) => {
    const f = pb(PLAY, FILES);
    let e: unknown;
    try {
      loadPlaybook(f, { vars });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toMatch(msg);
    expect((e as ConfigError).where?.file).toBe(f);
    expect((e as ConfigError).where?.line).toBeGreaterThan(0);
  });
});
