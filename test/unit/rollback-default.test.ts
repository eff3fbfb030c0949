import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickRun, rollbackCommand } from '../../src/cli/commands/rollback.js';
import type { Io } from '../../src/cli/io.js';

/* `lvsrun rollback` without a run id: the newest run whose changes are still in effect. */
function folder(): { io: Io & { text: () => string }; run: (id: string, recs: object[]) => void } {
  const cwd = mkdtempSync(join(tmpdir(), 'lvsrun-rb-'));
  // a host on this worktree's loopback range where nothing listens: a restore attempt ends at once
  writeFileSync(join(cwd, 'inv.yaml'), 'all:\n  hosts:\n    lb1: {ansible_host: 127.0.39.1, ansible_port: 1}\n');
  let out = '';
  const add = (s: string): void => {
    out += s;
  };
  const io = { out: add, err: add, isTTY: false, cwd, env: process.env, text: () => out };
  const run = (id: string, recs: object[]): void => {
    mkdirSync(join(cwd, '.lvsrun', 'runs', id), { recursive: true, mode: 0o700 });
    const start = {
      ts: '2026-01-01T00:00:00Z',
      seq: 0,
      phase: 'run-start',
      meta: { inventory: join(cwd, 'inv.yaml') },
    };
    const text = [start, ...recs].map((r) => JSON.stringify(r)).join('\n') + '\n';
    writeFileSync(join(cwd, '.lvsrun', 'runs', id, 'journal.jsonl'), text, { mode: 0o600 });
  };
  return { io, run };
}
const change = (seq: number) => ({
  ts: '2026-01-01T00:00:01Z',
  seq,
  phase: 'begin',
  host: 'lb1',
  task: 'write x',
  undo: [{ kind: 'exec', cmd: 'true' }],
});

describe('lvsrun rollback picks the newest run with changes in effect', () => {
  it('skips a newer run that changed nothing, and one already rolled back', () => {
    const { io, run } = folder();
    run('20260101T0100-a', [change(1)]);
    run('20260101T0200-b', [change(1), { ts: 'x', seq: 2, phase: 'undone', ref: 1, host: 'lb1' }]);
    run('20260101T0300-c', []);
    expect(pickRun(io, undefined)).toBe('20260101T0100-a');
    // an explicit id is taken as given
    expect(pickRun(io, '20260101T0300')).toBe('20260101T0300-c');
  });
  it('with no run in effect it is the newest run (which then has nothing to roll back)', () => {
    const { io, run } = folder();
    run('20260101T0100-a', []);
    run('20260101T0200-b', []);
    expect(pickRun(io, undefined)).toBe('20260101T0200-b');
  });
  it('names the run it rolls back in the output', async () => {
    const { io, run } = folder();
    run('20260101T0100-a', [change(1)]);
    run('20260101T0300-c', []);
    await rollbackCommand(['--connect-timeout', '5'], io);
    expect(io.text()).toMatch(/^rolling back run 20260101T0100-a \(the newest run with changes still in effect\)\n/);
    expect(io.text()).not.toMatch(/nothing to roll back/);
  });
});
