import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadPlaybook } from '../../src/playbook/load.js';
import { ConfigError } from '../../src/errors.js';
import { cmds, runFlow, writePlay, INV2 } from './flow-fixture.js';

const FWD = 'sysctl: {name: net.ipv4.ip_forward, value: 1, sysctl_file: /etc/s.conf}';

const RESCUED = `- hosts: all
  tasks:
    - name: outer
      block:
        - name: b1
          ${FWD}
        - name: b2
          command: /bin/false
          when: inventory_hostname == 'h2'
        - name: b3
          command: /bin/true
      rescue:
        - name: r1
          command: "echo rescued {{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }}"
      always:
        - name: a1
          command: /bin/true
    - name: after
      command: /bin/true
`;

describe('block / rescue / always', () => {
  it('a failure in a block runs its rescue and always, in Ansible order, and is not a failure of the host', async () => {
    const r = await runFlow(RESCUED);
    expect([...r.order].sort()).toEqual(
      [
        'h1:b1:changed',
        'h2:b1:changed',
        'h1:b2:skipped',
        'h2:b2:failed',
        'h1:b3:changed',
        'h2:r1:changed',
        'h1:a1:changed',
        'h2:a1:changed',
        'h1:after:changed',
        'h2:after:changed',
      ].sort(),
    );
    expect(r.started).toEqual(['b1', 'b2', 'b3', 'r1', 'a1', 'after']);
    expect(r.s.recap.h2).toMatchObject({ failed: 0, rescued: 1, rolled_back: 0 });
    expect(r.s.recap.h1).toMatchObject({ failed: 0, rescued: 0 });
    expect(r.s.exitCode).toBe(0);
    // The rescue saw what failed.
    expect(cmds(r.t.h2!)).toContain('echo rescued b2 rc=1');
    // A handled failure is no rollback: the change stays, nothing was undone.
    expect(cmds(r.t.h2!).some((c) => c.startsWith('rm -rf'))).toBe(false);
    expect(r.journal.filter((x) => x.phase === 'undone')).toEqual([]);
    expect(r.s.results.find((x) => x.host === 'h2' && x.task === 'b2')).toMatchObject({ rescued: true });
  });

  it('the results of one task come before the next task starts (linear), hosts in lockstep', async () => {
    const r = await runFlow(RESCUED);
    const pos = (s: string) => r.order.indexOf(s);
    expect(pos('h2:b2:failed')).toBeLessThan(pos('h1:b3:changed'));
    expect(pos('h1:b3:changed')).toBeLessThan(pos('h2:r1:changed'));
    expect(pos('h2:r1:changed')).toBeLessThan(pos('h1:a1:changed'));
    expect(pos('h2:a1:changed')).toBeLessThan(pos('h1:after:changed'));
  });

  it('a failure no rescue handles runs always, then the host follows on_failure (rolled back)', async () => {
    const r = await runFlow(`- hosts: all
  tasks:
    - block:
        - name: b1
          ${FWD}
        - name: b2
          command: /bin/false
          when: inventory_hostname == 'h2'
      always:
        - name: a1
          command: echo always
    - name: after
      command: /bin/true
`);
    expect(r.s.recap.h2).toMatchObject({ failed: 1, rescued: 0, rolled_back: 1 });
    expect(r.s.recap.h1).toMatchObject({ failed: 0, rolled_back: 0 });
    expect(r.s.exitCode).toBe(2);
    const h2 = cmds(r.t.h2!);
    // always ran before the rollback; the rollback undid the block's change; h2 ran nothing after.
    expect(h2.indexOf('echo always')).toBeLessThan(h2.indexOf('rm -rf -- /etc/s.conf'));
    expect(h2.at(-1)).toBe('sysctl -q -w -- net.ipv4.ip_forward=0');
    expect(r.order).not.toContain('h2:after:changed');
    expect(r.journal.filter((x) => x.phase === 'undone').map((x) => x.host)).toEqual(['h2']);
  });

  it('a failure in rescue is not handled: always runs, then the host fails', async () => {
    const r = await runFlow(`- hosts: h1
  tasks:
    - block:
        - command: /bin/false
      rescue:
        - name: r1
          command: /bin/false
      always:
        - name: a1
          command: /bin/true
`);
    expect(r.order).toEqual(['h1:command:failed', 'h1:r1:failed', 'h1:a1:changed']);
    expect(r.s.recap.h1).toMatchObject({ failed: 1, rescued: 1 });
    expect(r.s.exitCode).toBe(2);
  });

  it('nested blocks: an inner failure without rescue runs the inner always, then the outer rescue', async () => {
    const r = await runFlow(`- hosts: h1
  tasks:
    - block:
        - block:
            - name: inner
              command: /bin/false
            - name: not run
              command: /bin/true
          always:
            - name: inner always
              command: /bin/true
        - name: outer not run
          command: /bin/true
      rescue:
        - name: outer rescue
          command: echo {{ ansible_failed_task.name }}
`);
    expect(r.order).toEqual(['h1:inner:failed', 'h1:inner always:changed', 'h1:outer rescue:changed']);
    expect(cmds(r.t.h1!)).toContain('echo inner');
    expect(r.s.recap.h1).toMatchObject({ failed: 0, rescued: 1 });
  });

  it('block keywords are inherited by its tasks: when, become, vars, tags', async () => {
    const pb = `- hosts: all
  tasks:
    - block:
        - name: inside
          command: echo {{ greeting }} {{ inventory_hostname }}
        - name: own vars win
          command: echo {{ greeting }}
          vars: {greeting: bye}
          become: false
      when: inventory_hostname == 'h1'
      become: true
      become_user: admin
      vars: {greeting: hello}
      tags: [web]
    - name: untagged
      command: /bin/true
`;
    const r = await runFlow(pb, INV2, { tags: ['web'] });
    expect([...r.order].sort()).toEqual([
      'h1:inside:changed',
      'h1:own vars win:changed',
      'h2:inside:skipped',
      'h2:own vars win:skipped',
    ]);
    expect(r.t.h1!.calls.find((c) => c.cmd === 'echo hello h1')).toMatchObject({ become: 'admin' });
    expect(r.t.h1!.calls.find((c) => c.cmd === 'echo bye')!.become).toBeUndefined();
  });

  it('include_tasks inside a block: the included tasks are part of the block', async () => {
    const dir = writePlay(
      `- hosts: h1
  tasks:
    - block:
        - include_tasks: inc.yaml
      rescue:
        - name: r
          command: echo caught {{ ansible_failed_task.name }}
`,
      INV2,
    );
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'inc.yaml'), '- name: included\n  command: /bin/false\n');
    const pb = loadPlaybook(join(dir, 'pb.yaml'));
    expect(pb.plays[0]!.tasks.map((t) => [t.name, t.block?.map((f) => f.part)])).toEqual([
      ['include_tasks', ['block']],
      ['included', ['block']],
      ['r', ['rescue']],
    ]);
  });
});

describe('block errors at load', () => {
  const bad = (tasks: string): ConfigError => {
    const dir = writePlay(`- hosts: all\n  tasks:\n${tasks}`, INV2);
    try {
      loadPlaybook(join(dir, 'pb.yaml'));
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error('no error');
  };
  it('an unknown block keyword names file, line and field with a suggestion', () => {
    const e = bad('    - block:\n        - command: /bin/true\n      rescu:\n        - command: /bin/true\n');
    expect(e.format()).toMatch(/pb\.yaml:5:7 \(\[0\]\.tasks\[0\]\.rescu\): unknown block keyword 'rescu'/);
    expect(e.hint).toBe("did you mean 'rescue'?");
  });
  it('a module beside block is refused', () => {
    expect(bad('    - block: []\n      command: /bin/true\n').message).toMatch(/unknown block keyword 'command'/);
  });
  it('a section that is not a list is refused', () => {
    expect(bad('    - block:\n        command: /bin/true\n').message).toMatch(/block must be a list of tasks/);
  });
  it('a bad condition on a block is refused at load', () => {
    expect(bad('    - block:\n        - command: /bin/true\n      when: "a =="\n').code).toBe('E_WHEN');
  });
  it('a handler inside a block is refused', () => {
    const dir = writePlay(
      '- hosts: all\n  tasks: []\n  handlers:\n    - block:\n        - name: h\n          command: /bin/true\n',
      INV2,
    );
    expect(() => loadPlaybook(join(dir, 'pb.yaml'))).toThrow(/handlers cannot use block/);
  });
});

describe('the pre-run check of every task', () => {
  it('accepts ansible_failed_task and ansible_failed_result, which exist once a task has failed', async () => {
    const { preflightArgs } = await import('../../src/engine/preflight.js');
    const { loadInventory } = await import('../../src/inventory/load.js');
    const { inventoryMagic } = await import('../../src/engine/vars.js');
    const { TemplateEngine } = await import('../../src/template/render.js');
    const dir = writePlay(
      `- hosts: all
  tasks:
    - block:
        - command: /bin/false
      rescue:
        - command: echo {{ ansible_failed_task.name }} {{ ansible_failed_result.msg }}
        - command: echo {{ not_defined_anywhere }}
`,
      INV2,
    );
    const inv = loadInventory(join(dir, 'inv.yaml'));
    const problems = preflightArgs(
      inv,
      loadPlaybook(join(dir, 'pb.yaml')),
      new TemplateEngine(),
      {},
      inventoryMagic(inv),
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(/not_defined_anywhere/),
      expect.stringMatching(/not_defined_anywhere/),
    ]);
  });
});

describe('block keywords are data', () => {
  it('prototype names in block vars set no prototype: they stay plain variables of that name', async () => {
    const r = await runFlow(`- hosts: h1
  vars: {greeting: hello}
  tasks:
    - block:
        - name: t
          command: echo {{ greeting }}
      vars:
        __proto__: {greeting: evil}
        constructor: {greeting: evil}
`);
    expect(r.s.exitCode).toBe(0);
    expect(cmds(r.t.h1!)).toEqual(['echo hello']);
    expect(({} as Record<string, unknown>).greeting).toBeUndefined();
  });
});
