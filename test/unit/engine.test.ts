import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlaybook } from '../../src/engine/runner.js';
import { EventBus } from '../../src/engine/events.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { loadInventory } from '../../src/inventory/load.js';
import { FakeTransport } from '../../src/transport/fake.js';
import { ConfigError } from '../../src/errors.js';
import { readJournal } from '../../src/rollback/journal.js';
import { withoutUndo } from '../../src/rollback/outstanding.js';
import type { RunOptions } from '../../src/engine/types.js';
import { Redactor } from '../../src/text/redact.js';
import { TemplateEngine } from '../../src/template/render.js';
import { runOptions } from './run-options.js';

function fixture(pb: string, inv = 'all:\n  hosts:\n    h1: {}\n    h2: {}\n') {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-engine-'));
  writeFileSync(join(d, 'pb.yaml'), pb);
  writeFileSync(join(d, 'inv.yaml'), inv);
  return { pb: loadPlaybook(join(d, 'pb.yaml')), inv: loadInventory(join(d, 'inv.yaml')), dir: d };
}

const opts = (o: Partial<RunOptions> = {}): RunOptions => ({
  ...runOptions(),
  ...o,
});

const PB = `- hosts: all
  tasks:
    - name: fwd
      sysctl: {name: net.ipv4.ip_forward, value: 1, sysctl_file: /etc/s.conf}
    - name: boom
      command: /bin/false
      when: inventory_hostname == 'h2'
`;

function host(name: string): FakeTransport {
  return new FakeTransport(name)
    .on(/sysctl -n/, { stdout: '0\n\n__lvsrun_probe_end__ 0\nabsent\n\n__lvsrun_probe_end__ 0\n' })
    .on(/^sysctl -q -w/, {})
    .on(/base64 -d/, {})
    .on(/^rm -rf/, {})
    .on(/^\/bin\/false$/, { code: 1, stderr: 'nope' });
}

describe('engine', () => {
  it('fails only the failing host and rolls it back in reverse order', async () => {
    const { pb, inv, dir } = fixture(PB);
    const t = { h1: host('h1'), h2: host('h2') };
    const s = await runPlaybook(
      pb,
      inv,
      opts({ runDir: join(dir, 'run') }),
      async (h) => t[h as 'h1' | 'h2'],
      new EventBus(),
    );
    expect(s.recap.h1).toMatchObject({ changed: 1, failed: 0, skipped: 1 });
    expect(s.recap.h2).toMatchObject({ failed: 1, rolled_back: 1 });
    expect(s.exitCode).toBe(2);
    // apply: sysctl -w then put file; rollback: remove file, then sysctl back to 0 (reverse order)
    expect(t.h2.calls.slice(-2).map((c) => c.cmd)).toEqual([
      'rm -rf -- /etc/s.conf',
      'sysctl -q -w -- net.ipv4.ip_forward=0',
    ]);
    expect(t.h1.calls.some((c) => c.cmd.startsWith('rm -rf'))).toBe(false);
  });

  it('--check runs only read-only probes', async () => {
    const { pb, inv } = fixture(PB);
    const t = { h1: host('h1'), h2: host('h2') };
    const s = await runPlaybook(pb, inv, opts({ check: true }), async (h) => t[h as 'h1' | 'h2'], new EventBus());
    expect(s.recap.h1!.changed).toBe(1);
    for (const c of [...t.h1.calls, ...t.h2.calls]) expect(c.cmd).toMatch(/^\(\nsysctl -n/);
  });

  it('reports an unreachable host and finishes the others', async () => {
    const { pb, inv } = fixture(PB);
    const h1 = host('h1');
    const s = await runPlaybook(
      pb,
      inv,
      opts(),
      async (h) => {
        if (h === 'h2') throw new Error('connection refused');
        return h1;
      },
      new EventBus(),
    );
    expect(s.recap.h2!.unreachable).toBe(1);
    expect(s.recap.h1!.changed).toBe(1);
    expect(s.exitCode).toBe(4);
  });

  it('serial batches run one after another', async () => {
    const { pb, inv } = fixture(PB.replace('- hosts: all', '- hosts: all\n  serial: 1'));
    const order: string[] = [];
    const t = { h1: host('h1'), h2: host('h2') };
    const bus = new EventBus().add({
      on: (e) => {
        if (e.type === 'host:result') order.push(`${e.result.host}:${e.result.task}`);
      },
    });
    await runPlaybook(pb, inv, opts(), async (h) => t[h as 'h1' | 'h2'], bus);
    expect(order).toEqual(['h1:fwd', 'h1:boom', 'h2:fwd', 'h2:boom']);
  });

  it('serial batches follow the host pattern order, as in Ansible (not inventory order)', async () => {
    const inv = 'all:\n  children:\n    web:\n      hosts:\n        h1: {}\n    db:\n      hosts:\n        h2: {}\n';
    const { pb, inv: i } = fixture(PB.replace('- hosts: all', '- hosts: db:web\n  serial: 1'), inv);
    const order: string[] = [];
    const t = { h1: host('h1'), h2: host('h2') };
    const bus = new EventBus().add({
      on: (e) => {
        if (e.type === 'host:result') order.push(`${e.result.host}:${e.result.task}`);
      },
    });
    await runPlaybook(pb, i, opts(), async (h) => t[h as 'h1' | 'h2'], bus);
    expect(order).toEqual(['h2:fwd', 'h2:boom', 'h1:fwd', 'h1:boom']);
  });
});

describe('registered results are data, not templates', () => {
  it('command output holding {{ }} is passed on as written (as Ansible marks it unsafe)', async () => {
    const { pb, inv, dir } = fixture(
      `- hosts: h1
  tasks:
    - command: cat /etc/page.hbs
      register: page
      changed_when: false
    - copy: {dest: /etc/copy-of-page, content: "{{page.stdout}}"}
`,
      'all:\n  hosts:\n    h1: {}\n',
    );
    const t = new FakeTransport('h1')
      .on(/^cat /, { stdout: '<h1>{{inventory_hostname}} {{undefined_thing}}</h1>\n' })
      .on(/base64 -w0/, { stdout: 'absent\n0\n' })
      .on(/base64 -d/, {});
    const s = await runPlaybook(pb, inv, opts({ runDir: join(dir, 'run') }), async () => t, new EventBus());
    expect(s.recap.h1, s.results.map((r) => r.msg).join(' | ')).toMatchObject({ failed: 0, changed: 1 });
    const write = t.calls.find((c) => c.cmd.includes('base64 -d'))!;
    expect(Buffer.from(write.stdin!, 'base64').toString()).toBe('<h1>{{inventory_hostname}} {{undefined_thing}}</h1>');
  });
});

describe('playbook errors', () => {
  const bad = (pb: string): ConfigError => {
    try {
      fixture(pb);
    } catch (e) {
      return e as ConfigError;
    }
    throw new Error('no error');
  };
  it('names file:line and suggests the nearest module', () => {
    const e = bad('- hosts: all\n  tasks:\n    - name: x\n      templat: {src: a, dest: b}\n');
    expect(e.format()).toMatch(/pb\.yaml:4:7 \(\[0\]\.tasks\[0\]\.templat\): unknown module or task keyword 'templat'/);
    expect(e.hint).toBe("did you mean 'template'?");
  });
  it('names an unknown argument of a module', () => {
    const e = bad('- hosts: all\n  tasks:\n    - sysctl: {name: a.b, valu: 1}\n');
    expect(e.message).toMatch(/unknown argument 'valu'/);
    expect(e.hint).toBe("did you mean 'value'?");
    expect(e.where.line).toBe(3);
  });
  it('finds a template syntax error in an argument at load time, naming the line and field', () => {
    const e = bad(
      '- hosts: all\n  tasks:\n    - name: x\n      copy:\n        dest: /etc/x\n        content: "{{#if a}}unclosed"\n',
    );
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.format()).toMatch(/pb\.yaml:6 .*copy\.content.*template syntax error/);
  });
  it('reports a missing template file at load time', () => {
    const e = bad('- hosts: all\n  tasks:\n    - template: {src: nope.hbs, dest: /etc/x}\n');
    expect(e.format()).toMatch(/template 'nope\.hbs' not found/);
  });
  it('reports YAML syntax errors with line and column', () => {
    const e = bad('- hosts: all\n  tasks:\n    - name: "x\n');
    expect(e.code).toBe('E_YAML');
    expect(e.where.line).toBeGreaterThan(0);
  });
  it('checks argument types unless the value is a template', () => {
    expect(bad('- hosts: all\n  tasks:\n    - wait_for: {port: eighty}\n').message).toMatch(/wait_for: port/);
    expect(() => fixture('- hosts: all\n  tasks:\n    - wait_for: {port: "{{p}}"}\n')).not.toThrow();
  });
});

describe('journal of steps without an undo', () => {
  it('a read-only command (changed_when: false) is not reported as a change a rollback cannot put back', async () => {
    const { pb, inv, dir } = fixture(
      `- hosts: all
  tasks:
    - name: probe
      command: /bin/true
      changed_when: false
    - name: act
      command: /bin/touch /x
`,
      'all:\n  hosts:\n    h1: {}\n',
    );
    const t = new FakeTransport('h1').on(/^\/bin\/true$/, {}).on(/^\/bin\/touch/, {});
    const runDir = join(dir, 'run');
    const s = await runPlaybook(pb, inv, opts({ runDir }), async () => t, new EventBus());
    expect(s.recap.h1).toMatchObject({ ok: 2, changed: 1 });
    const recs = readJournal(join(runDir, 'journal.jsonl'));
    // Both were on record before they ran; only the one that changed something is left.
    expect(recs.filter((r) => r.phase === 'irreversible').map((r) => r.task)).toEqual(['probe', 'act']);
    expect(Object.fromEntries(withoutUndo(recs))).toEqual({ h1: ['act'] });
  });
});

describe('secrets a host returns', () => {
  it('a secret-named registered result is masked, and its text is never rendered as a template', async () => {
    const { pb, inv } = fixture(
      `- hosts: all
  tasks:
    - name: fetch
      command: /bin/fetch-token
      register: api_token
    - name: next
      command: /bin/true
`,
      'all:\n  hosts:\n    h1: {}\n',
    );
    const t = new FakeTransport('h1')
      .on(/^\/bin\/fetch-token$/, { stdout: 'tok-{{ inventory_hostname }}-9f3a\n' })
      .on(/^\/bin\/true$/, {});
    const red = new Redactor([]);
    const rendered: unknown[] = [];
    const orig = TemplateEngine.prototype.renderValue;
    TemplateEngine.prototype.renderValue = function (this: TemplateEngine, ...a: Parameters<typeof orig>) {
      rendered.push(a[0]);
      return orig.apply(this, a);
    };
    try {
      const s = await runPlaybook(pb, inv, opts({ redactor: red }), async () => t, new EventBus());
      expect(s.recap.h1).toMatchObject({ failed: 0 });
    } finally {
      TemplateEngine.prototype.renderValue = orig;
    }
    expect(red.text('got tok-{{ inventory_hostname }}-9f3a')).toBe('got ********');
    expect(rendered.filter((v) => typeof v === 'string' && v.includes('tok-'))).toEqual([]);
  });

  it('the secrets of a host are looked for in its own variables, not in the play-wide host lists (per task)', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `h${i}`);
    const { pb, inv } = fixture(
      '- hosts: all\n  tasks:\n    - {name: a, command: /bin/true}\n    - {name: b, command: /bin/true}\n',
      `all:\n  vars: {api_password: s3cret-value}\n  hosts:\n${names.map((n) => `    ${n}: {}\n`).join('')}`,
    );
    const walked: string[] = [];
    class Spy extends Redactor {
      override addVars(
        vars: Record<string, unknown>,
        ...rest: Parameters<Redactor['addVars']> extends [unknown, ...infer R] ? R : never
      ): void {
        walked.push(...Object.keys(vars));
        super.addVars(vars, ...rest);
      }
    }
    const red = new Spy([]);
    const t = new FakeTransport('any').on(/^\/bin\/true$/, { stdout: 's3cret-value\n' });
    const s = await runPlaybook(pb, inv, opts({ redactor: red }), async () => t, new EventBus());
    expect(Object.values(s.recap).every((r) => r.failed === 0)).toBe(true);
    expect(walked).toContain('api_password');
    // A list of every host, walked for every task of every host, made a large run quadratic.
    for (const k of ['play_hosts', 'ansible_play_hosts', 'ansible_play_batch', 'groups', 'hostvars'])
      expect(walked).not.toContain(k);
    expect(red.text('out: s3cret-value')).toBe('out: ********');
  });
});
