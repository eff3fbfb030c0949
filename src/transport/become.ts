import { LvsrunError } from '../errors.js';
import { sh, type ShellCmd } from './shell.js';
import type { ExecOptions } from './types.js';

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
export function wrapBecome(cmd: ShellCmd, loginUser: string, opts: ExecOptions): { cmd: ShellCmd; stdin?: string | Buffer } {
  const b = opts.become;
  if (!b || (b.user === loginUser)) return { cmd, stdin: opts.stdin };
  const wrapped = sh`sudo -S -p '' -H -u ${b.user} -- /bin/sh -c ${cmd}`;
  if (b.password === undefined) return { cmd: sh`sudo -n -H -u ${b.user} -- /bin/sh -c ${cmd}`, stdin: opts.stdin };
  const pw = Buffer.from(`${b.password}\n`);
  const rest = opts.stdin === undefined ? Buffer.alloc(0) : Buffer.from(opts.stdin);
  return { cmd: wrapped, stdin: Buffer.concat([pw, rest]) };
}

