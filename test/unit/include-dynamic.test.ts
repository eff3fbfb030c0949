import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cmds, runFlow } from './flow-fixture.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { ConfigError } from '../../src/errors.js';

// include_tasks is dynamic (a task of its own: its when and tags decide), import_tasks static.
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-include-'));
const inc = join(dir, 'inc.yaml');
writeFileSync(
  inc,
  `- name: inner
  command: "echo {{ iv }}"
- name: inner a
  command: /bin/true
  tags: a
`,
);
const PB = `- hosts: all
  tasks:
    - name: include
      include_tasks: ${JSON.stringify(inc)}
      vars: {iv: included}
      when: inventory_hostname == 'h1'
    - name: import
      import_tasks: ${JSON.stringify(inc)}
      vars: {iv: imported}
      when: inventory_hostname == 'h2'
    - name: tagged include
      include_tasks: ${JSON.stringify(inc)}
      vars: {iv: tagged}
      tags: b
`;

describe('include_tasks runs as a task; its tasks exist only for the hosts that ran it', () => {
  it('counts ok or skipped by its when; the included tasks run on the hosts it ran on, with its vars', async () => {
    const r = await runFlow(PB);
    expect(r.order.filter((x) => /:(include|tagged include):/.test(x)).sort()).toEqual([
      'h1:include:ok',
      'h1:tagged include:ok',
      'h2:include:skipped',
      'h2:tagged include:ok',
    ]);
    // h2 never ran the first include: its tasks do not exist there (not even as skipped).
    expect(r.started).toEqual([
      'include',
      'inner',
      'inner a',
      'inner',
      'inner a',
      'tagged include',
      'inner',
      'inner a',
    ]);
    expect(r.order.filter((x) => x.startsWith('h2:')).slice(0, 3)).toEqual([
      'h2:include:skipped',
      'h2:inner:changed',
      'h2:inner a:changed',
    ]);
    expect(cmds(r.t.h1!)).toContain('echo included');
    expect(cmds(r.t.h2!)).toContain('echo imported');
    expect(r.s.recap.h1).toMatchObject({ ok: 6, skipped: 2 });
    expect(r.s.recap.h2).toMatchObject({ ok: 5, skipped: 1 });
  });

  it('--tags a: the tasks of an include not selected do not run, an imported task does', async () => {
    const r = await runFlow(PB, undefined, { tags: ['a'] });
    expect(r.order.sort()).toEqual(['h1:inner a:skipped', 'h2:inner a:changed']);
  });

  it('--tags b: the tagged include runs, but its untagged tasks are not selected', async () => {
    const r = await runFlow(PB, undefined, { tags: ['b'] });
    expect(r.order.sort()).toEqual(['h1:tagged include:ok', 'h2:tagged include:ok']);
  });
});

describe('a loop on an include is refused when the playbook loads, not dropped', () => {
  for (const [kw, key] of [
    ['include_tasks', 'loop'],
    ['import_tasks', 'with_items'],
    ['include_tasks', 'loop_control'],
  ] as const) {
    it(`${key} on ${kw}`, () => {
      const pb = join(dir, `loop-${kw}-${key}.yaml`);
      const val = key === 'loop_control' ? '{loop_var: x}' : '[1, 2]';
      writeFileSync(pb, `- hosts: all\n  tasks:\n    - ${kw}: ${JSON.stringify(inc)}\n      ${key}: ${val}\n`);
      let e: unknown;
      try {
        loadPlaybook(pb);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(ConfigError);
      expect(String((e as ConfigError).message)).toMatch(new RegExp(`${key} on include_tasks or import_tasks`));
      expect((e as ConfigError).where).toMatchObject({ file: pb, line: 4, field: `[0].tasks[0].${key}` });
    });
  }
});
