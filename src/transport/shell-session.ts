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

/** How a command of a sequence depends on the one before it (see ShellSession.script). */
type Guard = 'none' | 'ok' | 'ran';

const guardAfter = (prev: SeqItem): Guard => (prev.mayFail ? 'ran' : 'ok');

/** One command of a sequence; `mayFail`: the next one runs whatever this one's exit status. */
export interface SeqItem {
  cmd: string;
  opts?: RunOpts;
  mayFail?: boolean;
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
 *
 * Commands are pipelined: each is written as soon as it is asked for, without waiting for the
 * ones before it. The shell still runs them one at a time, in order, and their answers come back
 * in that order, so several commands asked for together cost one round trip instead of one each.
 */
export class ShellSession {
  private chan?: ShellChannel;
  private opening?: Promise<ShellChannel>;
  private seq = 0;
  /** Commands written and not yet answered, oldest first: the channel's bytes belong to the first. */
  private readonly pending: Pending[] = [];
  private readonly nonce = randomBytes(8).toString('hex');
  private waits = 0;
  /** Whether the host answered since the last write: the next write is then a new round trip. */
  private heard = true;

  /**
   * Round trips so far, counted as turns: writes made after hearing from the host (writes made
   * before any answer came back share the round trip of the first).
   */
  get roundTrips(): number {
    return this.waits;
  }

  constructor(private readonly open: () => Promise<ShellChannel>) {}

  run(cmd: string, o: RunOpts = {}): Promise<ExecResult> {
    return this.runSeq([{ cmd, opts: o }]).then((r) => r[0]!);
  }

  /**
   * Commands written together, one after another: each runs only if the one before it exited 0,
   * unless that one `mayFail` (a skipped command answers `signal: 'SKIPPED'`), so a change's steps
   * cost one round trip and keep their order. Written in one piece: no other command comes between.
   */
  runSeq(items: ReadonlyArray<SeqItem>): Promise<ExecResult[]> {
    // Never written to the shared shell: the shell would drop the byte and run another command.
    try {
      for (const it of items) refuseNul(it.cmd);
    } catch (e) {
      return Promise.reject(e);
    }
    const seqs = items.map(() => ++this.seq);
    const opened = this.channel();
    const answers = items.map(
      (it, i) =>
        new Promise<ExecResult>((resolve, reject) => {
          opened.then(
            (c) =>
              this.start(c, it.cmd, seqs[i]!, it.opts ?? {}, resolve, i === 0 ? 'none' : guardAfter(items[i - 1]!)),
            (e: unknown) => reject(e),
          );
        }),
    );
    return Promise.all(answers);
  }

  /** Open the shell now, so that the first command does not wait for it. */
  warm(): void {
    this.channel().catch(() => undefined); // a failure surfaces with the first command
  }

  close(): void {
    this.chan?.close();
    this.chan = undefined;
  }

  /**
   * The text written to the shell for one command (exported for tests). `guard`: whether it runs
   * depends on the command written just before it: `ok`, only if that one exited 0; `ran`, only if
   * that one ran at all. A command that does not run reports itself skipped (`S`), so the ones
   * after it are skipped too.
   */
  script(cmd: string, seq: number, stdin?: string | Buffer, guard: Guard = 'none'): string {
    const end = `LVSRUN_${this.nonce}_EOF`;
    const tail = `printf '\\001${this.nonce}:${seq}:%s\\n' "$__lvsrun_r"; printf '\\001${this.nonce}:${seq}\\n' >&2\n`;
    const wrap = (run: string): string =>
      guard === 'none'
        ? `${run}__lvsrun_r=$?; ${tail}`
        : `if [ "$__lvsrun_r" ${guard === 'ok' ? '= 0' : '!= S'} ]; then ${run}__lvsrun_r=$?; ` +
          `else __lvsrun_r=S; fi; ${tail}`;
    // One logical line (newlines inside the quotes are not line ends): a here-document starts after it.
    const body = `( eval ${quote(cmd)} )`;
    if (stdin === undefined) return wrap(`${body} </dev/null\n`);
    const text = Buffer.isBuffer(stdin) ? stdin.toString('utf8') : stdin;
    const plain =
      (!Buffer.isBuffer(stdin) || Buffer.from(text, 'utf8').equals(stdin)) &&
      text.endsWith('\n') &&
      !text.includes('\0') &&
      !text.includes('\r') &&
      !text.split('\n').includes(end);
    if (plain) return wrap(`${body} <<'${end}'\n${text}${end}\n`);
    // Anything else (binary, no final newline) goes through base64 so the bytes arrive exactly.
    const b64 = Buffer.from(stdin)
      .toString('base64')
      .replace(/.{1,76}/g, '$&\n');
    return wrap(`base64 -d <<'${end}' | ${body}\n${b64}${end}\n`);
  }

  /** One channel at a time; commands asked for while it opens wait for the same one. */
  private channel(): Promise<ShellChannel> {
    if (this.chan) return Promise.resolve(this.chan);
    if (this.opening) return this.opening;
    const opening = this.open().then(
      (c) => {
        this.opening = undefined;
        this.chan = c;
        const mine = (): Pending | undefined => (this.chan === c ? this.first(c) : undefined);
        c.onStdout((b) => {
          this.heard = true;
          mine()?.out(b);
        });
        c.onStderr((b) => {
          this.heard = true;
          mine()?.err(b);
        });
        c.onClose(() => {
          if (this.chan === c) this.chan = undefined;
          // Every command still waiting on this shell ends with it.
          for (const p of this.pending.filter((q) => q.chan === c)) p.closed();
        });
        return c;
      },
      (e: unknown) => {
        this.opening = undefined;
        throw e;
      },
    );
    this.opening = opening;
    return opening;
  }

  /** The command the shell behind `c` is running now: its oldest unanswered one. */
  private first(c: ShellChannel): Pending | undefined {
    return this.pending.find((q) => q.chan === c);
  }

  private start(
    c: ShellChannel,
    cmd: string,
    seq: number,
    o: RunOpts,
    resolve: (r: ExecResult) => void,
    guard: Guard = 'none',
  ): void {
    const started = performance.now();
    const outMark = Buffer.from(`\x01${this.nonce}:${seq}:`);
    const errMark = Buffer.from(`\x01${this.nonce}:${seq}\n`);
    let out = Buffer.alloc(0);
    let err = Buffer.alloc(0);
    let code: number | undefined;
    let errDone = false;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    /** Bytes past this command's end marker belong to the next command. */
    let spillOut: Buffer | undefined;
    let spillErr: Buffer | undefined;
    const finish = (r: Partial<ExecResult>): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      const i = this.pending.indexOf(p);
      if (i >= 0) this.pending.splice(i, 1);
      resolve({
        code: null,
        signal: null,
        stdout: out.toString('utf8'),
        stderr: err.toString('utf8'),
        durationMs: performance.now() - started,
        ...r,
      });
      const next = this.first(c);
      if (next) {
        next.head();
        if (spillOut?.length) next.out(spillOut);
        if (spillErr?.length) next.err(spillErr);
      }
    };
    const check = (): void => {
      if (done) return;
      if (code === undefined) {
        const at = out.indexOf(outMark);
        const nl = at >= 0 ? out.indexOf(0x0a, at) : -1;
        if (nl >= 0) {
          code = Number(out.subarray(at + outMark.length, nl).toString());
          spillOut = out.subarray(nl + 1);
          out = out.subarray(0, at);
        }
      }
      if (!errDone) {
        const at = err.indexOf(errMark);
        if (at >= 0) {
          errDone = true;
          spillErr = err.subarray(at + errMark.length);
          err = err.subarray(0, at);
        }
      }
      if (code !== undefined && errDone) finish(Number.isNaN(code) ? { signal: 'SKIPPED' } : { code });
    };
    // A command that outlives its time or is aborted takes the shell down with it (and every command
    // queued behind it); the next command opens a new one.
    const kill = (signal: string): void => {
      if (this.chan === c) this.chan = undefined;
      finish({ signal });
      c.close();
    };
    const onAbort = (): void => kill('ABORT');
    const p: Pending = {
      chan: c,
      // Bytes that arrive after the end marker are kept for the next command (pipelined output).
      out: (b) => {
        if (code !== undefined) spillOut = Buffer.concat([spillOut ?? Buffer.alloc(0), b]);
        else out = Buffer.concat([out, b]);
        check();
      },
      err: (b) => {
        if (errDone) spillErr = Buffer.concat([spillErr ?? Buffer.alloc(0), b]);
        else err = Buffer.concat([err, b]);
        check();
      },
      // The time limit counts from when the shell starts this command, not from when it was queued.
      head: () => {
        if (o.timeoutMs && !timer && !done) timer = setTimeout(() => kill('TIMEOUT'), o.timeoutMs);
      },
      closed: () =>
        finish({
          signal: 'SHELL_CLOSED',
          stderr: `${err.toString('utf8')}remote shell closed before the command finished\n`,
        }),
    };
    if (o.signal?.aborted) {
      // Not written: the next command of a sequence must not take an earlier answer for this one's.
      c.write('__lvsrun_r=S\n');
      resolve({ code: null, signal: 'ABORT', stdout: '', stderr: '', durationMs: 0 });
      return;
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    this.pending.push(p);
    if (this.heard) {
      this.waits++;
      this.heard = false;
    }
    // Nothing else in flight: the shell starts this command now.
    if (this.first(c) === p) p.head();
    c.write(this.script(cmd, seq, o.stdin, guard));
  }
}

interface Pending {
  chan: ShellChannel;
  out(b: Buffer): void;
  err(b: Buffer): void;
  /** Called when this command becomes the one the shell is running. */
  head(): void;
  closed(): void;
}
