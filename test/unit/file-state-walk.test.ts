import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStateCmd, parseFileState } from '../../src/facts/file.js';
import { sh } from '../../src/transport/shell.js';

// The top-most missing folder above an absent path is what an undo removes: the walk must find
// exactly what dirname(1) finds, for any name, without a process per level.
const root = mkdtempSync(join(tmpdir(), 'lvsrun-walk-'));
mkdirSync(join(root, 'has', 'sub'), { recursive: true });
mkdirSync(join(root, '-dash'), { recursive: true });
symlinkSync('nowhere', join(root, 'dangling'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The walk as dirname(1) does it, one process per level. */
const byDirname = (p: string) =>
  sh`a=${p}; while [ "$a" != / ] && [ ! -e "$(dirname -- "$a")" ]; do a=$(dirname -- "$a"); done; printf '%s\n' "$a"`;

function run(shell: string, cmd: string): { out: string } {
  const r = spawnSync(shell, ['-c', cmd], { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return { out: r.stdout };
}

const PATHS = [
  'missing',
  'has/new',
  'has/a/b/c',
  'has/sub/x/y/',
  'has//a///b',
  '-dash/new/deeper',
  '-n/x',
  'q\'uote/"dq"/$(touch pwned)/`x`/{{b}}',
  'new\nline/and\ttab/x',
  '__proto__/constructor/toString',
  'dangling/below',
  'a/'.repeat(300) + 'end',
  './new/x',
  '../' + root.split('/').pop() + '/has/zz/q',
];

const norm = (p: string) => p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');

describe('file state: the top-most missing folder', () => {
  for (const shell of ['/bin/sh', 'bash']) {
    for (const rel of PATHS) {
      for (const abs of [false, true]) {
        const p = abs ? `${root}/${rel}` : rel;
        it(`${shell}: ${JSON.stringify(p).slice(0, 60)}${abs ? ' (absolute)' : ''}`, () => {
          const want = run(shell, byDirname(p)).out.replace(/\n$/, '');
          const got = run(shell, fileStateCmd(p)).out;
          expect(got.split('\n')[0]).toBe('absent');
          const st = parseFileState({ code: 0, signal: null, stdout: got, stderr: '', durationMs: 0 }, p);
          expect(st.exists).toBe(false);
          // The same folder as dirname(1) gives, up to repeated or trailing slashes.
          expect(norm(st.missingFrom ?? p)).toBe(norm(want));
        });
      }
    }
  }

  it('nothing named in the path runs', () => {
    run('/bin/sh', fileStateCmd('q\'uote/"dq"/$(touch pwned)/`touch pwned2`/x'));
    expect(spawnSync('ls', [root], { encoding: 'utf8' }).stdout).not.toMatch(/pwned/);
  });

  it('a path whose parent exists reports no missing folder, with or without a trailing slash', () => {
    for (const p of [`${root}/has/new`, `${root}/has/new/`, `${root}//has//new//`]) {
      const st = parseFileState(
        { code: 0, signal: null, stdout: run('/bin/sh', fileStateCmd(p)).out, stderr: '', durationMs: 0 },
        p,
      );
      expect(st).toEqual({ exists: false });
    }
  });

  it('runs no dirname process (a process per level made a cold run slow)', () => {
    const bin = join(root, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'dirname'), `#!/bin/sh\necho called >> ${root}/dirname.log\nexec /usr/bin/dirname "$@"\n`, {
      mode: 0o755,
    });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    // The recorder works: the old walk calls it.
    spawnSync('/bin/sh', ['-c', byDirname(`${root}/${'n/'.repeat(5)}x`)], { cwd: root, env });
    expect(existsSync(join(root, 'dirname.log'))).toBe(true);
    rmSync(join(root, 'dirname.log'));
    const r = spawnSync('/bin/sh', ['-c', fileStateCmd(`${root}/${'n/'.repeat(20)}x`)], { cwd: root, env });
    expect(r.status).toBe(0);
    expect(existsSync(join(root, 'dirname.log'))).toBe(false);
  });
});

describe('a user who may not search the working folder', () => {
  // As a become user in a login home it cannot enter: `.` is not visible. The walk must end, and
  // never name `.` or `..` as a folder to make (an undo removes what it names).
  const locked = mkdtempSync(join(tmpdir(), 'lvsrun-walk-locked-'));
  afterAll(() => rmSync(locked, { recursive: true, force: true }));
  for (const p of ['a/b/c', './a/b', 'x', '../q/x']) {
    it(p, () => {
      const r = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', '-c', fileStateCmd(p)],
        { cwd: locked, encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.error).toBeUndefined();
      expect(r.status, r.stderr).toBe(0);
      const st = parseFileState({ code: 0, signal: null, stdout: r.stdout, stderr: '', durationMs: 0 }, p);
      expect(st.exists).toBe(false);
      expect(['.', '..', './.', '']).not.toContain(st.missingFrom ?? 'none');
    });
  }
});
