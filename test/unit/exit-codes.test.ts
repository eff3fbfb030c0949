import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/engine/recap.js';
import { EXIT, exitCodeForError } from '../../src/exit-codes.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'lvsrun.js');

describe('one exit-code map', () => {
  it('typed errors map to bad input, unreachable or environment, never to "a task failed"', () => {
    expect(exitCodeForError('E_YAML')).toBe(EXIT.BAD_INPUT);
    expect(exitCodeForError('E_TRANSPORT')).toBe(EXIT.UNREACHABLE);
    expect(exitCodeForError('E_HOSTKEY')).toBe(EXIT.UNREACHABLE);
    expect(exitCodeForError('E_JOURNAL')).toBe(EXIT.ENVIRONMENT);
    expect(exitCodeForError('E_LAB')).toBe(EXIT.ENVIRONMENT);
  });

  it('the recap uses the same map', () => {
    const recap = (o: Partial<Record<'failed' | 'unreachable', number>>) => ({
      h: { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rolled_back: 0, ignored: 0, ...o },
    });
    expect(exitCodeOf({ recap: recap({}), rolledBack: {} } as never)).toBe(EXIT.OK);
    expect(exitCodeOf({ recap: recap({ unreachable: 1 }), rolledBack: {} } as never)).toBe(EXIT.UNREACHABLE);
    expect(exitCodeOf({ recap: recap({ failed: 1, unreachable: 1 }), rolledBack: {} } as never)).toBe(EXIT.TASK_FAILED);
    expect(exitCodeOf({ recap: recap({ failed: 1 }), rolledBack: { h: { ok: false } } } as never)).toBe(
      EXIT.ROLLBACK_FAILED,
    );
  });

  it('a journal that cannot be written is exit 5, before any host is touched', () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-exit-'));
    mkdirSync(join(d, 'elsewhere'));
    symlinkSync(join(d, 'elsewhere'), join(d, '.lvsrun'));
    writeFileSync(join(d, 'inv.yaml'), 'all:\n  hosts:\n    h1: {ansible_host: 127.0.41.250, ansible_port: 1}\n');
    writeFileSync(join(d, 'pb.yaml'), '- hosts: all\n  tasks:\n    - command: /bin/true\n');
    const r = spawnSync(process.execPath, [bin, 'pb.yaml', '-i', 'inv.yaml'], { cwd: d, encoding: 'utf8' });
    expect(r.stderr).toMatch(/E_JOURNAL/);
    expect(r.status).toBe(EXIT.ENVIRONMENT);
  });
});
