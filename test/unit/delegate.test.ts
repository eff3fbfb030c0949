import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { describeRun, outstanding } from '../../src/rollback/outstanding.js';
import { cmds, runFlow, writePlay } from './flow-fixture.js';
import { runOptions } from './run-options.js';

const INV = `all:
  children:
    directors:
      hosts:
        d1: {}
        d2: {}
    realservers:
      hosts:
        rs1: {weight: 3}
        rs2: {weight: 5}
`;
const fwd = (file: string) => `sysctl: {name: net.ipv4.ip_forward, value: 1, sysctl_file: ${file}}`;
const LOCK = (c: string) => c.includes('exec 9<>');

describe('delegate_to', () => {
  it("runs the task over the delegated host's connection with the original host's variables", async () => {
    const r = await runFlow(
      `- hosts: realservers
  tasks:
    - name: drain
      command: echo {{ inventory_hostname }} weight {{ weight }}
      delegate_to: d1
      register: drained
    - name: own
      command: echo {{ drained.stdout }}
`,
      INV,
    );
    expect(r.s.exitCode).toBe(0);
    expect(cmds(r.t.d1!).sort()).toEqual(['echo rs1 weight 3', 'echo rs2 weight 5']);
    // Registered on the original host, as in Ansible.
    expect(cmds(r.t.rs1!)).toEqual(['echo rs1 weight 3']);
    expect(cmds(r.t.rs2!)).toEqual(['echo rs2 weight 5']);
    expect(r.s.results.filter((x) => x.task === 'drain').map((x) => [x.host, x.delegatedTo])).toEqual(
      expect.arrayContaining([
        ['rs1', ['d1']],
        ['rs2', ['d1']],
      ]),
    );
    expect(r.s.recap.rs1).toMatchObject({ changed: 2 });
    expect(r.s.recap.d1).toBeUndefined();
  });

  it('loops over a group: delegate_to: "{{ item }}" runs each item on its host', async () => {
    const r = await runFlow(
      `- hosts: rs1
  tasks:
    - name: drain everywhere
      command: echo drain {{ inventory_hostname }} on {{ item }}
      loop: "{{ groups.directors }}"
      delegate_to: "{{ item }}"
`,
      INV,
    );
    expect(cmds(r.t.d1!)).toEqual(['echo drain rs1 on d1']);
    expect(cmds(r.t.d2!)).toEqual(['echo drain rs1 on d2']);
    expect(r.s.results.find((x) => x.task === 'drain everywhere')!.delegatedTo).toEqual(['d1', 'd2']);
  });

  it('a delegated change belongs to the host it was made on: the failed host is rolled back, it is not', async () => {
    const r = await runFlow(
      `- hosts: rs1
  tasks:
    - name: own change
      ${fwd('/etc/own.conf')}
    - name: on directors
      ${fwd('/etc/delegated.conf')}
      loop: "{{ groups.directors }}"
      delegate_to: "{{ item }}"
    - name: boom
      command: /bin/false
`,
      INV,
    );
    expect(r.s.exitCode).toBe(2);
    expect(r.s.recap.rs1).toMatchObject({ failed: 1, rolled_back: 1 });
    const begins = r.journal.filter((x) => x.phase === 'begin').map((x) => [x.host, x.task]);
    expect(begins).toEqual([
      ['rs1', 'own change'],
      ['d1', 'on directors'],
      ['d2', 'on directors'],
    ]);
    // rs1 is put back; what it changed on d1 and d2 stays (a drained server stays drained) and stays
    // on record for `lvsrun rollback`, which undoes it on d1 and d2.
    expect(r.journal.filter((x) => x.phase === 'undone').map((x) => x.host)).toEqual(['rs1']);
    expect(cmds(r.t.rs1!)).toContain('rm -rf -- /etc/own.conf');
    for (const d of ['d1', 'd2']) expect(cmds(r.t[d]!)).not.toContain('rm -rf -- /etc/delegated.conf');
    expect([...outstanding(r.journal).keys()]).toEqual(['d1', 'd2']);
  });

  it('when the host a change was delegated to fails, its rollback undoes that change there', async () => {
    const r = await runFlow(
      `- hosts: rs1:d1
  tasks:
    - name: for rs1 on d1
      ${fwd('/etc/delegated.conf')}
      delegate_to: d1
      when: inventory_hostname == 'rs1'
    - name: boom on d1
      command: /bin/false
      when: inventory_hostname == 'd1'
`,
      INV,
    );
    expect(r.s.recap.d1).toMatchObject({ failed: 1, rolled_back: 1 });
    expect(r.s.recap.rs1).toMatchObject({ failed: 0, rolled_back: 0 });
    expect(cmds(r.t.d1!)).toContain('rm -rf -- /etc/delegated.conf');
    expect(r.journal.filter((x) => x.phase === 'undone').map((x) => x.host)).toEqual(['d1']);
    expect(outstanding(r.journal).size).toBe(0);
  });

  it('lvsrun rollback and lvsrun runs see a delegated change under the host it was made on', async () => {
    const r = await runFlow(
      `- hosts: rs1
  tasks:
    - name: on d2
      ${fwd('/etc/delegated.conf')}
      delegate_to: d2
`,
      INV,
    );
    expect([...outstanding(r.journal).keys()]).toEqual(['d2']);
    expect(describeRun('x', r.journal).changedHosts).toEqual(['d2']);
  });

  it('the delegated host is connected and locked once per run, however many hosts delegate to it', async () => {
    const r = await runFlow(
      `- hosts: realservers
  tasks:
    - command: echo a
      delegate_to: d1
    - command: echo b
      delegate_to: d1
`,
      INV,
      { lock: { enabled: true, breakLock: false, operator: 'op' } },
    );
    expect(r.s.exitCode).toBe(0);
    expect(r.t.d1!.calls.filter((c) => LOCK(c.cmd))).toHaveLength(1);
    expect(r.t.d2!.calls).toEqual([]);
  });

  it('an unknown host, or a rendered value that is not a host name, fails the task with a clear error', async () => {
    for (const [value, msg] of [
      ['nohost', /delegate_to "nohost" is not a host of the inventory/],
      ['__proto__', /delegate_to "__proto__" is not a host of the inventory/],
      ['constructor', /delegate_to "constructor" is not a host of the inventory/],
      ['toString', /delegate_to "toString" is not a host of the inventory/],
      ['"d1\\0"', /holds a control character/],
      [`"${'a'.repeat(300)}"`, /longer than 255 characters/],
      ['{name: d1}', /a mapping, not a host name/],
      ['"d1\\nd2"', /holds a control character/],
      ['"-oProxyCommand=touch /tmp/x"', /holds a space|starts with a dash/],
      ['"-d1"', /starts with a dash/],
      ['[d1]', /a list, not a host name/],
    ] as const) {
      const r = await runFlow(
        `- hosts: rs1
  vars:
    v: ${value}
  tasks:
    - command: echo hi
      delegate_to: "{{ v }}"
`,
        INV,
      );
      expect(r.s.exitCode, value).toBe(2);
      expect(r.s.results[0]!.msg, value).toMatch(msg);
      expect(r.t.d1!.calls).toEqual([]);
      expect(r.t.rs1!.calls).toEqual([]);
    }
  });

  it('a host that prints a name with braces, a newline or a dash never picks the delegate', async () => {
    for (const [printed, msg] of [
      ['%7B%7Binventory_hostname%7D%7D', /holds template braces/],
      ['d1%0Ad2', /control character/],
      ['--help', /starts with a dash/],
      ['__proto__', /not a host of the inventory/],
    ] as const) {
      const r = await runFlow(
        `- hosts: rs1
  tasks:
    - command: emit ${printed}
      register: out
    - name: delegated
      command: echo hi
      delegate_to: "{{ out.stdout }}"
`,
        INV,
      );
      const d = r.s.results.find((x) => x.task === 'delegated')!;
      expect(d.status, printed).toBe('failed');
      expect(d.msg, printed).toMatch(msg);
      expect([...r.t.d1!.calls, ...r.t.d2!.calls]).toEqual([]);
    }
  });

  it('a literal value that no host can have is refused at load, naming file, line and field', () => {
    for (const [value, msg] of [
      ['"d1\\nrm -rf /"', /control character/],
      ['-d1', /starts with a dash/],
      ['"d1 d2"', /holds a space/],
      ['""', /is empty/],
      ['"{{ item "', /template syntax error|Parse error|Expecting/],
    ] as const) {
      const dir = writePlay(`- hosts: all\n  tasks:\n    - command: echo hi\n      delegate_to: ${value}\n`, INV);
      let e: unknown;
      try {
        loadPlaybook(join(dir, 'pb.yaml'));
      } catch (x) {
        e = x;
      }
      expect(e, value).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).message, value).toMatch(msg);
      expect((e as ConfigError).where.line, value).toBe(4);
    }
  });

  it('an unreachable delegated host fails the task (not the original host), which is then rolled back', async () => {
    const dir = writePlay(
      `- hosts: rs1
  tasks:
    - name: own
      ${fwd('/etc/own.conf')}
    - name: via d1
      command: echo hi
      delegate_to: d1
`,
      INV,
    );
    const { loadInventory } = await import('../../src/inventory/load.js');
    const { runPlaybook } = await import('../../src/engine/runner.js');
    const { EventBus } = await import('../../src/engine/events.js');
    const { fakeHost } = await import('./flow-fixture.js');
    const rs1 = fakeHost('rs1');
    const s = await runPlaybook(
      loadPlaybook(join(dir, 'pb.yaml')),
      loadInventory(join(dir, 'inv.yaml')),
      {
        ...runOptions(),
      },
      async (h) => {
        if (h !== 'rs1') throw new Error('connection refused');
        return rs1;
      },
      new EventBus(),
    );
    const via = s.results.find((x) => x.task === 'via d1')!;
    expect(via).toMatchObject({ host: 'rs1', status: 'failed' });
    expect(via.msg).toMatch(/delegate_to d1: .*connection refused/);
    expect(s.recap.rs1).toMatchObject({ failed: 1, unreachable: 0, rolled_back: 1 });
    expect(s.recap.d1).toMatchObject({ unreachable: 1 });
    expect(cmds(rs1)).toContain('rm -rf -- /etc/own.conf');
  });
});

describe('delegate_to before the run', () => {
  it('the pre-run check names a delegate that is not in the inventory, per host, before any host is touched', async () => {
    const { preflightArgs } = await import('../../src/engine/preflight.js');
    const { loadInventory } = await import('../../src/inventory/load.js');
    const { inventoryMagic } = await import('../../src/engine/vars.js');
    const { TemplateEngine } = await import('../../src/template/render.js');
    const dir = writePlay(
      `- hosts: realservers
  tasks:
    - command: echo hi
      delegate_to: d9
    - command: echo ok
      delegate_to: "{{ item }}"
      loop: "{{ groups.directors }}"
`,
      INV,
    );
    const inv = loadInventory(join(dir, 'inv.yaml'));
    const problems = preflightArgs(
      inv,
      loadPlaybook(join(dir, 'pb.yaml')),
      new TemplateEngine(),
      {},
      inventoryMagic(inv),
    );
    expect(problems.map((p) => [p.host, p.field, p.message])).toEqual([
      ['rs1', 'delegate_to', 'delegate_to "d9" is not a host of the inventory'],
      ['rs2', 'delegate_to', 'delegate_to "d9" is not a host of the inventory'],
    ]);
  });
});

describe('delegate_to and the host lock', () => {
  it('a delegated host locked by another run is never changed: the task fails on the host it was for', async () => {
    const dir = writePlay(
      `- hosts: rs1
  tasks:
    - name: via d1
      command: echo hi
      delegate_to: d1
`,
      INV,
    );
    const { loadInventory } = await import('../../src/inventory/load.js');
    const { runPlaybook } = await import('../../src/engine/runner.js');
    const { EventBus } = await import('../../src/engine/events.js');
    const { fakeHost } = await import('./flow-fixture.js');
    const { FakeTransport } = await import('../../src/transport/fake.js');
    const rs1 = fakeHost('rs1');
    const d1 = new FakeTransport('d1')
      .on(/exec 9<>/, { stdout: 'BUSY {"run":"other","operator":"someone"}\n' })
      .on(/^echo /, {});
    const s = await runPlaybook(
      loadPlaybook(join(dir, 'pb.yaml')),
      loadInventory(join(dir, 'inv.yaml')),
      {
        ...runOptions(),
        lock: { enabled: true, breakLock: false, operator: 'op' },
      },
      async (h) => (h === 'd1' ? d1 : rs1),
      new EventBus(),
    );
    const via = s.results.find((x) => x.task === 'via d1')!;
    expect(via).toMatchObject({ host: 'rs1', status: 'failed' });
    expect(via.msg).toMatch(/delegate_to d1: this run does not hold the host's lock/);
    expect(s.results.find((x) => x.host === 'd1')).toMatchObject({ task: 'lock', status: 'failed' });
    expect(cmds(d1).filter((c) => c.startsWith('echo'))).toEqual([]);
  });
});

describe('lvsrun PLAYBOOK with a bad delegate_to', () => {
  // Hosts on an address nothing listens on: if lvsrun tried to connect, the exit would be 4, not 1.
  const INV_DOWN = `all:
  vars: {ansible_host: 127.0.77.250, ansible_port: 22799}
  children:
    directors:
      hosts:
        d1: {}
    realservers:
      hosts:
        rs1: {}
`;
  it('exits 1 before any host is touched, naming file, line and field', async () => {
    const { cli } = await import('../integration/helpers.js');
    for (const [value, msg] of [
      ['d9', /delegate_to "d9" is not a host of the inventory/],
      ['"{{ groups.realservers }}"', /delegate_to gave a list, not a host name/],
      ['"-oProxyCommand=x"', /starts with a dash/],
      ['"__proto__"', /"__proto__" is not a host of the inventory/],
    ] as const) {
      const dir = writePlay(
        `- hosts: realservers\n  tasks:\n    - command: echo hi\n      delegate_to: ${value}\n`,
        INV_DOWN,
      );
      const r = await cli(join(dir, 'pb.yaml'), '-i', join(dir, 'inv.yaml'));
      expect(r.code, `${value}: ${r.out}${r.err}`).toBe(1);
      expect(r.err, value).toMatch(msg);
      expect(r.err, value).toMatch(/pb\.yaml:[34]\b/);
      expect(r.err, value).not.toMatch(/^\s+at /m);
    }
  });
});
