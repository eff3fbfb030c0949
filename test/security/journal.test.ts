import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/rollback/journal.js';

// The journal holds earlier file contents (secrets among them): it is kept private and never
// written through a link someone else planted.
describe('the journal is private', () => {
  const base = (): string => mkdtempSync(join(tmpdir(), 'lvsrun-journal-'));

  it('a .lvsrun folder left open (0755, 0777) is made 0700, and the journal file is 0600', async () => {
    const cwd = base();
    mkdirSync(join(cwd, '.lvsrun', 'runs'), { recursive: true });
    chmodSync(join(cwd, '.lvsrun'), 0o755);
    chmodSync(join(cwd, '.lvsrun', 'runs'), 0o777);
    const j = new Journal(join(cwd, '.lvsrun', 'runs', 'r1'));
    j.write({ phase: 'run-start' });
    await j.durable();
    for (const d of ['.lvsrun', '.lvsrun/runs', '.lvsrun/runs/r1'])
      expect(statSync(join(cwd, d)).mode & 0o777).toBe(0o700);
    expect(statSync(join(cwd, '.lvsrun/runs/r1/journal.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('a journal file that is a symbolic link is refused, and its target is untouched', () => {
    const cwd = base();
    const victim = join(cwd, 'victim');
    writeFileSync(victim, 'keep\n');
    mkdirSync(join(cwd, '.lvsrun', 'runs', 'r2'), { recursive: true });
    symlinkSync(victim, join(cwd, '.lvsrun', 'runs', 'r2', 'journal.jsonl'));
    expect(() => new Journal(join(cwd, '.lvsrun', 'runs', 'r2'))).toThrow(/cannot open the journal/);
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
  });

  it('a runs folder that is a symbolic link elsewhere is refused', () => {
    const cwd = base();
    const elsewhere = join(cwd, 'elsewhere');
    mkdirSync(elsewhere, { mode: 0o777 });
    chmodSync(elsewhere, 0o777);
    mkdirSync(join(cwd, '.lvsrun'));
    symlinkSync(elsewhere, join(cwd, '.lvsrun', 'runs'));
    expect(() => new Journal(join(cwd, '.lvsrun', 'runs', 'r3'))).toThrow(/symbolic link/);
    expect(lstatSync(elsewhere).mode & 0o777).toBe(0o777);
  });
});
