import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ShellSession, type ShellChannel } from '../../src/transport/shell-session.js';

// A real local /bin/sh stands in for the remote one: the framing is the same bytes either way.
let opened = 0;
const localShell = async (): Promise<ShellChannel> => {
  opened++;
  const p = spawn('/bin/sh', [], { stdio: 'pipe' });
  return {
    write: (d) => {
      p.stdin.write(d);
    },
    onStdout: (cb) => {
      p.stdout.on('data', cb);
    },
    onStderr: (cb) => {
      p.stderr.on('data', cb);
    },
    onClose: (cb) => {
      p.on('close', cb);
    },
    close: () => {
      p.kill();
    },
  };
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
