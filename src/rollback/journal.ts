import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Step } from '../modules/types.js';

/**
 * begin/done/failed: one change on one host (begin carries its undo, written before the change).
 * undone: that change was reverted (ref = the begin's seq). restored/pending: a host's rollback
 * finished, or could not run (host unreachable). notify/handler: handler bookkeeping, so an
 * interrupted run shows which handlers were still owed.
 */
export type JournalPhase = 'run-start' | 'run-end' | 'begin' | 'done' | 'failed' | 'undone' | 'restored' | 'pending' | 'notify' | 'handler' | 'irreversible';

export interface RunMeta { playbook?: string; inventory?: string; operator: string; pid: number; argv: string[]; check: boolean; kind: 'run' | 'rollback' | 'drill' }

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
  meta?: RunMeta;
}

/**
 * Write-ahead journal on the controller: a change's undo is on disk (fsync) before the
 * change runs. The file is 0600: undo steps hold previous file contents.
 */
export class Journal {
  private fd: number | undefined;
  private seq = 0;
  readonly file: string | undefined;

  constructor(runDir: string | undefined) {
    if (!runDir) return;
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    this.file = join(runDir, 'journal.jsonl');
    // Appending to an existing journal (lvsrun rollback) continues its numbering.
    this.seq = readJournal(this.file).reduce((m, r) => Math.max(m, r.seq), 0);
    this.fd = openSync(this.file, 'a', 0o600);
  }

  write(r: Omit<JournalRecord, 'ts' | 'seq'>, sync = true): number {
    const seq = ++this.seq;
    if (this.fd === undefined) return seq;
    writeSync(this.fd, `${JSON.stringify({ ts: new Date().toISOString(), seq, ...r })}\n`);
    if (sync) fsyncSync(this.fd);
    return seq;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export function readJournal(file: string): JournalRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
    try { return [JSON.parse(l) as JournalRecord]; } catch { return []; } // a torn last line after a crash
  });
}
