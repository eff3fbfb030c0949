import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'lvsrun.js');

// An inventory the user cannot read is bad input naming the file (exit 1), not an internal error.
describe('an unreadable inventory file', () => {
  it.runIf(process.getuid?.() === 0)('exits 1 naming the file, for a user who cannot read it', () => {
    const d = mkdtempSync('/var/tmp/lvsrun-unread-');
    chmodSync(d, 0o755);
    const f = join(d, 'inv.yaml');
    writeFileSync(f, 'all:\n  hosts:\n    h1: {}\n');
    chmodSync(f, 0o000);
    const r = spawnSync(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, bin, 'inventory', '-i', f, '--list'],
      { cwd: d, encoding: 'utf8' },
    );
    expect(r.stderr).toContain(`cannot read ${f}: EACCES`);
    expect(r.status).toBe(1);
  });
});
