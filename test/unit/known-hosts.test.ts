import { createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KnownHosts, KnownHostsCache, MAX_KNOWN_HOSTS_BYTES } from '../../src/transport/known-hosts.js';

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

  describe('one parse shared by every connection of a run', () => {
    it('sees a key added by hand and a line removed by a rename (ssh-keygen -R) after the first lookup', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n');
      const cache = new KnownHostsCache();
      expect(new KnownHosts([f], cache).verify('lb2', 22, 'ssh-ed25519', 'AAAAtwo')).toMatchObject({
        reason: 'unknown',
      });
      appendFileSync(f, 'lb2 ssh-ed25519 AAAAtwo\n');
      expect(new KnownHosts([f], cache).verify('lb2', 22, 'ssh-ed25519', 'AAAAtwo')).toEqual({ ok: true });
      const g = `${f}.new`;
      writeFileSync(g, 'lb2 ssh-ed25519 AAAAtwo\n');
      renameSync(g, f);
      expect(new KnownHosts([f], cache).verify('lb1', 22, 'ssh-ed25519', 'AAAAone')).toMatchObject({
        reason: 'unknown',
      });
    });

    it('a revoked line added during the run wins over the cached plain line', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n');
      const cache = new KnownHostsCache();
      expect(new KnownHosts([f], cache).verify('lb1', 22, 'ssh-ed25519', 'AAAAone')).toEqual({ ok: true });
      appendFileSync(f, '@revoked lb1 ssh-ed25519 AAAAone\n');
      expect(new KnownHosts([f], cache).verify('lb1', 22, 'ssh-ed25519', 'AAAAone')).toMatchObject({
        reason: 'revoked',
      });
    });

    it('a key recorded on first use is seen by the next connection, and by a fresh read of the file', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n');
      const cache = new KnownHostsCache();
      new KnownHosts([f], cache).record('10.0.0.7', 2222, 'ssh-ed25519', 'AAAAnew');
      expect(new KnownHosts([f], cache).verify('10.0.0.7', 2222, 'ssh-ed25519', 'AAAAnew')).toEqual({ ok: true });
      expect(new KnownHosts([f]).lookup('10.0.0.7', 2222).map((e) => e.line)).toEqual([2]);
      expect(new KnownHosts([f], cache).lookup('10.0.0.7', 2222).map((e) => e.line)).toEqual([2]);
    });

    it('a line another process appended between two records is not lost', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n');
      const cache = new KnownHostsCache();
      new KnownHosts([f], cache).record('lb2', 22, 'ssh-ed25519', 'AAAAtwo');
      appendFileSync(f, 'lb3 ssh-ed25519 AAAAthree\n');
      new KnownHosts([f], cache).record('lb4', 22, 'ssh-ed25519', 'AAAAfour');
      const k = new KnownHosts([f], cache);
      for (const [h, key] of [
        ['lb1', 'AAAAone'],
        ['lb2', 'AAAAtwo'],
        ['lb3', 'AAAAthree'],
        ['lb4', 'AAAAfour'],
      ] as const) {
        expect(k.verify(h, 22, 'ssh-ed25519', key)).toEqual({ ok: true });
      }
    });

    it('recording into a file whose last line has no newline keeps that line whole', () => {
      const f = file('lb1 ssh-ed25519 AAAAone');
      new KnownHosts([f]).record('lb2', 22, 'ssh-ed25519', 'AAAAtwo');
      expect(readFileSync(f, 'utf8')).toBe('lb1 ssh-ed25519 AAAAone\nlb2 ssh-ed25519 AAAAtwo\n');
      const k = new KnownHosts([f]);
      expect(k.verify('lb1', 22, 'ssh-ed25519', 'AAAAone')).toEqual({ ok: true });
      expect(k.verify('lb2', 22, 'ssh-ed25519', 'AAAAtwo')).toEqual({ ok: true });
    });

    it('lists every line naming a host: plain, wildcard and hashed, in file order across files', () => {
      const salt = Buffer.from('0123456789abcdef0123');
      const hash = createHmac('sha1', salt).update('lb1').digest('base64');
      const a = file(
        `lb*,!lb9 ssh-rsa AAAAw\nlb1,lb1 ssh-ed25519 cHJvdG8=\n|1|${salt.toString('base64')}|${hash} ecdsa-sha2-nistp256 AAAAh\nlb1 ssh-dss AAAAq\n`,
      );
      const b = file('lb1 ssh-ed25519 AAAAb\n');
      const got = new KnownHosts([a, b], new KnownHostsCache()).lookup('LB1', 22).map((e) => `${e.line}:${e.keyType}`);
      expect(got).toEqual(['1:ssh-rsa', '2:ssh-ed25519', '3:ecdsa-sha2-nistp256', '4:ssh-dss', '1:ssh-ed25519']);
    });

    it('binary, NUL and invalid UTF-8 lines are skipped; the lines around them still count', () => {
      const f = join(dir, `kh-bin-${Math.random()}`);
      writeFileSync(
        f,
        Buffer.concat([
          Buffer.from('lb1 ssh-ed25519 AAAAone\n'),
          Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x00, 0x20, 0x00, 0x0a]),
          Buffer.from('{{x}} ssh-ed25519 AAAAbrace\nlb2 ssh-ed25519 AAAAtwo\n'),
        ]),
      );
      const k = new KnownHosts([f], new KnownHostsCache());
      expect(k.verify('lb1', 22, 'ssh-ed25519', 'AAAAone')).toEqual({ ok: true });
      expect(k.verify('lb2', 22, 'ssh-ed25519', 'AAAAtwo')).toEqual({ ok: true });
      expect(k.lookup('lb2', 22).map((e) => e.line)).toEqual([5]);
      expect(k.verify('{{x}}', 22, 'ssh-ed25519', 'AAAAbrace')).toEqual({ ok: true });
    });

    it('host names that are object property names are only names', () => {
      const f = file('__proto__ ssh-ed25519 cHJvdG8=\nconstructor ssh-ed25519 Y29uc3Q=\n');
      const k = new KnownHosts([f], new KnownHostsCache());
      expect(k.verify('__proto__', 22, 'ssh-ed25519', 'cHJvdG8=')).toEqual({ ok: true });
      expect(k.verify('constructor', 22, 'ssh-ed25519', 'cHJvdG8=')).toMatchObject({ reason: 'changed' });
      expect(k.verify('toString', 22, 'ssh-ed25519', 'cHJvdG8=')).toMatchObject({ reason: 'unknown' });
      expect(k.verify('hasOwnProperty', 22, 'ssh-ed25519', 'cHJvdG8=')).toMatchObject({ reason: 'unknown' });
    });

    it('reads a settled file once for many connections, and again when it changes', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n');
      const cache = new KnownHostsCache(0); // trusts the signature however recent the change
      for (let i = 0; i < 50; i++) {
        expect(new KnownHosts([f], cache).verify('lb1', 22, 'ssh-ed25519', 'AAAAone')).toEqual({ ok: true });
      }
      expect(cache.parses).toBe(1);
      appendFileSync(f, '@revoked lb1 ssh-ed25519 AAAAone\n');
      expect(new KnownHosts([f], cache).verify('lb1', 22, 'ssh-ed25519', 'AAAAone')).toMatchObject({
        reason: 'revoked',
      });
      expect(cache.parses).toBe(2);
    });

    it('reads a file changed within the last two seconds again at each lookup (a same-size edit in the same clock tick), parsing it only when its bytes changed', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n');
      const cache = new KnownHostsCache();
      for (let i = 0; i < 3; i++) new KnownHosts([f], cache).lookup('lb1', 22);
      expect(cache.parses).toBe(1);
      writeFileSync(f, 'lb1 ssh-ed25519 AAAAtwo\n');
      expect(new KnownHosts([f], cache).verify('lb1', 22, 'ssh-ed25519', 'AAAAtwo')).toEqual({ ok: true });
      expect(cache.parses).toBe(2);
    });

    it('keys recorded on first use are indexed without reading the file again, at the line they have in it', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n# a comment\n\n');
      const cache = new KnownHostsCache(0); // trusts the signature however recent the change
      for (let i = 2; i < 12; i++)
        expect(new KnownHosts([f], cache).record(`lb${i}`, 22, 'ssh-ed25519', `AAAAk${i}`)).toBe(true);
      expect(cache.parses).toBe(1);
      const cached = new KnownHosts([f], cache).lookup('lb5', 22).map((e) => e.line);
      expect(cached).toEqual([7]);
      expect(new KnownHosts([f]).lookup('lb5', 22).map((e) => e.line)).toEqual(cached);
      expect(execFileSync('ssh-keygen', ['-F', 'lb5', '-f', f], { encoding: 'utf8' })).toContain('found: line 7');
    });

    it('never records a host name that would read back as a pattern or extra fields', () => {
      const f = file('lb1 ssh-ed25519 AAAAone\n');
      const k = new KnownHosts([f]);
      const bad = ['x,*', '*', 'a?', '!a', 'a b', 'a\tb', 'a\nb', '', '-oProxy', '#x', '@revoked'];
      for (const name of [...bad, 'a"b', "a'b", '{{x}}', 'a\0b', 'a\rb', '\u00e9t\u00e9']) {
        expect(k.record(name, 22, 'ssh-ed25519', 'AAAAbad')).toBe(false);
      }
      expect(k.record('lb2', 22, 'ssh-ed25519 x', 'AAAAbad')).toBe(false);
      expect(k.record('lb2', 22, 'ssh-ed25519', 'AAAA\0bad')).toBe(false);
      expect(k.record('lb2', 22, 'ssh-ed25519', 'AAAA bad\n* ssh-ed25519 AAAAx')).toBe(false);
      expect(readFileSync(f, 'utf8')).toBe('lb1 ssh-ed25519 AAAAone\n');
      expect(k.record('fe80::1%eth0', 22, 'ssh-ed25519', 'AAAA+/=')).toBe(true);
    });

    it('refuses a FIFO, a directory, a path under a file and an oversized file, naming the file, without blocking', () => {
      const fifo = join(dir, `fifo-${Math.random()}`);
      execFileSync('mkfifo', [fifo]);
      const sub = join(dir, `d-${Math.random()}`);
      mkdirSync(sub);
      const big = file('');
      truncateSync(big, MAX_KNOWN_HOSTS_BYTES + 1);
      const plain = file('lb1 ssh-ed25519 AAAAone\n');
      for (const [f, why] of [
        [fifo, /not a regular file/],
        [sub, /not a regular file/],
        [join(plain, 'x'), /ENOTDIR/],
        [big, /over the \d+-byte limit/],
      ] as const) {
        const err = (() => {
          try {
            new KnownHosts([f]).lookup('lb1', 22);
          } catch (e) {
            return e as { code?: string; message: string };
          }
          return undefined;
        })();
        expect(err?.code).toBe('E_HOSTKEY');
        expect(err?.message).toContain(f);
        expect(err?.message).toMatch(why);
      }
    });
  });
});
