import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Redactor } from '../../src/text/redact.js';

describe('lvsrun runs --prune', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const journal = (id: string, days: number, recs: object[]): void => {
    mkdirSync(join(dir, '.lvsrun/runs', id), { recursive: true });
    const ts = new Date(Date.now() - days * 86_400_000).toISOString();
    const meta = { operator: 'op', pid: 1, argv: [], check: false, kind: 'run' };
    const lines = [{ ts, seq: 1, phase: 'run-start', meta }, ...recs, { ts, seq: 9, phase: 'run-end', outcome: '0' }];
    writeFileSync(join(dir, '.lvsrun/runs', id, 'journal.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
  };
  const run = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await main(['runs', ...argv], {
      out: (s) => {
        out += s;
      },
      err: (s) => {
        err += s;
      },
      isTTY: false,
      cwd: dir,
      env: {},
    });
    return { code, out, err };
  };
  const left = (): string[] => readdirSync(join(dir, '.lvsrun/runs')).sort();
  const change = { ts: 'x', seq: 2, phase: 'begin', host: 'lb1', task: 't', undo: [] };

  it('removes old runs, keeps the newest N and every run whose changes are in effect unless --force', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsrun-prune-'));
    journal('20240101T000000000-aaaaaa', 40, []);
    journal('20240102T000000000-bbbbbb', 35, [change]);
    journal('20240103T000000000-cccccc', 30, []);
    journal('20240104T000000000-dddddd', 1, []);
    const r = await run('--prune', '--keep', '1', '--older-than', '20');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('removed 20240101T000000000-aaaaaa');
    expect(r.out).toContain('removed 20240103T000000000-cccccc');
    expect(r.out).toMatch(/kept 20240102T000000000-bbbbbb: changes in effect on lb1/);
    expect(left()).toEqual(['20240102T000000000-bbbbbb', '20240104T000000000-dddddd']);
    const forced = await run('--prune', '--keep', '1', '--force', '--json');
    expect(JSON.parse(forced.out)).toEqual({ removed: ['20240102T000000000-bbbbbb'], spared: [] });
    expect(left()).toEqual(['20240104T000000000-dddddd']);
  });

  it('refuses --prune without --keep or --older-than, and a bad number, before removing anything', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsrun-prune-'));
    journal('20240101T000000000-aaaaaa', 40, []);
    expect((await run('--prune')).err).toMatch(/E_USAGE.*--keep N or --older-than DAYS/);
    expect((await run('--prune', '--keep', '-1')).code).toBe(1);
    expect((await run('--prune', '--older-than', '1e3')).err).toMatch(/whole number/);
    expect(left()).toEqual(['20240101T000000000-aaaaaa']);
  });

  it('an error message never shows a secret the command loaded', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsrun-prune-'));
    const red = new Redactor(['leaky-secret']);
    let err = '';
    await main(['runs', '--prune', '--keep', 'leaky-secret'], {
      out: () => undefined,
      err: (s) => {
        err += s;
      },
      isTTY: false,
      cwd: dir,
      env: {},
      redactor: red,
    });
    expect(err).toMatch(/--keep must be a whole number/);
    expect(err).not.toContain('leaky-secret');
  });
});
