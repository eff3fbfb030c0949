import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { moduleCtx } from '../../src/engine/module-run.js';
import { bytesToText, textToBytes } from '../../src/facts/byte-text.js';
import { copy } from '../../src/modules/copy.js';
import { lineinfile } from '../../src/modules/lineinfile.js';
import { sysctl } from '../../src/modules/sysctl.js';
import type { Plan, TaskModule } from '../../src/modules/types.js';
import { applyJournaled } from '../../src/rollback/apply.js';
import { Journal, readJournal } from '../../src/rollback/journal.js';
import { withoutUndo } from '../../src/rollback/outstanding.js';
import { restoreRun } from '../../src/rollback/restore.js';
import { TemplateEngine } from '../../src/template/render.js';
import { FakeTransport } from '../../src/transport/fake.js';
import type { ShellCmd } from '../../src/transport/shell.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';

/** Runs each command with the local /bin/sh, as the remote shell would (stdin passed through). */
class LocalTransport implements Transport {
  readonly host = 'local';
  async exec(cmd: ShellCmd, o: ExecOptions = {}): Promise<ExecResult> {
    const r = spawnSync('/bin/sh', ['-c', `( eval "$LVSRUN_CMD" )`], {
      input: o.stdin ?? '',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LVSRUN_CMD: cmd },
      maxBuffer: 64 << 20,
    });
    return {
      code: r.status,
      signal: null,
      stdout: r.stdout.toString('utf8'),
      stderr: r.stderr.toString('utf8'),
      durationMs: 0,
    };
  }
  async close(): Promise<void> {}
}

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const noBecome = { enabled: false, user: 'root' };

async function planOn<P, O>(mod: TaskModule<P, O>, args: unknown, baseDirs: string[] = []): Promise<Plan> {
  const ctx = moduleCtx(new LocalTransport(), { baseDirs });
  const p = mod.schema.parse(args);
  return mod.plan(p, await mod.check(ctx, p));
}

async function apply(plan: Plan, dir: string): Promise<void> {
  const j = new Journal(join(dir, 'run'));
  await applyJournaled(j, new LocalTransport(), 't', plan, noBecome, () => undefined);
  await j.close();
}

describe('file contents are handled byte for byte, or refused before any change', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvsrun-bytes-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const bigFile = (): string => {
    const f = join(dir, 'big.conf');
    const line = 'net.core.somaxconn=4096 # padding padding padding padding padding padding\n';
    writeFileSync(f, line.repeat(Math.ceil(4.2e6 / line.length)));
    return f;
  };

  it('lineinfile on a 4.2 MB file is refused, with the size named, and the file is left alone', async () => {
    const f = bigFile();
    const before = sha(f);
    const plan = await planOn(lineinfile, { path: f, regexp: '^vm\\.swappiness=', line: 'vm.swappiness=10' });
    expect(plan.fail).toMatch(/big\.conf is \d{7} bytes, over the 4 MiB .*nothing was changed/);
    expect(plan.steps).toEqual([]);
    expect(sha(f)).toBe(before);
  });

  it('sysctl with a 4.2 MB sysctl_file is refused; the live value is not touched either', async () => {
    const f = bigFile();
    const plan = await planOn(sysctl, { name: 'kernel.ostype', value: 'Linux', sysctl_file: f });
    expect(plan.fail).toMatch(/over the 4 MiB/);
    expect(plan.steps).toEqual([]);
  });

  it('sysctl refuses a sysctl_file that is a symbolic link, so the link stays a link', async () => {
    const real = join(dir, 'real.conf');
    writeFileSync(real, 'a=1\n');
    const link = join(dir, '99-lvs.conf');
    symlinkSync(real, link);
    const plan = await planOn(sysctl, { name: 'kernel.ostype', value: 'Linux', sysctl_file: link });
    expect(plan.fail).toMatch(/is a symbolic link to .*real\.conf/);
    expect(plan.steps).toEqual([]);
    expect([lstatSync(link).isSymbolicLink(), readlinkSync(link)]).toEqual([true, real]);
  });

  it('a sysctl name starting with - is refused, and every user value follows --', () => {
    for (const name of ['-a', '--system', '-p/etc/x'])
      expect(sysctl.schema.safeParse({ name, value: 1 }).success).toBe(false);
    const p = sysctl.schema.parse({ name: 'net.ipv4.ip_forward', value: '-1', persist: false });
    const plan = sysctl.plan(p, { live: '0', file: { exists: false } });
    expect(plan.steps.map((s) => s.cmd)).toEqual(['sysctl -q -w -- net.ipv4.ip_forward=-1']);
    expect(plan.undo.map((s) => s.cmd)).toEqual(['sysctl -q -w -- net.ipv4.ip_forward=0']);
  });

  it('copy src: a 300-byte binary arrives identical', async () => {
    const bin = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 128) % 256));
    writeFileSync(join(dir, 'blob.bin'), bin);
    const dest = join(dir, 'out.bin');
    writeFileSync(dest, 'old\n');
    const plan = await planOn(copy, { src: 'blob.bin', dest }, [dir]);
    expect(plan.action).toBe('update');
    await apply(plan, dir);
    expect(readFileSync(dest).equals(bin)).toBe(true);
    expect((await planOn(copy, { src: 'blob.bin', dest }, [dir])).action).toBe('noop');
    for (const u of plan.undo) expect((await new LocalTransport().exec(u.cmd, { stdin: u.stdin })).code).toBe(0);
    expect(readFileSync(dest, 'utf8')).toBe('old\n');
  });

  it('lineinfile on a file with non-UTF-8 bytes keeps them, and its undo puts back the exact bytes', async () => {
    const f = join(dir, 'latin1.conf');
    const orig = Buffer.concat([
      Buffer.from('a=1\n# caf'),
      Buffer.from([0xe9, 0xff, 0xfe, 0x80]),
      Buffer.from('\nb=2\n'),
    ]);
    writeFileSync(f, orig);
    const plan = await planOn(lineinfile, { path: f, regexp: '^b=', line: 'b=3 é' });
    await apply(plan, dir);
    const want = Buffer.concat([orig.subarray(0, orig.length - 4), Buffer.from('b=3 é\n')]);
    expect(readFileSync(f).equals(want)).toBe(true);
    for (const u of plan.undo) expect((await new LocalTransport().exec(u.cmd, { stdin: u.stdin })).code).toBe(0);
    expect(readFileSync(f).equals(orig)).toBe(true);
  });

  it('the lossless decoding round-trips any bytes and matches UTF-8 on valid text', () => {
    for (let n = 0; n < 300; n++) {
      const b = Buffer.from(Array.from({ length: n % 40 }, (_, i) => (i * 131 + n * 17) % 256));
      expect(textToBytes(bytesToText(b)).equals(b)).toBe(true);
    }
    expect(bytesToText(Buffer.from('héllo 😀\n'))).toBe('héllo 😀\n');
    expect(textToBytes('😀').equals(Buffer.from('😀'))).toBe(true);
  });
});

describe('a rollback never reports restored for what it did not restore', () => {
  it('a change without an undo is journaled as such, and lvsrun rollback lists it as not restored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-rb-'));
    const j = new Journal(dir);
    const t = new FakeTransport('lb1').on(/.*/, {});
    const step = (cmd: string) => ({ kind: 'exec' as const, cmd: cmd as ShellCmd });
    await applyJournaled(
      j,
      t,
      'set x',
      { action: 'update', summary: 's', steps: [step('x')], undo: [step('undo-x')] },
      noBecome,
      () => undefined,
    );
    await applyJournaled(
      j,
      t,
      'write big',
      { action: 'update', summary: 's', steps: [step('y')], undo: [] },
      noBecome,
      () => undefined,
    );
    await applyJournaled(
      j,
      t,
      'only on lb2',
      { action: 'delete', summary: 's', steps: [step('z')], undo: [] },
      noBecome,
      () => undefined,
    );
    await j.close();
    const recs = readJournal(join(dir, 'journal.jsonl'));
    expect(Object.fromEntries(withoutUndo(recs))).toEqual({ lb1: ['write big', 'only on lb2'] });
    const seen: string[] = [];
    const res = await restoreRun({
      runDir: dir,
      templates: new TemplateEngine(),
      extraVars: {},
      lock: { operator: 'op', breakLock: false },
      inv: {
        sources: [],
        groups: new Map(),
        hosts: new Map([['lb1', { name: 'lb1', vars: {}, origins: {}, groups: [] }]]),
      },
      connect: async () => new FakeTransport('lb1').on(/flock/, { stdout: 'LOCKED\n' }).on(/.*/, {}),
      onHost: (r) => seen.push(`${r.host} ${r.changes} ${(r.noUndo ?? []).join('|')}`),
    });
    expect(seen).toEqual(['lb1 1 write big|only on lb2']);
    expect(res[0]).toMatchObject({ ok: true, changes: 1, noUndo: ['write big', 'only on lb2'] });
    rmSync(dir, { recursive: true, force: true });
  });
});
