import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnownHosts } from '../../src/transport/known-hosts.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsrun-kh-'));
const file = (text: string): string => {
  const f = join(dir, `kh-${Math.random()}`);
  writeFileSync(f, text);
  return f;
};

describe('known_hosts', () => {
  it('matches OpenSSH [host]:port entries for non-22 ports, and only on that port', () => {
    const kh = new KnownHosts([file('[127.0.20.1]:2222 ssh-ed25519 AAAAkey1\n')]);
    expect(kh.verify('127.0.20.1', 2222, 'ssh-ed25519', 'AAAAkey1')).toEqual({ ok: true });
    expect(kh.verify('127.0.20.1', 22, 'ssh-ed25519', 'AAAAkey1')).toMatchObject({ ok: false, reason: 'unknown' });
    expect(kh.verify('127.0.20.2', 2222, 'ssh-ed25519', 'AAAAkey1')).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('reports a changed key as changed, not unknown', () => {
    const kh = new KnownHosts([file('lb1,10.0.0.1 ssh-ed25519 AAAAold\n')]);
    expect(kh.verify('10.0.0.1', 22, 'ssh-ed25519', 'AAAAnew')).toMatchObject({ ok: false, reason: 'changed' });
  });

  it('matches hashed hostnames', () => {
    const salt = Buffer.from('0123456789abcdef0123');
    const hash = createHmac('sha1', salt).update('[10.0.0.9]:2200').digest();
    const kh = new KnownHosts([file(`|1|${salt.toString('base64')}|${hash.toString('base64')} ssh-ed25519 AAAAh\n`)]);
    expect(kh.verify('10.0.0.9', 2200, 'ssh-ed25519', 'AAAAh')).toEqual({ ok: true });
    expect(kh.verify('10.0.0.9', 22, 'ssh-ed25519', 'AAAAh')).toMatchObject({ ok: false });
  });

  it('honours wildcards and negations', () => {
    const kh = new KnownHosts([file('10.1.*,!10.1.9.9 ssh-ed25519 AAAAw\n')]);
    expect(kh.verify('10.1.2.3', 22, 'ssh-ed25519', 'AAAAw')).toEqual({ ok: true });
    expect(kh.verify('10.1.9.9', 22, 'ssh-ed25519', 'AAAAw')).toMatchObject({ ok: false, reason: 'unknown' });
  });
});
