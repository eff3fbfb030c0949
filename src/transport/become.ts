import { sh, type ShellCmd } from './shell.js';
import type { ExecOptions } from './types.js';

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

