import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { attrSteps, putFile, restorePath } from '../../src/modules/file-steps.js';
import type { Step } from '../../src/modules/types.js';
import { ShellSession } from '../../src/transport/shell-session.js';
import { HOST_SHELLS, runStep } from './step-shell.js';

/*
 * A cold converge spends its host time starting processes, and a write is the commonest step.
 * Every command a write may run is reached through a PATH of recorders that log their name and
 * run the real one; nothing else is on that PATH, so an unlisted command fails the write.
 */
const COMMANDS = ['mktemp', 'stat', 'id', 'ls', 'base64', 'chown', 'chmod', 'mv', 'rm', 'rmdir', 'cp', 'date', 'ln'];
const root = mkdtempSync(join(tmpdir(), 'lvsrun-procs-'));
const bin = join(root, 'bin');
const log = join(root, 'calls.log');
const dir = join(root, 'dest');
afterAll(() => rmSync(root, { recursive: true, force: true }));

mkdirSync(bin);
for (const c of COMMANDS) {
  const real = spawnSync('/bin/sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim();
  if (!real.startsWith('/')) throw new Error(`${c} not found on this machine`);
  writeFileSync(join(bin, c), `#!/bin/sh\nprintf '%s\\n' ${c} >> '${log}'\nexec ${real} "$@"\n`, { mode: 0o755 });
}
const shells = HOST_SHELLS.map((s) =>
  spawnSync('/bin/sh', ['-c', `command -v ${s}`], { encoding: 'utf8' }).stdout.trim(),
);

/** The commands a step started on the host, in order (the step must succeed). */
async function calls(shell: string, step: Step): Promise<string[]> {
  rmSync(log, { force: true });
  const r = await runStep(shell, step, { env: { PATH: bin }, cwd: root });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const out = spawnSync('cat', [log], { encoding: 'utf8' }).stdout;
  return out === '' ? [] : out.trimEnd().split('\n');
}

const leftovers = (): string[] => readdirSync(dir).filter((n) => n.startsWith('.lvsrun.'));

describe.each(shells)('process starts of one file write (%s as the host shell)', (shell) => {
  beforeEach(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  });

  it('a new file: mktemp, one stat, base64, chmod, mv, rmdir', async () => {
    const dest = join(dir, 'new');
    expect(await calls(shell, putFile(dest, 'hello\n'))).toEqual(['mktemp', 'stat', 'base64', 'chmod', 'mv', 'rmdir']);
    expect(readFileSync(dest, 'utf8')).toBe('hello\n');
    expect((statSync(dest).mode & 0o7777).toString(8)).toBe('644');
    expect(leftovers()).toEqual([]);
  });

  it('binary, empty or large content costs no more (no second decoding of stdin)', async () => {
    const big = Buffer.alloc(300_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 256;
    for (const [i, bytes] of [Buffer.from([0, 0xff, 10, 13, 0x80]), Buffer.alloc(0), big].entries()) {
      const dest = join(dir, `bin${i}`);
      expect(await calls(shell, putFile(dest, bytes))).toEqual(['mktemp', 'stat', 'base64', 'chmod', 'mv', 'rmdir']);
      expect(readFileSync(dest).equals(bytes)).toBe(true);
    }
  });

  it('a file replaced keeps its mode; its owner is already ours: no chown', async () => {
    const dest = join(dir, 'old');
    writeFileSync(dest, 'old\n');
    chmodSync(dest, 0o640);
    expect(await calls(shell, putFile(dest, 'new\n'))).toEqual(['mktemp', 'stat', 'base64', 'chmod', 'mv', 'rmdir']);
    const s = statSync(dest);
    expect([readFileSync(dest, 'utf8'), (s.mode & 0o7777).toString(8)]).toEqual(['new\n', '640']);
    expect([s.uid, s.gid]).toEqual([process.getuid?.(), process.getgid?.()]);
    expect(leftovers()).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'a file replaced keeps another owner, or only another group, through chown',
    async () => {
      for (const [uid, gid] of [
        [65534, 65534],
        [0, 65534],
        [65534, 0],
      ] as const) {
        const dest = join(dir, `old-${uid}-${gid}`);
        writeFileSync(dest, 'old\n', { mode: 0o640 });
        chownSync(dest, uid, gid);
        expect(await calls(shell, putFile(dest, 'new\n'))).toEqual([
          'mktemp',
          'stat',
          'base64',
          'chown',
          'chmod',
          'mv',
          'rmdir',
        ]);
        const s = statSync(dest);
        expect([s.uid, s.gid, (s.mode & 0o7777).toString(8)]).toEqual([uid, gid, '640']);
      }
      expect(leftovers()).toEqual([]);
    },
  );

  it('owner and mode given, validated, backed up', async () => {
    const dest = join(dir, 'conf');
    writeFileSync(dest, 'old\n');
    const uid = String(process.getuid?.() ?? 0);
    const step = putFile(dest, 'new\n', { owner: uid, mode: '0600', validate: 'test -s %s', backup: true });
    expect(await calls(shell, step)).toEqual([
      'mktemp',
      'stat',
      'base64',
      'chown',
      'chmod',
      'cp',
      'date',
      'mv',
      'mv',
      'rmdir',
    ]);
    expect((statSync(dest).mode & 0o7777).toString(8)).toBe('600');
    expect(readdirSync(dir).filter((n) => n.endsWith('.bak'))).toHaveLength(1);
    expect(leftovers()).toEqual([]);
  });

  it('a link put back: mktemp, one stat, ln, mv, rmdir', async () => {
    const dest = join(dir, 'link');
    const [step] = restorePath(dest, { exists: true, type: 'link', linkTarget: 'somewhere' });
    expect(await calls(shell, step!)).toEqual(['mktemp', 'stat', 'ln', 'mv', 'rmdir']);
    expect(readlinkSync(dest)).toBe('somewhere');
    expect(leftovers()).toEqual([]);
  });

  it("a folder's mode changed: one stat names the folder entered and the path, then chmod", async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub, { mode: 0o700 });
    const { steps } = attrSteps(sub, { exists: true, type: 'directory', mode: '0700' }, '0755');
    expect(await calls(shell, steps[0]!)).toEqual(['stat', 'chmod']);
    expect((statSync(sub).mode & 0o7777).toString(8)).toBe('755');
  });

  it("a file's mode changed on its own: through a hard link, removed after", async () => {
    const dest = join(dir, 'attr');
    writeFileSync(dest, 'x\n', { mode: 0o600 });
    const { steps } = attrSteps(dest, { exists: true, type: 'file', mode: '0600' }, '0644');
    expect(await calls(shell, steps[0]!)).toEqual(['mktemp', 'stat', 'ln', 'chmod', 'rm', 'rmdir']);
    expect([(lstatSync(dest).mode & 0o7777).toString(8), lstatSync(dest).nlink]).toEqual(['644', 1]);
    expect(leftovers()).toEqual([]);
  });
});

/*
 * The same, counted by the kernel: strace records every process made (clone, fork, vfork) and every
 * program started (execve that succeeded) while the shell runs the text the shell session writes
 * for the step. Forks without a program are the shell's own: bash may fork twice for one command
 * where dash forks once, so a write may fork at most once more than it starts programs (the
 * session's subshell).
 */
const straceWorks = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true']).status === 0;

function kernelCount(shell: string, step: Step): { programs: number; forks: number } {
  const out = join(root, 'strace.out');
  const script = new ShellSession(() => Promise.reject(new Error('not opened'))).script(step.cmd, 1, step.stdin);
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve,clone,clone3,fork,vfork', '-o', out, shell], {
    input: script,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    encoding: 'utf8',
  });
  expect(r.stdout).toMatch(/:1:0\n$/);
  const lines = readFileSync(out, 'utf8').split('\n');
  const done = (l: string, call: RegExp): boolean => call.test(l) && !l.includes('<unfinished') && / = \d+$/.test(l);
  return {
    // The shell's own execve is the first line.
    programs: lines.filter((l) => done(l, /\bexecve\(|<\.\.\. execve resumed>/) && / = 0$/.test(l)).length - 1,
    forks: lines.filter((l) => done(l, /\b(clone3?|v?fork)\(|<\.\.\. (clone3?|v?fork) resumed>/)).length,
  };
}

describe.skipIf(!straceWorks).each(shells)('processes of one file write, counted by strace (%s)', (shell) => {
  beforeEach(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  });

  it('a new file starts 6 programs and makes at most 7 processes', () => {
    const n = kernelCount(shell, putFile(join(dir, 'new'), Buffer.from([1, 2, 3, 0])));
    expect(n.programs).toBe(6);
    expect(n.forks).toBeLessThanOrEqual(7);
    expect(readFileSync(join(dir, 'new'))).toEqual(Buffer.from([1, 2, 3, 0]));
  });

  it('a file replaced with owner, mode and validation: 8 programs (the validation is one), at most 9 processes', () => {
    const dest = join(dir, 'conf');
    writeFileSync(dest, 'old\n');
    const uid = String(process.getuid?.() ?? 0);
    const n = kernelCount(shell, putFile(dest, 'new\n', { owner: uid, mode: '0640', validate: 'test -s %s' }));
    expect(n.programs).toBe(8);
    expect(n.forks).toBeLessThanOrEqual(9);
    expect(readFileSync(dest, 'utf8')).toBe('new\n');
  });
});
