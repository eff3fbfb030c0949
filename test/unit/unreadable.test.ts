import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { readSource } from '../../src/yaml/source.js';

// A playbook, inventory or vars file that cannot be read is bad input naming the file (exit 1), not an
// internal error. (Root reads a mode-000 file, so a folder stands in for an unreadable file here.)
describe('a source file that cannot be read', () => {
  it('is a typed error naming the file and the reason', () => {
    const d = mkdtempSync(`${tmpdir()}/lvsrun-unread-`);
    let err: unknown;
    try {
      readSource(d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(`cannot read ${d}: EISDIR`);
  });
});
