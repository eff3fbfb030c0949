import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stat } from '../../src/modules/stat.js';
import type { ModuleCtx } from '../../src/modules/types.js';

// A real local /bin/sh runs the module's probe, as a host's shell would.
const ctx = {
  exec: (cmd: string) => {
    const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
    return Promise.resolve({ code: r.status, signal: null, stdout: r.stdout, stderr: r.stderr, durationMs: 0 });
  },
} as unknown as ModuleCtx;
const root = realpathSync(mkdtempSync(join(tmpdir(), 'lvsrun-stat-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const probe = async (path: string) => (await stat.check(ctx, stat.schema.parse({ path }))) as Record<string, unknown>;

describe('stat on a symlink reports it as Ansible does (lnk_source, lnk_target)', () => {
  it('gives the resolved target and the link text of a chain of links, hostile names included', async () => {
    const dir = join(root, 'd\n\'{{x}}"');
    mkdirSync(dir);
    const target = join(dir, '-t\nwith newline');
    writeFileSync(target, 'x');
    symlinkSync(target, join(dir, 'l1'));
    symlinkSync('l1', join(dir, 'l2'));
    const s = await probe(join(dir, 'l2'));
    expect(s).toMatchObject({ exists: true, islnk: true, isreg: false, lnk_source: target, lnk_target: 'l1' });
  });

  it('gives the would-be target of a dangling link', async () => {
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    expect(await probe(join(root, 'dangling'))).toMatchObject({
      exists: true,
      islnk: true,
      lnk_source: join(root, 'gone'),
      lnk_target: join(root, 'gone'),
    });
  });

  it('gives neither for a regular file', async () => {
    writeFileSync(join(root, 'plain'), 'y');
    const s = await probe(join(root, 'plain'));
    expect(s.islnk).toBe(false);
    expect(s.path).toBe(join(root, 'plain'));
    expect(s).not.toHaveProperty('lnk_source');
    expect(s).not.toHaveProperty('lnk_target');
  });

  it('checksums a file whose name holds a backslash or a newline (sha1sum would escape the sum)', async () => {
    const { createHash } = await import('node:crypto');
    for (const name of ['back\\slash', 'new\nline']) {
      writeFileSync(join(root, name), 'content\n');
      expect(await probe(join(root, name))).toMatchObject({
        isreg: true,
        checksum: createHash('sha1').update('content\n').digest('hex'),
      });
    }
  });
});
