import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileStateCmd, parseFileState } from '../../src/facts/file.js';

// On a slow host (a TCG guest: ~40 ms per process) every process a probe starts counts.
describe('the file probe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsrun-file-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const real = spawnSync('sh', ['-c', 'command -v stat']).stdout.toString().trim();
  writeFileSync(join(dir, 'stat'), `#!/bin/sh\necho x >> '${dir}/count'\nexec '${real}' "$@"\n`);
  chmodSync(join(dir, 'stat'), 0o755);
  const probe = (path: string) => {
    rmSync(join(dir, 'count'), { force: true });
    const r = spawnSync('/bin/sh', ['-c', fileStateCmd(path)], { env: { PATH: `${dir}:/usr/bin:/bin` } });
    const res = {
      code: r.status,
      signal: null,
      stdout: r.stdout.toString(),
      stderr: r.stderr.toString(),
      durationMs: 0,
    };
    let stats = 0;
    try {
      stats = readFileSync(join(dir, 'count'), 'utf8').split('\n').length - 1;
    } catch {
      /* no stat ran */
    }
    return { st: parseFileState(res, path), stats };
  };

  it('reads a small regular file with one stat and its bytes exactly, and still tells the other kinds apart', () => {
    const f = join(dir, 'a b\n{{x}}');
    writeFileSync(f, Buffer.from([0, 1, 0xff, 0x0a, 0x7c]), { mode: 0o640 });
    chmodSync(f, 0o640);
    const { st, stats } = probe(f);
    expect(stats).toBe(1);
    expect(st).toMatchObject({ exists: true, type: 'file', mode: '0640', size: 5, b64: 'AAH/Cnw=' });
    writeFileSync(join(dir, 'empty'), '');
    expect(probe(dir).st).toMatchObject({ exists: true, type: 'directory' });
    expect(probe(join(dir, 'empty')).st).toMatchObject({ exists: true, type: 'file', size: 0, content: '' });
    expect(probe(join(dir, 'no/such')).st).toEqual({ exists: false, missingFrom: join(dir, 'no') });
  });
});
