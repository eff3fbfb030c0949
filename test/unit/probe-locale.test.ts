import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStateCmd, parseFileState } from '../../src/facts/file.js';
import { stat } from '../../src/modules/stat.js';
import type { ModuleCtx } from '../../src/modules/types.js';

// A host whose login sets a German locale: coreutils' stat translates its file types there
// ("reguläre Datei", "Verzeichnis"), so a probe that parses them must ask for the C locale.
const GERMAN = { ...process.env, LANGUAGE: 'de', LC_ALL: 'C.UTF-8' };
const sh = (cmd: string) => {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', env: GERMAN });
  return { code: r.status, signal: null, stdout: r.stdout, stderr: r.stderr, durationMs: 0 };
};
const ctx = { exec: (cmd: string) => Promise.resolve(sh(cmd)) } as unknown as ModuleCtx;
const root = mkdtempSync(join(tmpdir(), 'lvsrun-locale-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'f'), 'x=1\n', { mode: 0o640 });
mkdirSync(join(root, 'd'));
symlinkSync('f', join(root, 'l'));

describe('probes read file types the same way under any locale', () => {
  it('the locale is one where stat translates (or this test proves nothing)', () => {
    expect(sh(`stat -c %F ${root}/f`).stdout.trim()).not.toBe('regular file');
  });

  it('the file-state probe (file, copy, template, lineinfile) sees a file, a folder and a link', () => {
    const of = (p: string) => parseFileState(sh(fileStateCmd(join(root, p))), join(root, p));
    expect(of('f')).toMatchObject({ exists: true, type: 'file', mode: '0640', content: 'x=1\n' });
    expect(of('d')).toMatchObject({ exists: true, type: 'directory' });
    expect(of('l')).toMatchObject({ exists: true, type: 'link', linkTarget: 'f' });
  });

  it('the stat module', async () => {
    const s = async (p: string) => stat.check(ctx, stat.schema.parse({ path: join(root, p) }));
    expect(await s('f')).toMatchObject({ exists: true, isreg: true, isdir: false });
    expect(await s('d')).toMatchObject({ exists: true, isreg: false, isdir: true });
    expect(await s('l')).toMatchObject({ islnk: true });
  });
});
