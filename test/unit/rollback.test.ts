import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, lockCmd } from '../../src/engine/host-lock.js';
import { applyJournaled } from '../../src/rollback/apply.js';
import { Journal, readJournal } from '../../src/rollback/journal.js';
import type { JournalEntry } from '../../src/change/types.js';
import { describeRun, outstanding } from '../../src/rollback/outstanding.js';
import { FakeTransport } from '../../src/transport/fake.js';
import type { ShellCmd } from '../../src/transport/shell.js';

const step = (cmd: string) => ({ kind: 'exec' as const, cmd: cmd as ShellCmd });

async function journalOf(write: (j: Journal) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsrun-j-'));
  const j = new Journal(dir);
  write(j);
  await j.close();
  return readJournal(join(dir, 'journal.jsonl'));
}

describe('journal reading', () => {
  it('keeps begun-and-not-undone changes per host, in the order made, including one in flight at a crash', async () => {
    const recs = await journalOf((j) => {
      j.write({ phase: 'run-start', meta: { operator: 'op@ctl', pid: 1, argv: [], check: false, kind: 'run' } });
      const a = j.write({ phase: 'begin', host: 'lb1', task: 'a', undo: [step('undo a')] });
      j.write({ phase: 'done', host: 'lb1', task: 'a' });
      const b = j.write({ phase: 'begin', host: 'lb1', task: 'b', undo: [step('undo b')], becomeUser: 'root' });
      j.write({ phase: 'begin', host: 'rs1', task: 'c', undo: [step('undo c')] }); // no done: crashed mid-step
      j.write({ phase: 'undone', host: 'lb1', task: 'b', ref: b });
      expect(a).toBe(2);
    });
    const out = outstanding(recs);
    expect([...out.keys()]).toEqual(['lb1', 'rs1']);
    expect(out.get('lb1')!.map((e) => e.task)).toEqual(['a']);
    expect(out.get('rs1')![0]).toMatchObject({ task: 'c', undo: [{ cmd: 'undo c' }] });
    const info = describeRun('r1', recs);
    expect(info).toMatchObject({
      outcome: 'running-or-crashed',
      outstandingHosts: ['lb1', 'rs1'],
      changedHosts: ['lb1', 'rs1'],
    });
  });

  it('a journal reopened for lvsrun rollback continues the numbering, so refs stay unique', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-j-'));
    const j1 = new Journal(dir);
    j1.write({ phase: 'run-start' });
    j1.write({ phase: 'begin', host: 'h', task: 't', undo: [] });
    await j1.close();
    const j2 = new Journal(dir);
    expect(j2.write({ phase: 'undone', host: 'h', task: 't', ref: 2 })).toBe(3);
    await j2.close();
    expect(outstanding(readJournal(join(dir, 'journal.jsonl'))).size).toBe(0);
  });

  it('describes outcomes and the handlers still owed', async () => {
    const recs = await journalOf((j) => {
      j.write({ phase: 'run-start' });
      j.write({ phase: 'notify', host: 'lb1', task: 'reload keepalived' });
      j.write({ phase: 'notify', host: 'lb2', task: 'reload keepalived' });
      j.write({ phase: 'handler', host: 'lb2', task: 'reload keepalived' });
      j.write({ phase: 'run-end', outcome: 'interrupted' });
    });
    expect(describeRun('r', recs)).toMatchObject({
      outcome: 'interrupted',
      owedHandlers: { lb1: ['reload keepalived'] },
    });
    const ok = await journalOf((j) => {
      j.write({ phase: 'run-start' });
      j.write({ phase: 'run-end', outcome: '0' });
    });
    expect(describeRun('r', ok)).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
  });
});

describe('write-ahead apply', () => {
  const noBecome = { enabled: false, user: 'root' };
  const plan = (first: { atomic?: boolean }) => ({
    action: 'update' as const,
    summary: 's',
    steps: [
      { kind: 'exec' as const, cmd: 'write' as ShellCmd, ...first },
      { kind: 'exec' as const, cmd: 'reload' as ShellCmd },
    ],
    undo: [{ kind: 'exec' as const, cmd: 'restore' as ShellCmd }],
  });
  async function apply(first: { atomic?: boolean }, fail: RegExp, code: number | null = 1) {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-j-'));
    const j = new Journal(dir);
    const t = new FakeTransport('lb1').on(fail, () => ({ code, stderr: 'validation failed' })).on(/.*/, {});
    const log: JournalEntry[] = [];
    await expect(
      applyJournaled(
        j,
        t,
        'task',
        plan(first),
        noBecome,
        (e) => log.push(e),
        (e) => log.splice(log.indexOf(e), 1),
      ),
    ).rejects.toThrow(/validation failed/);
    await j.close();
    return { log, recs: readJournal(join(dir, 'journal.jsonl')), calls: t.calls.map((c) => c.cmd) };
  }
  it('an atomic first step that fails changed nothing: journaled unapplied, nothing left to undo', async () => {
    const r = await apply({ atomic: true }, /^write$/);
    expect(r.calls).toEqual(['write']);
    expect(r.log).toEqual([]);
    expect(r.recs.map((x) => x.phase)).toEqual(['begin', 'unapplied']);
    expect(outstanding(r.recs).size).toBe(0);
    expect(describeRun('r', r.recs).changedHosts).toEqual([]);
  });
  it('an atomic first step ended by a signal or a closed shell may have renamed: its undo is kept', async () => {
    // The write's shell traps HUP, INT and TERM (129, 130, 143); a shell gone has no exit code at all.
    for (const code of [129, 130, 143, null]) {
      const r = await apply({ atomic: true }, /^write$/, code);
      expect(r.log).toHaveLength(1);
      expect(r.recs.map((x) => x.phase)).toEqual(['begin', 'failed']);
      expect(outstanding(r.recs).get('lb1')![0]!.undo).toEqual([{ kind: 'exec', cmd: 'restore' }]);
    }
  });
  it('a failure after a step succeeded, or of a non-atomic step, keeps the undo', async () => {
    for (const r of [await apply({ atomic: true }, /^reload$/), await apply({}, /^write$/)]) {
      expect(r.log).toHaveLength(1);
      expect(r.recs.map((x) => x.phase)).toEqual(['begin', 'failed']);
      expect(outstanding(r.recs).get('lb1')![0]!.undo).toEqual([{ kind: 'exec', cmd: 'restore' }]);
    }
  });
});

describe('host lock', () => {
  const info = { run: 'r2', operator: 'bob@ctl', since: '2026-11-22T00:00:00Z' };
  it('quotes the lock file and the holder info into the command', () => {
    const c = lockCmd("/run/x y'.lock", info, false);
    expect(c).toContain(`f='/run/x y'\\''.lock'`);
    expect(c).toContain('flock -n 9');
    expect(c).not.toContain('kill "$pid"');
    expect(lockCmd('/run/l', info, true)).toContain('kill "$pid"');
  });
  it('holds the lock while the run lasts and releases it at the end', async () => {
    const t = new FakeTransport('lb1').on(/flock/, { stdout: 'LOCKED\n' });
    const l = await acquireLock(t, '/run/lvsrun.lock', info, false);
    expect(t.released).toHaveLength(0);
    l.release();
    expect(t.released).toHaveLength(1);
  });
  it('refuses with the holder named and a hint', async () => {
    const holder = JSON.stringify({
      run: '20261122T010000-abc',
      operator: 'alice@ops1',
      since: '2026-11-22T01:00:00Z',
      pid: 4242,
    });
    const t = new FakeTransport('lb1').on(/flock/, { stdout: `BUSY ${holder}\n` });
    const e = await acquireLock(t, '/run/lvsrun.lock', info, false).then(
      () => {
        throw new Error('the lock was taken');
      },
      (x: unknown) => x as Error & { code: string; format(): string },
    );
    expect(e.code).toBe('E_LOCKED');
    expect(e.format()).toMatch(
      /lb1 is locked by run 20261122T010000-abc of alice@ops1 since 2026-11-22T01:00:00Z \(holder pid 4242 on the host\)/,
    );
    expect(e.format()).toMatch(/--break-lock/);
  });
});
