import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import type { RunOptions, RunSummary } from '../../src/engine/types.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { ShellSession } from '../../src/transport/shell-session.js';
import type { ShellCmd } from '../../src/transport/shell.js';
import type { ExecItem, ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import { runOptions } from './run-options.js';
import { spawnLocalShell } from './local-shell.js';

/** A host that is a local /bin/sh behind the same pipelined shell session lvsrun uses over SSH. */
class LocalShellHost implements Transport {
  readonly session = new ShellSession(async () => spawnLocalShell());
  /** Commands sent with a sudo password while another such command was still out. */
  overlappingPasswords = 0;
  private passwordsOut = 0;
  /** `log`, if given, gets `HOST sent` for every command, in order with whatever else the test logs there. */
  constructor(
    readonly host: string,
    private readonly log?: string[],
  ) {}
  async exec(cmd: ShellCmd, o: ExecOptions = {}): Promise<ExecResult> {
    const pw = o.become?.password !== undefined;
    if (pw && this.passwordsOut > 0) this.overlappingPasswords++;
    if (pw) this.passwordsOut++;
    this.sent.push(cmd);
    this.log?.push(`${this.host} sent`);
    this.trips.push(this.session.roundTrips);
    try {
      return await this.session.run(cmd, o.stdin === undefined ? {} : { stdin: o.stdin });
    } finally {
      if (pw) this.passwordsOut--;
    }
  }
  /** Every command the host was sent. */
  readonly sent: string[] = [];
  /** For each of `sent` sent with exec: the round trips the session had made when it was sent. */
  readonly trips: number[] = [];
  async execSeq(items: ReadonlyArray<ExecItem>, after?: () => void): Promise<ExecResult[]> {
    for (const it of items) {
      this.sent.push(it.cmd);
      this.trips.push(this.session.roundTrips);
    }
    const answers = this.session.runSeq(
      items.map((it) => ({
        cmd: it.cmd,
        opts: it.opts?.stdin === undefined ? {} : { stdin: it.opts.stdin },
        ...(it.mayFail ? { mayFail: true } : {}),
      })),
    );
    after?.();
    return (await answers).filter((x) => x.signal !== 'SKIPPED');
  }
  roundTrips(): number {
    return this.session.roundTrips;
  }
  async close(): Promise<void> {
    this.session.close();
  }
}

/**
 * A host without a shared shell (as with lvsrun_persistent_shell: false): every command is a shell
 * of its own, started at once, so commands asked for together run at the same time. Writes are
 * slowed down, so that a read started beside one would see the file before it.
 */
class ChannelPerCommandHost implements Transport {
  constructor(readonly host: string) {}
  exec(cmd: ShellCmd, o: ExecOptions = {}): Promise<ExecResult> {
    const write = cmd.startsWith('d=');
    return new Promise((resolve) => {
      const p = spawn('/bin/sh', ['-c', write ? `sleep 0.3; ${cmd}` : cmd], { stdio: 'pipe' });
      let out = '';
      let err = '';
      p.stdout.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr.on('data', (b: Buffer) => (err += b.toString()));
      p.on('close', (code) => resolve({ code, signal: null, stdout: out, stderr: err, durationMs: 0 }));
      // A command that does not read stdin may exit before it is written (EPIPE): nothing to feed then.
      p.stdin.on('error', () => undefined);
      p.stdin.end(o.stdin ?? '');
    });
  }
  async close(): Promise<void> {}
}

const opts = (dir: string): RunOptions => ({
  ...runOptions(),
  runDir: join(dir, 'run'),
});

async function run(
  dir: string,
  pb: string,
  names = ['h1'],
  log?: string[],
): Promise<{ s: RunSummary; trips: number; overlapping: number; sent: string[]; hosts: Map<string, LocalShellHost> }> {
  writeFileSync(join(dir, 'pb.yaml'), pb);
  const hosts = names.map((n) => `    ${n}: {}\n`).join('');
  writeFileSync(join(dir, 'inv.yaml'), `all:\n  hosts:\n${hosts}  vars:\n    d: ${dir}/root\n`);
  const made = new Map(names.map((n) => [n, new LocalShellHost(n, log)]));
  const s = await runPlaybook(
    loadPlaybook(join(dir, 'pb.yaml')),
    loadInventory(join(dir, 'inv.yaml')),
    opts(dir),
    async (h) => made.get(h)!,
    new EventBus().add({ on: (e) => void (e.type === 'play:start' && log?.push(`play ${e.play}`)) }),
  );
  const first = made.get(names[0]!)!;
  return { s, trips: first.roundTrips(), overlapping: first.overlappingPasswords, sent: first.sent, hosts: made };
}

/** A fresh folder whose hosts' root folder `d` exists already. */
async function withRoot(names = ['h1']): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsrun-probe-'));
  await run(dir, `- hosts: all\n  tasks:\n    - {name: root, file: {path: "{{d}}", state: directory}}\n`, names);
  return dir;
}

const NOOP_PB = `- hosts: all
  tasks:
    - {name: root, file: {path: "{{d}}", state: directory, mode: "0755"}}
    - {name: a, copy: {content: "a\\n", dest: "{{d}}/a", mode: "0644"}}
    - {name: b, copy: {content: "b\\n", dest: "{{d}}/b", mode: "0644"}}
    - {name: line, lineinfile: {path: "{{d}}/c", line: "x=1", create: true, mode: "0644"}}
    - {name: sub, file: {path: "{{d}}/sub", state: directory, mode: "0755"}}
    - {name: st, stat: {path: "{{d}}/a"}, register: st}
`;

describe('probes sent ahead (one round trip for a no-op run)', () => {
  it('a no-op re-run asks for every task’s state together instead of one task at a time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-probe-'));
    const cold = await run(dir, NOOP_PB);
    expect(cold.s.recap.h1).toMatchObject({ changed: 5, failed: 0 });
    const noop = await run(dir, NOOP_PB);
    expect(noop.s.recap.h1).toMatchObject({ ok: 6, changed: 0, failed: 0 });
    // Six tasks, one probe each: sent one at a time they would cost six round trips.
    expect(noop.trips).toBeLessThanOrEqual(2);
  });

  it('a first converge probes and applies each task in one round trip, and does not probe every task again after each change', async () => {
    const dir = await withRoot();
    const tasks = Array.from(
      { length: 12 },
      (_, i) => `    - {name: t${i}, copy: {content: "${i}\\n", dest: "{{d}}/f${i}"}}\n`,
    );
    const cold = await run(dir, `- hosts: all\n  tasks:\n${tasks.join('')}`);
    expect(cold.s.recap.h1).toMatchObject({ ok: 12, changed: 12, failed: 0 });
    for (let i = 0; i < 12; i++) expect(readFileSync(join(dir, 'root', `f${i}`), 'utf8')).toBe(`${i}\n`);
    // About one round trip per task (its steps, with the next task's probe behind them), plus the
    // first probes and a few writes made while answers were still arriving; a probe and an apply
    // each in a round trip of its own would be 24 and more.
    expect(cold.trips).toBeLessThanOrEqual(12 + 3);
    // Probing all the tasks left after each change would send 12 + 11 + … + 1 = 78 probes.
    const probes = cold.sent.filter((c) => c.startsWith('p=')).length;
    expect(probes).toBeGreaterThanOrEqual(12);
    expect(probes).toBeLessThanOrEqual(36);
  });

  it('without a shared shell, the next task is probed only after the change is made', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-probe-'));
    mkdirSync(join(dir, 'root'));
    writeFileSync(
      join(dir, 'pb.yaml'),
      `- hosts: all
  tasks:
    - {name: a, lineinfile: {path: "{{d}}/conf", line: "a=1", create: true}}
    - {name: b, lineinfile: {path: "{{d}}/conf", line: "b=2", create: true}}
`,
    );
    writeFileSync(join(dir, 'inv.yaml'), `all:\n  hosts:\n    h1: {}\n  vars:\n    d: ${dir}/root\n`);
    const s = await runPlaybook(
      loadPlaybook(join(dir, 'pb.yaml')),
      loadInventory(join(dir, 'inv.yaml')),
      opts(dir),
      async (h) => new ChannelPerCommandHost(h),
      new EventBus(),
    );
    expect(s.recap.h1).toMatchObject({ changed: 2, failed: 0 });
    // Task b's probe had to see a=1: had it run beside a's write, b would have written the file without it.
    expect(readFileSync(join(dir, 'root', 'conf'), 'utf8')).toBe('a=1\nb=2\n');
  });

  it('Ctrl-C while a change runs, with the next probe queued behind it: the change finishes and is rolled back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-probe-'));
    mkdirSync(join(dir, 'root'));
    writeFileSync(
      join(dir, 'pb.yaml'),
      `- hosts: all\n  tasks:\n    - {name: a, copy: {content: "a\\n", dest: "{{d}}/a"}}\n` +
        `    - {name: b, copy: {content: "b\\n", dest: "{{d}}/b"}}\n`,
    );
    writeFileSync(join(dir, 'inv.yaml'), `all:\n  hosts:\n    h1: {}\n  vars:\n    d: ${dir}/root\n`);
    const ctl = new AbortController();
    // The run's signal reaches the shell, and the interrupt comes as b's probe is written behind
    // a's steps, before the host can have answered them.
    class Interrupted extends LocalShellHost {
      override exec(cmd: ShellCmd, o: ExecOptions = {}): Promise<ExecResult> {
        const r = this.session.run(cmd, {
          ...(o.stdin === undefined ? {} : { stdin: o.stdin }),
          ...(o.signal ? { signal: o.signal } : {}),
        });
        if (this.changing && cmd.includes('/root/b') && !ctl.signal.aborted) queueMicrotask(() => ctl.abort());
        return r;
      }
      private changing = false;
      override execSeq(items: ReadonlyArray<ExecItem>, after?: () => void): Promise<ExecResult[]> {
        this.changing = true;
        return super.execSeq(items, after);
      }
    }
    const s = await runPlaybook(
      loadPlaybook(join(dir, 'pb.yaml')),
      loadInventory(join(dir, 'inv.yaml')),
      { ...opts(dir), signal: ctl.signal },
      async (h) => new Interrupted(h),
      new EventBus(),
    );
    const a = s.results.find((x) => x.task === 'a');
    expect(a?.status, a?.msg).toBe('changed');
    expect(s.results.find((x) => x.task === 'b')).toBeUndefined();
    // What a made is undone: nothing is left as it was not before the run.
    expect(existsSync(join(dir, 'root', 'a'))).toBe(false);
  });

  it('a probe sent before a change is not trusted: the task looks again and sees the change', async () => {
    const dir = await withRoot();
    // Task 2's probe goes out with task 1's, while the file is still absent. Task 1 then writes it.
    const pb = `- hosts: all
  tasks:
    - {name: first, copy: {content: "same\\n", dest: "{{d}}/f", mode: "0644"}}
    - {name: again, copy: {content: "same\\n", dest: "{{d}}/f", mode: "0644"}}
    - {name: look, stat: {path: "{{d}}/f"}, register: look}
    - {name: use, copy: {content: "{{look.stat.exists}} {{look.stat.size}}\\n", dest: "{{d}}/g"}}
`;
    const r = await run(dir, pb);
    const by = (t: string): string | undefined => r.s.results.find((x) => x.task === t)?.status;
    expect(by('first')).toBe('changed');
    expect(by('again')).toBe('ok');
    expect(by('look')).toBe('ok');
    expect(readFileSync(join(dir, 'root', 'f'), 'utf8')).toBe('same\n');
    expect(readFileSync(join(dir, 'root', 'g'), 'utf8')).toBe('true 5\n');
  });

  it('a template that reads a result registered in between is rendered and compared again', async () => {
    const dir = await withRoot();
    writeFileSync(join(dir, 't.hbs'), 'seen={{seen.stat.exists}}\n');
    writeFileSync(join(dir, 'root', 'a'), 'a\n');
    writeFileSync(join(dir, 'root', 't'), 'seen=true\n');
    // The page's probe goes out with `again`'s, while `seen` still holds true from the first play;
    // by the page's turn `seen` is false. Trusting the probe would leave seen=true on the host.
    const pb = `- hosts: all
  tasks:
    - {name: seen, stat: {path: "{{d}}/a"}, register: seen}
- hosts: all
  tasks:
    - {name: again, stat: {path: "{{d}}/none"}, register: seen}
    - {name: page, template: {src: t.hbs, dest: "{{d}}/t"}}
`;
    const r = await run(dir, pb);
    expect(r.s.results.find((x) => x.task === 'page')?.status).toBe('changed');
    expect(readFileSync(join(dir, 'root', 't'), 'utf8')).toBe('seen=false\n');
  });

  it('a change delegated to a host makes that host’s own probes stale', async () => {
    const dir = await withRoot(['h1', 'd1']);
    // d1's probe of `mine` goes out with `first`, while `shared` is absent; then h1 writes it on d1.
    const pb = `- hosts: all
  tasks:
    - {name: first, file: {path: "{{d}}", state: directory}}
    - name: theirs
      copy: {content: "one\\n", dest: "{{d}}/shared"}
      delegate_to: d1
      when: inventory_hostname == 'h1'
    - name: mine
      copy: {content: "one\\n", dest: "{{d}}/shared"}
      when: inventory_hostname == 'd1'
`;
    const r = await run(dir, pb, ['h1', 'd1']);
    const of = (t: string, h: string): string | undefined =>
      r.s.results.find((x) => x.task === t && x.host === h)?.status;
    expect(of('theirs', 'h1')).toBe('changed');
    expect(of('mine', 'd1')).toBe('ok');
  });

  it('in a converge, a task acting on a stat is probed with the stat, behind the change before them', async () => {
    const dir = await withRoot();
    // The stat cannot change the host: the task after it is probed behind the change before it.
    // (After three changes in a row, only the next task is probed behind a change.)
    const pb = `- hosts: all
  tasks:
    - {name: a0, copy: {content: "a\\n", dest: "{{d}}/a0"}}
    - {name: a1, copy: {content: "a\\n", dest: "{{d}}/a1"}}
    - {name: a, copy: {content: "a\\n", dest: "{{d}}/a"}}
    - {name: b, copy: {content: "b\\n", dest: "{{d}}/b"}}
    - {name: look, stat: {path: "{{d}}/b"}, register: look}
    - {name: c, copy: {content: "c\\n", dest: "{{d}}/c"}, when: look.stat.exists}
    - {name: look2, stat: {path: "{{d}}/c"}, register: look2}
    - {name: d, copy: {content: "d\\n", dest: "{{d}}/d"}, when: look2.stat.exists}
`;
    const r = await run(dir, pb);
    expect(r.s.recap.h1).toMatchObject({ ok: 8, changed: 6, failed: 0 });
    expect(readFileSync(join(dir, 'root', 'd'), 'utf8')).toBe('d\n');
    // The last probe of each task that acts on a stat went out in the same round trip as the stat's.
    const h = r.hosts.get('h1')!;
    const lastTrip = (re: RegExp): number => {
      const i = h.sent.map((c) => re.test(c)).lastIndexOf(true);
      expect(i, String(re)).toBeGreaterThan(-1);
      return h.trips[i]!;
    };
    const statOf = (f: string): RegExp => new RegExp(`^p=[^;]*/${f}; if \\[ -e`);
    const copyOf = (f: string): RegExp => new RegExp(`^p=[^;]*/${f}; if \\[ -L`);
    expect(lastTrip(copyOf('c'))).toBe(lastTrip(statOf('b')));
    expect(lastTrip(copyOf('d'))).toBe(lastTrip(statOf('c')));
  });

  it("a later play's probes go out while the play before it runs, and are used at their turn", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-probe-'));
    const pb = `- name: one
  hosts: h1
  tasks:
    - {name: root, file: {path: "{{d}}", state: directory}}
    - {name: a, copy: {content: "a\\n", dest: "{{d}}/a"}}
- name: two
  hosts: d1
  tasks:
    - {name: b, copy: {content: "b\\n", dest: "{{d}}/b"}}
    - {name: c, copy: {content: "c\\n", dest: "{{d}}/c"}}
`;
    await run(dir, pb, ['h1', 'd1']);
    const log: string[] = [];
    const r = await run(dir, pb, ['h1', 'd1'], log);
    expect(r.s.recap.d1).toMatchObject({ ok: 2, changed: 0, failed: 0 });
    // d1 was asked about b and c before play two started, and not again after.
    const second = log.indexOf('play two');
    expect(log.indexOf('d1 sent')).toBeGreaterThan(-1);
    expect(log.indexOf('d1 sent')).toBeLessThan(second);
    expect(log.slice(second).filter((l) => l === 'd1 sent')).toEqual([]);
    expect(r.hosts.get('d1')!.sent.filter((c) => c.startsWith('p='))).toHaveLength(2);
    expect(r.hosts.get('d1')!.roundTrips()).toBeLessThanOrEqual(1);
  });

  it("when a change elsewhere voids a later play's answers, its tasks are asked again together, not one at a time", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-probe-'));
    const pb = `- name: one
  hosts: h1
  tasks:
    - {name: root, file: {path: "{{d}}", state: directory}}
    - {name: always, command: /bin/true}
- name: two
  hosts: d1
  tasks:
    - {name: b, copy: {content: "b\\n", dest: "{{d}}/b"}}
    - {name: c, copy: {content: "c\\n", dest: "{{d}}/c"}}
    - {name: e, copy: {content: "e\\n", dest: "{{d}}/e"}}
    - {name: f, copy: {content: "f\\n", dest: "{{d}}/f"}}
`;
    await run(dir, pb, ['h1', 'd1']);
    const r = await run(dir, pb, ['h1', 'd1']);
    expect(r.s.recap.d1).toMatchObject({ ok: 4, changed: 0, failed: 0 });
    // d1's answers asked ahead are void (h1's command is a change), so all four are asked again
    const d1 = r.hosts.get('d1')!;
    expect(d1.sent.filter((c) => c.startsWith('p='))).toHaveLength(8);
    // ...in one round trip after the one that asked ahead, not in four
    expect(d1.roundTrips()).toBeLessThanOrEqual(2);
  });

  it("a later play's probe sent ahead is not trusted after a change delegated to its host", async () => {
    const dir = await withRoot(['h1', 'd1']);
    // d1's probe of `mine` goes out as soon as d1 is connected, while `shared` is absent; then h1's
    // play writes it on d1.
    const pb = `- name: one
  hosts: h1
  tasks:
    - name: theirs
      copy: {content: "one\\n", dest: "{{d}}/shared"}
      delegate_to: d1
- name: two
  hosts: d1
  tasks:
    - {name: mine, copy: {content: "one\\n", dest: "{{d}}/shared"}}
`;
    const log: string[] = [];
    const r = await run(dir, pb, ['h1', 'd1'], log);
    const of = (t: string, h: string): string | undefined =>
      r.s.results.find((x) => x.task === t && x.host === h)?.status;
    expect(of('theirs', 'h1')).toBe('changed');
    expect(of('mine', 'd1')).toBe('ok');
    // `mine` was probed ahead (so the test is about a stale probe), `theirs` at its turn, `mine` again at its own
    expect(log.indexOf('d1 sent')).toBeLessThan(log.indexOf('play two'));
    expect(r.hosts.get('d1')!.sent.filter((c) => c.startsWith('p=') && c.includes('/shared'))).toHaveLength(3);
  });

  it('commands that carry a sudo password are never sent ahead: one password attempt at a time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-probe-'));
    const pb = NOOP_PB.replace(
      '- hosts: all\n',
      '- hosts: all\n  become: true\n  vars: {ansible_become_password: pw}\n',
    );
    await run(dir, pb);
    const again = await run(dir, pb);
    expect(again.s.recap.h1).toMatchObject({ changed: 0, failed: 0 });
    expect(again.overlapping).toBe(0);
  });
});
