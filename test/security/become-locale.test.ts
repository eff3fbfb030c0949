import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sudoRefusal, wrapBecome } from '../../src/transport/become.js';
import { raw } from '../../src/transport/shell.js';

// sudo's refusals are read from its stderr. On a host whose login sets a German locale, sudo says
// "Ein Passwort ist notwendig" / "ist nicht in der sudoers-Datei": it must speak C for lvsrun, and
// the command it runs must still get the login's own locale.
const root = process.getuid?.() === 0;
const haveSudo = spawnSync('/bin/sh', ['-c', 'command -v sudo && command -v su'], { encoding: 'utf8' }).status === 0;
const GERMAN = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANGUAGE: 'de', LC_ALL: 'C.UTF-8' };

/** Run a wrapped command as `login` (root, or nobody through su), with `env`. */
function asLogin(login: string, cmd: string, stdin: string | Buffer | undefined, env: NodeJS.ProcessEnv) {
  const argv = login === 'root' ? ['/bin/sh', ['-c', cmd]] : ['su', ['-s', '/bin/sh', login, '-c', cmd]];
  const r = spawnSync(argv[0] as string, argv[1] as string[], { env, input: stdin ?? '', encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe.skipIf(!root || !haveSudo)('become under a German locale', () => {
  it('the locale translates sudo here (or this test proves nothing)', () => {
    const r = asLogin('nobody', 'sudo -n true', undefined, GERMAN);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/password is required|not in the sudoers|not allowed/);
  });

  it('a refusal is still recognised: a login sudoers does not know, with and without a password', () => {
    for (const password of [undefined, 'wrong-password']) {
      const w = wrapBecome(raw('true'), 'nobody', { become: { user: 'root', ...(password ? { password } : {}) } });
      const r = asLogin('nobody', w.cmd, w.stdin, GERMAN);
      const e = sudoRefusal(r, 'h1', 'nobody', 'root');
      expect(e?.code, r.stderr).toBe('E_AUTH');
    }
  });

  it('the command runs with the login’s LC_ALL (or none), and no argument of lvsrun’s', () => {
    const show = 'printf "%s|%s|%s\\n" "${LC_ALL-unset}" "$#" "$(id -un)"';
    const w = wrapBecome(raw(show), 'root', { become: { user: 'nobody' } });
    expect(asLogin('root', w.cmd, w.stdin, GERMAN).stdout).toBe('C.UTF-8|0|nobody\n');
    const { LC_ALL: _drop, ...noLcAll } = GERMAN;
    expect(asLogin('root', w.cmd, w.stdin, noLcAll).stdout).toBe('unset|0|nobody\n');
  });
});
