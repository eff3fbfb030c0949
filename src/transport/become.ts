import { LvsrunError } from '../errors.js';
import { joinCmds, raw, sh, type ShellCmd } from './shell.js';
import type { ExecOptions } from './types.js';

/** Whether and as whom a task's commands run through sudo; the password only ever goes on stdin. */
export interface BecomeSpec {
  enabled: boolean;
  user: string;
  password?: string;
}

/** The exec options that run a command as `become` says, with `extra` (stdin, a timeout, a signal). */
export function execOpts(become: BecomeSpec, extra: ExecOptions = {}): ExecOptions {
  return {
    ...extra,
    ...(become.enabled
      ? { become: { user: become.user, ...(become.password !== undefined ? { password: become.password } : {}) } }
      : {}),
  };
}

/**
 * A shell command is a C string on the host: a NUL byte cannot be in it. Sent anyway, sshd drops
 * the whole connection (an exec request with a NUL is a protocol error) and a shell reading a
 * script silently loses the byte. Refused here, the task fails and the connection stays up.
 */
export function refuseNul(cmd: string, host?: string): void {
  if (!cmd.includes('\0')) return;
  const who = host ? `${host}: ` : '';
  throw new LvsrunError('E_COMMAND', `${who}the command contains a NUL byte, which no shell command can hold`, {
    hint: 'a NUL comes from a variable or a "\\0" escape in double quotes: remove it (file content may hold any byte)',
  });
}

/**
 * Wrap a command for become. `sudo -S` reads the password from stdin (never argv);
 * `-p ''` keeps the prompt out of stderr. Root to root needs no sudo at all.
 */
export function wrapBecome(
  cmd: ShellCmd,
  loginUser: string,
  opts: ExecOptions,
): { cmd: ShellCmd; stdin?: string | Buffer } {
  const b = opts.become;
  if (!b || b.user === loginUser) return { cmd, stdin: opts.stdin };
  // sudo speaks in the C locale, so that sudoRefusal can read its refusals on any host (a German one
  // says "Ein Passwort ist notwendig"); the command itself gets the login's LC_ALL back (sudo keeps
  // LC_ALL, so the C locale would reach it), passed as an argument and shifted away.
  const inner = joinCmds(
    [raw('if [ -n "$1" ]; then LC_ALL=$1; export LC_ALL; else unset LC_ALL; fi; shift;'), cmd],
    ' ',
  );
  // Without a password sudo must not wait for one (-n); with one it reads it from stdin, silently.
  const how = raw(b.password === undefined ? '-n' : "-S -p ''");
  const wrapped = joinCmds(
    [raw('LC_ALL=C sudo'), how, sh`-H -u ${b.user} -- /bin/sh -c ${inner}`, raw('lvsrun-become "${LC_ALL-}"')],
    ' ',
  );
  if (b.password === undefined) return { cmd: wrapped, stdin: opts.stdin };
  const pw = Buffer.from(`${b.password}\n`);
  const rest = opts.stdin === undefined ? Buffer.alloc(0) : Buffer.from(opts.stdin);
  return { cmd: wrapped, stdin: Buffer.concat([pw, rest]) };
}

/**
 * sudo's own refusal, told apart from the command's failure: sudo exits 1 before running anything
 * and says why on stderr. Without this the module reports "cannot read the state of FILE".
 */
export function sudoRefusal(
  r: { code: number | null; stderr: string },
  host: string,
  loginUser: string,
  becomeUser: string,
): LvsrunError | undefined {
  if (r.code !== 1) return undefined;
  const who = `${host}: sudo as ${loginUser} (become ${becomeUser})`;
  if (/incorrect password attempt|no password was provided|Sorry, try again/.test(r.stderr)) {
    return new LvsrunError('E_AUTH', `${who} refused the become password (ansible_become_password)`, {
      hint: 'ansible_become_password is wrong for this host (check the vault file or host_vars that set it)',
    });
  }
  if (/^sudo: (a password is required|a terminal is required)/m.test(r.stderr)) {
    return new LvsrunError('E_AUTH', `${who} needs a password (ansible_become_password)`, {
      hint: 'set ansible_become_password (in a vault file), or allow NOPASSWD in sudoers',
    });
  }
  if (/is not in the sudoers file|is not allowed to (run sudo|execute)/.test(r.stderr)) {
    return new LvsrunError('E_AUTH', `${who} is not allowed`, {
      hint: `let ${loginUser} run commands as ${becomeUser} in sudoers, or log in as another ansible_user`,
    });
  }
  return undefined;
}
