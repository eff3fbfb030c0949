import { randomBytes } from 'node:crypto';
import { refuseNul } from './become.js';
import { quote } from './shell.js';
import type { ExecResult } from './types.js';

/** The byte pipe of one long-lived remote `/bin/sh` (an SSH exec channel, or a local child in tests). */
export interface ShellChannel {
  write(data: string): void;
  onStdout(cb: (b: Buffer) => void): void;
  onStderr(cb: (b: Buffer) => void): void;
  onClose(cb: () => void): void;
  close(): void;
}

export interface RunOpts {
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs commands one after another in one remote shell, so a command costs one round trip and a
 * subshell fork instead of a channel open, an sshd session fork and a login-shell start.
 * Each command runs in `( eval 'CMD' )`: its exit, traps, cd and syntax errors stay inside the
 * subshell. Completion is framed by a per-session random marker on stdout (with the exit code)
 * and on stderr, so output is passed through byte for byte.
 */
export class ShellSession {
  private chan?: ShellChannel;
  private tail: Promise<unknown> = Promise.resolve();
  private seq = 0;
  /** Where the channel's bytes go: the command in flight. */
  private sink?: { out: (b: Buffer) => void; err: (b: Buffer) => void; closed: () => void };
  private readonly nonce = randomBytes(8).toString('hex');

  constructor(private readonly open: () => Promise<ShellChannel>) {}

  run(cmd: string, o: RunOpts = {}): Promise<ExecResult> {
    // Never written to the shared shell: the shell would drop the byte and run another command.
    try {
      refuseNul(cmd);
    } catch (e) {
      return Promise.reject(e);
    }
    const next = this.tail.then(() => this.runNow(cmd, o));
    this.tail = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.chan?.close();
    this.chan = undefined;
  }

  /** The text written to the shell for one command (exported for tests). */
  script(cmd: string, seq: number, stdin?: string | Buffer): string {
    const end = `LVSRUN_${this.nonce}_EOF`;
    const tail = `printf '\\001${this.nonce}:${seq}:%d\\n' $?; printf '\\001${this.nonce}:${seq}\\n' >&2\n`;
    // One logical line (newlines inside the quotes are not line ends): a here-document starts after it.
    const body = `( eval ${quote(cmd)} )`;
    if (stdin === undefined) return `${body} </dev/null\n${tail}`;
    const text = Buffer.isBuffer(stdin) ? stdin.toString('utf8') : stdin;
    const plain =
      (!Buffer.isBuffer(stdin) || Buffer.from(text, 'utf8').equals(stdin)) &&
      text.endsWith('\n') &&
      !text.includes('\0') &&
      !text.includes('\r') &&
      !text.split('\n').includes(end);
    if (plain) return `${body} <<'${end}'\n${text}${end}\n${tail}`;
    // Anything else (binary, no final newline) goes through base64 so the bytes arrive exactly.
    const b64 = Buffer.from(stdin)
      .toString('base64')
      .replace(/.{1,76}/g, '$&\n');
    return `base64 -d <<'${end}' | ${body}\n${b64}${end}\n${tail}`;
  }

  private async channel(): Promise<ShellChannel> {
    if (this.chan) return this.chan;
    const c = await this.open();
    this.chan = c;
    c.onStdout((b) => this.sink?.out(b));
    c.onStderr((b) => this.sink?.err(b));
    c.onClose(() => {
      if (this.chan === c) this.chan = undefined;
      this.sink?.closed();
    });
    return c;
  }

  private async runNow(cmd: string, o: RunOpts): Promise<ExecResult> {
    const started = performance.now();
    const seq = ++this.seq;
    const c = await this.channel();
    const outMark = Buffer.from(`\x01${this.nonce}:${seq}:`);
    const errMark = Buffer.from(`\x01${this.nonce}:${seq}\n`);
    return new Promise<ExecResult>((resolve) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let code: number | null | undefined;
      let errDone = false;
      let done = false;
      const finish = (r: Partial<ExecResult>): void => {
        if (done) return;
        done = true;
        this.sink = undefined;
        if (timer) clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        const so = Buffer.concat(out);
        const se = Buffer.concat(err);
        resolve({
          code: null,
          signal: null,
          stdout: so.toString('utf8'),
          stderr: se.toString('utf8'),
          durationMs: performance.now() - started,
          ...r,
        });
      };
      const check = (): void => {
        if (done) return;
        const so = Buffer.concat(out);
        if (code === undefined) {
          const at = so.lastIndexOf(outMark);
          const nl = at >= 0 ? so.indexOf(0x0a, at) : -1;
          if (nl >= 0) {
            code = Number(so.subarray(at + outMark.length, nl).toString());
            out.length = 0;
            out.push(so.subarray(0, at));
          }
        }
        if (!errDone) {
          const se = Buffer.concat(err);
          const at = se.lastIndexOf(errMark);
          if (at >= 0) {
            errDone = true;
            err.length = 0;
            err.push(se.subarray(0, at));
          }
        }
        if (code !== undefined && errDone) finish({ code });
      };
      // A command that outlives its time or is aborted takes the shell down with it; the next command opens a new one.
      const kill = (signal: string): void => {
        if (this.chan === c) this.chan = undefined;
        c.close();
        finish({ signal });
      };
      const onAbort = (): void => kill('ABORT');
      const timer = o.timeoutMs ? setTimeout(() => kill('TIMEOUT'), o.timeoutMs) : undefined;
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.sink = {
        out: (b) => {
          out.push(b);
          check();
        },
        err: (b) => {
          err.push(b);
          check();
        },
        closed: () =>
          finish({
            signal: 'SHELL_CLOSED',
            stderr: `${Buffer.concat(err).toString('utf8')}remote shell closed before the command finished\n`,
          }),
      };
      c.write(this.script(cmd, seq, o.stdin));
    });
  }
}
