import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/playbook/load.js';

const load = (text: string) => {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-kwbool-'));
  writeFileSync(join(d, 'pb.yaml'), text);
  return loadPlaybook(join(d, 'pb.yaml'));
};
const task = (kw: string) =>
  load(`- hosts: all\n  tasks:\n    - command: /bin/true\n      ${kw}\n`).plays[0]!.tasks[0]!;

// A bool keyword the load check accepts must be read the same way: `no_log: on` that passed the
// check but was read as false showed the task's output unmasked.
describe('bool keywords are read as the load check accepts them', () => {
  it('yes/on/true/1 in any case are true; no/off/false/0 are false', () => {
    for (const v of ['yes', 'On', 'TRUE', '1', 'true']) {
      expect(task(`no_log: ${v}`).noLog, v).toBe(true);
      expect(task(`ignore_errors: ${v}`).ignoreErrors, v).toBe(true);
      expect(task(`become: ${v}`).become, v).toBe(true);
    }
    for (const v of ['no', 'Off', 'false', '0']) expect(task(`no_log: ${v}`).noLog, v).toBe(false);
    expect(load('- hosts: all\n  become: "on"\n  tasks: []\n').plays[0]!.become).toBe(true);
  });

  it('a template, which is never rendered for a keyword, is refused at load instead of read as false', () => {
    expect(() => task('no_log: "{{ hide }}"')).toThrow(/'no_log' must be true or false/);
    expect(() => task('become: "{{ use_sudo }}"')).toThrow(/'become' must be true or false/);
  });
});
