import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Step } from '../modules/types.js';

export type JournalPhase = 'begin' | 'done' | 'failed' | 'undone' | 'run-start' | 'run-end';
export interface JournalRecord { ts: string; seq: number; phase: JournalPhase; host?: string; task?: string; undo?: Step[]; outcome?: string }

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
