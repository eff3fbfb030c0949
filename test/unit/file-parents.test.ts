import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { file } from '../../src/modules/file.js';
import type { ModuleCtx, Step } from '../../src/modules/types.js';

// A real local /bin/sh in a scratch folder runs the module's probe, its steps and its undo.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'lvsrun-file-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const run = (cmd: string) => {
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', cwd: root });
  return { code: r.status, signal: null, stdout: r.stdout, stderr: r.stderr, durationMs: 0 };
};
const ctx = { exec: (cmd: string) => Promise.resolve(run(cmd)) } as unknown as ModuleCtx;
const apply = (steps: Step[]) => {
  for (const s of steps) {
    const r = run((s as { cmd: string }).cmd);
    expect(r.code, r.stderr).toBe(0);
  }
};
const mode = (p: string) => (statSync(join(root, p)).mode & 0o7777).toString(8);

async function directory(path: string, extra: Record<string, string> = {}) {
  const p = file.schema.parse({ path, state: 'directory', mode: '0700', ...extra });
  const plan = file.plan(p, await file.check(ctx, p));
  apply(plan.steps);
  return plan;
}

describe('file state: directory creates missing parents as Ansible does, and its undo removes them', () => {
  it('gives every created parent the mode, and the undo leaves nothing behind', async () => {
    const plan = await directory(join(root, "a\n'{{x}}/-b/c"));
    expect([mode("a\n'{{x}}"), mode("a\n'{{x}}/-b"), mode("a\n'{{x}}/-b/c")]).toEqual(['700', '700', '700']);
    apply(plan.undo);
    expect(existsSync(join(root, "a\n'{{x}}"))).toBe(false);
  });

  it('leaves a parent that was there alone, and one someone filled since', async () => {
    mkdirSync(join(root, 'kept'), { mode: 0o755 });
    const plan = await directory(join(root, 'kept/n1/n2'));
    expect([mode('kept'), mode('kept/n1'), mode('kept/n1/n2')]).toEqual(['755', '700', '700']);
    writeFileSync(join(root, 'kept/n1/other'), 'x');
    apply(plan.undo);
    expect(existsSync(join(root, 'kept/n1/n2'))).toBe(false);
    expect(existsSync(join(root, 'kept/n1/other'))).toBe(true);
    expect(mode('kept')).toBe('755');
  });

  it('counts parents the same with doubled and trailing slashes', async () => {
    const plan = await directory(join(root, 's1') + '//s2///s3/');
    expect([mode('s1'), mode('s1/s2'), mode('s1/s2/s3')]).toEqual(['700', '700', '700']);
    apply(plan.undo);
    expect(existsSync(join(root, 's1'))).toBe(false);
    expect(existsSync(root)).toBe(true);
  });

  it('takes a relative path from the working folder, its parents and itself getting the mode', async () => {
    const plan = await directory('rel/-x y/z');
    expect([mode('rel'), mode('rel/-x y'), mode('rel/-x y/z')]).toEqual(['700', '700', '700']);
    apply(plan.undo);
    expect(existsSync(join(root, 'rel'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('gives every created parent the owner and group too', async () => {
    mkdirSync(join(root, 'own'), { mode: 0o755 });
    const plan = await directory(join(root, 'own/o1/o2/o3'), { owner: 'nobody', group: '65534' });
    const ids = (p: string) => `${statSync(join(root, p)).uid}:${statSync(join(root, p)).gid}`;
    expect([ids('own'), ids('own/o1'), ids('own/o1/o2'), ids('own/o1/o2/o3')]).toEqual([
      '0:0',
      '65534:65534',
      '65534:65534',
      '65534:65534',
    ]);
    expect([mode('own/o1'), mode('own/o1/o2')]).toEqual(['700', '700']);
    apply(plan.undo);
    expect(existsSync(join(root, 'own/o1'))).toBe(false);
  });
});

describe('file state: directory over something that is not a folder', () => {
  it('a trailing slash on a regular file: the failed create is undone without removing the file', async () => {
    writeFileSync(join(root, 'plain'), 'keep me\n');
    const p = file.schema.parse({ path: join(root, 'plain') + '/', state: 'directory' });
    const plan = file.plan(p, await file.check(ctx, p));
    const first = run((plan.steps[0] as { cmd: string }).cmd);
    if (plan.action === 'create') expect(first.code).not.toBe(0);
    for (const u of plan.undo) run((u as { cmd: string }).cmd);
    expect(readFileSync(join(root, 'plain'), 'utf8')).toBe('keep me\n');
  });
});
