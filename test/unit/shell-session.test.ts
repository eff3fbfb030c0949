import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ShellSession, type ShellChannel } from '../../src/transport/shell-session.js';
import { spawnLocalShell } from './local-shell.js';

// A real local /bin/sh stands in for the remote one: the framing is the same bytes either way.
let opened = 0;
const localShell = async (): Promise<ShellChannel> => {
  opened++;
  return spawnLocalShell();
};

describe('ShellSession (one long-lived shell per host)', () => {
  let s: ShellSession;
  afterEach(() => s.close());

  it("returns each command's exit code, stdout and stderr separately, byte for byte", async () => {
    s = new ShellSession(localShell);
    const r = await s.run(`printf 'no newline'; printf 'e1\\n' >&2; exit 7`);
    expect(r).toMatchObject({ code: 7, stdout: 'no newline', stderr: 'e1\n', signal: null });
    const r2 = await s.run('echo second');
    expect(r2).toMatchObject({ code: 0, stdout: 'second\n', stderr: '' });
  });

  it('keeps exit, cd, traps and syntax errors inside the command', async () => {
    s = new ShellSession(localShell);
    opened = 0;
    await s.run('cd /tmp; trap "echo trapped" EXIT; exit 1');
    expect((await s.run('if then')).code).not.toBe(0);
    const r = await s.run('pwd');
    expect(r.stdout).not.toBe('/tmp\n');
    expect(r.code).toBe(0);
    expect(opened).toBe(1);
  });

  it('feeds text and binary stdin exactly', async () => {
    s = new ShellSession(localShell);
    expect((await s.run('cat', { stdin: 'a\nb\n' })).stdout).toBe('a\nb\n');
    expect((await s.run('cat', { stdin: 'no final newline' })).stdout).toBe('no final newline');
    const bin = Buffer.from([0, 255, 10, 13, 1]);
    expect((await s.run('od -An -tu1', { stdin: bin })).stdout.trim().split(/\s+/)).toEqual([
      '0',
      '255',
      '10',
      '13',
      '1',
    ]);
    // a line equal to a plausible terminator is still data
    expect((await s.run('wc -l', { stdin: 'EOF\nLVSRUN_EOF\n' })).stdout.trim()).toBe('2');
  });

  it('runs concurrent calls one after another, in order', async () => {
    s = new ShellSession(localShell);
    const rs = await Promise.all([1, 2, 3, 4].map((i) => s.run(`echo ${i}`)));
    expect(rs.map((r) => r.stdout)).toEqual(['1\n', '2\n', '3\n', '4\n']);
  });

  it('a timed-out command ends with signal TIMEOUT and the next command gets a fresh shell', async () => {
    s = new ShellSession(localShell);
    opened = 0;
    const r = await s.run('sleep 5', { timeoutMs: 150 });
    expect(r.signal).toBe('TIMEOUT');
    expect((await s.run('echo ok')).stdout).toBe('ok\n');
    expect(opened).toBe(2);
  });
});

describe('ShellSession pipelining (several commands, one round trip)', () => {
  let s: ShellSession;
  afterEach(() => s.close());

  // The shell's answers are held back until released: a session that waited for each answer
  // before writing the next command would write only one command while they are held.
  const heldShell = (): { open: () => Promise<ShellChannel>; writes: string[]; release: () => void } => {
    const writes: string[] = [];
    let held = true;
    const queued: Array<() => void> = [];
    const open = async (): Promise<ShellChannel> => {
      const c = await localShell();
      const gate =
        (on: (cb: (b: Buffer) => void) => void) =>
        (cb: (b: Buffer) => void): void =>
          on((b) => (held ? queued.push(() => cb(b)) : cb(b)));
      return {
        ...c,
        write: (d) => {
          writes.push(d);
          c.write(d);
        },
        onStdout: gate(c.onStdout),
        onStderr: gate(c.onStderr),
      };
    };
    const release = (): void => {
      held = false;
      for (const f of queued.splice(0)) f();
    };
    return { open, writes, release };
  };

  it('writes every command asked for before any answer arrives, and gives each its own answer', async () => {
    const h = heldShell();
    s = new ShellSession(h.open);
    const big = 'x'.repeat(200_000);
    const asked = [
      s.run(`printf 'one'; printf 'e1' >&2; exit 3`),
      s.run('cat', { stdin: `${big}\n` }),
      s.run('od -An -tu1', { stdin: Buffer.from([0, 1, 255]) }),
      s.run('echo four'),
    ];
    await vi.waitFor(() => expect(h.writes).toHaveLength(4), { timeout: 10_000 });
    h.release();
    const [a, b, c, d] = await Promise.all(asked);
    expect(a).toMatchObject({ code: 3, stdout: 'one', stderr: 'e1' });
    expect(b!.stdout).toBe(`${big}\n`);
    expect(c!.stdout.trim().split(/\s+/)).toEqual(['0', '1', '255']);
    expect(d).toMatchObject({ code: 0, stdout: 'four\n', stderr: '' });
  });

  it('a command that times out ends the commands queued behind it; the next one gets a new shell', async () => {
    // Closing kills the shell's whole process group, as sshd does when the channel closes.
    let groups = 0;
    s = new ShellSession(async () => {
      groups++;
      return spawnLocalShell({ group: true });
    });
    const slow = s.run('sleep 30', { timeoutMs: 300 });
    const behind = s.run('echo behind');
    expect((await slow).signal).toBe('TIMEOUT');
    expect((await behind).signal).toBe('SHELL_CLOSED');
    const r = await s.run('echo again');
    expect(r).toMatchObject({ code: 0, stdout: 'again\n' });
    expect(groups).toBe(2);
  });

  it('a marker-like line printed by a command does not end it early', async () => {
    s = new ShellSession(localShell);
    const r = await Promise.all([s.run(`printf '\\001fake:1:0\\n'; echo real`), s.run('echo next')]);
    expect(r[0].stdout).toBe('\x01fake:1:0\nreal\n');
    expect(r[1].stdout).toBe('next\n');
  });
});

describe("ShellSession.runSeq (a change's steps in one round trip)", () => {
  let s: ShellSession;
  afterEach(() => s.close());
  const dir = mkdtempSync(join(tmpdir(), 'lvsrun-seq-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const at = (n: string) => join(dir, n);

  it('stops at the first failure: the commands after it do not run and answer SKIPPED', async () => {
    s = new ShellSession(localShell);
    const before = s.roundTrips;
    const r = await s.runSeq([
      { cmd: `touch ${at('a1')}` },
      { cmd: 'echo out; echo err >&2; exit 3' },
      { cmd: `touch ${at('a3')}` },
      { cmd: `touch ${at('a4')}`, opts: { stdin: 'line\n' } },
    ]);
    expect(r.map((x) => [x.code, x.signal])).toEqual([
      [0, null],
      [3, null],
      [null, 'SKIPPED'],
      [null, 'SKIPPED'],
    ]);
    expect(r[1]).toMatchObject({ stdout: 'out\n', stderr: 'err\n' });
    expect([existsSync(at('a1')), existsSync(at('a3')), existsSync(at('a4'))]).toEqual([true, false, false]);
    // Written together: one wait for the four.
    expect(s.roundTrips - before).toBe(1);
    // The shell goes on: the next command is not guarded by that failure.
    expect((await s.run('echo next')).stdout).toBe('next\n');
  });

  it('runs every command when all succeed, feeding each its own stdin, text or binary', async () => {
    s = new ShellSession(localShell);
    const r = await s.runSeq([
      { cmd: 'cat', opts: { stdin: 'one\n' } },
      { cmd: 'od -An -tu1', opts: { stdin: Buffer.from([0, 255, 10]) } },
      { cmd: 'cat', opts: { stdin: 'no newline' } },
    ]);
    expect(r.map((x) => x.code)).toEqual([0, 0, 0]);
    expect(r[0]!.stdout).toBe('one\n');
    expect(r[1]!.stdout.trim().split(/\s+/)).toEqual(['0', '255', '10']);
    expect(r[2]!.stdout).toBe('no newline');
  });

  it('a command that may fail does not stop the next one', async () => {
    s = new ShellSession(localShell);
    const r = await s.runSeq([{ cmd: 'exit 1', mayFail: true }, { cmd: `touch ${at('m2')}` }]);
    expect(r.map((x) => x.code)).toEqual([1, 0]);
    expect(existsSync(at('m2'))).toBe(true);
  });

  it('once a command is skipped, the ones after it are skipped too, even after one that may fail', async () => {
    s = new ShellSession(localShell);
    const r = await s.runSeq([
      { cmd: 'exit 2' },
      { cmd: `touch ${at('k2')}`, mayFail: true },
      { cmd: `touch ${at('k3')}` },
    ]);
    expect(r.map((x) => x.signal)).toEqual([null, 'SKIPPED', 'SKIPPED']);
    expect([existsSync(at('k2')), existsSync(at('k3'))]).toEqual([false, false]);
  });

  it('a command aborted before it is written does not let the next one run on an older answer', async () => {
    s = new ShellSession(localShell);
    await s.run('true'); // the last status in the shell is 0
    const ctl = new AbortController();
    ctl.abort();
    const r = await s.runSeq([
      { cmd: `touch ${at('x1')}`, opts: { signal: ctl.signal } },
      { cmd: `touch ${at('x2')}` },
    ]);
    expect(r.map((x) => x.signal)).toEqual(['ABORT', 'SKIPPED']);
    expect([existsSync(at('x1')), existsSync(at('x2'))]).toEqual([false, false]);
  });

  it('is guarded by its own commands only, whatever else runs in the same shell around it', async () => {
    s = new ShellSession(localShell);
    const failing = s.run('exit 5');
    const seq = s.runSeq([{ cmd: 'true' }, { cmd: `touch ${at('g2')}` }]);
    const after = s.run('exit 6');
    const seq2 = s.runSeq([{ cmd: `touch ${at('g3')}` }]);
    expect((await failing).code).toBe(5);
    expect((await seq).map((x) => x.code)).toEqual([0, 0]);
    expect((await after).code).toBe(6);
    expect((await seq2)[0]!.code).toBe(0);
    expect([existsSync(at('g2')), existsSync(at('g3'))]).toEqual([true, true]);
  });

  it('refuses a NUL in any command before writing anything', async () => {
    s = new ShellSession(localShell);
    await expect(s.runSeq([{ cmd: `touch ${at('n1')}` }, { cmd: 'echo a\0b' }])).rejects.toThrow(/NUL/i);
    expect((await s.run('true')).code).toBe(0);
    expect(existsSync(at('n1'))).toBe(false);
  });
});
