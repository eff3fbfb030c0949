import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fdatasync as fsDatasync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  write,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LvsrunError } from '../errors.js';
import type { Step } from '../change/types.js';

/**
 * begin/done/failed: one change on one host (begin carries its undo, written before the change).
 * undone: that change was reverted (ref = the begin's seq). unapplied: its first step failed
 * without a trace (an atomic file write refused by `validate`), so there is nothing to revert.
 * restored/pending: a host's rollback finished, or could not run (host unreachable).
 * notify/handler: handler bookkeeping, so an interrupted run shows which handlers were still owed.
 * irreversible: a step ran that has no undo (written before it
 * runs); unchanged: that step turned out to change nothing (`changed_when: false`), so a rollback does not list it.
 */
export type JournalPhase =
  | 'run-start'
  | 'run-end'
  | 'begin'
  | 'done'
  | 'failed'
  | 'undone'
  | 'unapplied'
  | 'restored'
  | 'pending'
  | 'notify'
  | 'handler'
  | 'irreversible'
  | 'unchanged';

export interface RunMeta {
  playbook?: string;
  inventory?: string;
  operator: string;
  pid: number;
  argv: string[];
  check: boolean;
  kind: 'run' | 'rollback' | 'drill';
}

export interface JournalRecord {
  ts: string;
  seq: number;
  phase: JournalPhase;
  host?: string;
  task?: string;
  undo?: Step[];
  /** The user the undo must run as (become); never a password. */
  becomeUser?: string;
  ref?: number;
  outcome?: string;
  /** run-end: the hosts that failed or were unreachable (what `--limit @failed` runs again). */
  failedHosts?: string[];
  meta?: RunMeta;
}

/**
 * Write-ahead journal on the controller: a change's undo is on disk before the change runs
 * (`write` then `await durable()`). Writes are group-committed: one write and one fdatasync, off
 * the event loop, cover every record queued meanwhile, so 50 hosts waiting on their undo records
 * share a few syncs instead of blocking the run on one sync each. The file is 0600: undo steps
 * hold previous file contents.
 */
export class Journal {
  private fd: number | undefined;
  private seq = 0;
  private queued: string[] = [];
  private flushing: Promise<void> | undefined;
  private broken: Error | undefined;
  readonly file: string | undefined;

  constructor(runDir: string | undefined) {
    if (!runDir) return;
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    privateDirs(runDir);
    this.file = join(runDir, 'journal.jsonl');
    // Appending to an existing journal (lvsrun rollback) continues its numbering.
    this.seq = readJournal(this.file).reduce((m, r) => Math.max(m, r.seq), 0);
    try {
      // Never through a symbolic link: the journal holds earlier file contents.
      const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
      this.fd = openSync(this.file, flags, 0o600);
    } catch (e) {
      throw new LvsrunError('E_JOURNAL', `cannot open the journal ${this.file}: ${(e as Error).message}`, {
        hint: 'the journal must be a plain file in a folder of your own',
      });
    }
  }

  /** Queue a record; returns its seq at once. */
  write(r: Omit<JournalRecord, 'ts' | 'seq'>): number {
    const seq = ++this.seq;
    if (this.fd === undefined) return seq;
    this.queued.push(`${JSON.stringify({ ts: new Date().toISOString(), seq, ...r })}\n`);
    this.flush().catch(() => undefined); // errors surface through durable()
    return seq;
  }

  /** Resolves once every record written so far is on disk. */
  durable(): Promise<void> {
    return this.flush();
  }

  private flush(): Promise<void> {
    // A journal that failed to write once (disk full, I/O error) fails every later durable():
    // no change may run unjournaled.
    if (this.broken) return Promise.reject(this.broken);
    this.flushing ??= (async () => {
      try {
        while (this.queued.length && this.fd !== undefined) {
          const chunk = this.queued.join('');
          this.queued = [];
          await writeAll(this.fd, Buffer.from(chunk));
          await fdatasync(this.fd);
        }
      } catch (e) {
        this.broken = new LvsrunError('E_JOURNAL', `cannot write the journal ${this.file}: ${(e as Error).message}`, {
          hint: 'free space or fix the folder; no change runs without its undo on disk',
        });
        throw this.broken;
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

async function writeAll(fd: number, b: Buffer): Promise<void> {
  let off = 0;
  while (off < b.length)
    off += await new Promise<number>((res, rej) =>
      write(fd, b, off, b.length - off, null, (e, n) => (e ? rej(e) : res(n))),
    );
}

const fdatasync = (fd: number): Promise<void> => new Promise((res, rej) => fsDatasync(fd, (e) => (e ? rej(e) : res())));

/** A run's id: UTC time to the millisecond (so ids sort by start) and a random suffix. */
export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '').replace('Z', '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function readJournal(file: string): JournalRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as JournalRecord];
      } catch {
        return [];
      } // a torn last line after a crash
    });
}

/**
 * The run's folder, the runs folder and `.lvsrun` hold earlier file contents (secrets among them):
 * each must be a real folder of this user's, and is made 0700 if it was more open.
 */
function privateDirs(runDir: string): void {
  const dirs = [runDir, dirname(runDir)];
  if (basename(dirname(dirname(runDir))) === '.lvsrun') dirs.push(dirname(dirname(runDir)));
  for (const d of dirs) {
    const st = lstatSync(d);
    const mine = typeof process.geteuid !== 'function' || st.uid === process.geteuid();
    if (!st.isDirectory() || !mine) {
      const what = st.isSymbolicLink()
        ? 'a symbolic link'
        : !st.isDirectory()
          ? 'not a folder'
          : "another user's folder";
      throw new LvsrunError('E_JOURNAL', `${d} is ${what}`, {
        hint: 'journals hold earlier file contents: keep .lvsrun/ a private folder of the user who runs lvsrun',
      });
    }
    if (st.mode & 0o077) chmodSync(d, 0o700);
  }
}
