import { join } from 'node:path';
import { expect, it } from 'vitest';
import { profileRun } from '../../src/bench/profile.js';

const repo = join(import.meta.dirname, '..', '..');

it("the bench's profile names lvsrun's own modules and packages, never the bundle's chunks", async () => {
  const out = await profileRun(
    [join(repo, 'bin', 'lvsrun.js'), 'validate', 'bench/lvsrun/site.yaml', '-i', 'test/fixtures/inventory.yaml'],
    repo,
  );
  const top = out.split('\n').filter((l) => /^\s+\d+ ms {2}/.test(l));
  expect(top.length, out).toBeGreaterThan(0);
  // each frame of the bundle is looked up in its source map: a chunk's hashed name says nothing
  expect(out).not.toMatch(/lvsrun-chunk-|lvsrun-cli\.js/);
});
