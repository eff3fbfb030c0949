import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** What a line's `@marker` says about its key (OpenSSH sshd(8), SSH_KNOWN_HOSTS FILE FORMAT). */
export type Marker = 'key' | 'revoked' | 'cert-authority';

/** A parsed known_hosts entry (plain or hashed hostnames). */
export interface Entry {
  file: string;
  line: number;
  marker: Marker;
  /** Lowercased host patterns, `!` negations included. */
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: string;
}

export type HostKeyVerdict = { ok: true } | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; known: string[] };

/** OpenSSH writes `[host]:port` for non-22 ports, and compares host names in lower case. */
export function hostToken(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

const MARKERS: Record<string, Marker> = { '@revoked': 'revoked', '@cert-authority': 'cert-authority' };

export function parseKnownHosts(text: string, file = ''): Entry[] {
  const out: Entry[] = [];
  text.split('\n').forEach((raw, i) => {
    const t = raw.trim();
    if (!t || t.startsWith('#')) return;
    const parts = t.split(/\s+/);
    let marker: Marker = 'key';
    if (parts[0]?.startsWith('@')) {
      // OpenSSH skips a line whose marker it does not know; trusting it would widen trust.
      const m = MARKERS[parts[0]];
      if (!m) return;
      marker = m;
      parts.shift();
    }
    const [hosts, keyType, key] = parts;
    if (!hosts || !keyType || !key) return;
    const base = { file, line: i + 1, marker, keyType, key };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      const h = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
      out.push({ ...base, patterns: [], hashed: h });
    } else {
      out.push({ ...base, patterns: hosts.toLowerCase().split(',') });
    }
  });
  return out;
}

/** OpenSSH's wildcard match (`*` any run, `?` one character), linear time: no regular expression. */
export function globMatch(pattern: string, s: string): boolean {
  let p = 0;
  let i = 0;
  let star = -1;
  let mark = 0;
  while (i < s.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === s[i])) {
      p++;
      i++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = i;
    } else if (star >= 0) {
      p = star + 1;
      i = ++mark;
    } else return false;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Does the entry name this `host` or `[host]:port` token (already lowercased)? A matching `!pattern` vetoes. */
function matches(e: Entry, token: string): boolean {
  if (e.hashed) {
    const h = createHmac('sha1', e.hashed.salt).update(token).digest();
    return h.equals(e.hashed.hash);
  }
  let hit = false;
  for (const p of e.patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), token)) return false;
    } else if (globMatch(p, token)) hit = true;
  }
  return hit;
}

/** The same key bytes, however the base64 was written. */
function sameKey(a: string, b: string): boolean {
  return a === b || Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
}

export class KnownHosts {
  private readonly entries: Entry[];
  constructor(private readonly files: string[]) {
    this.entries = files.filter((f) => existsSync(f)).flatMap((f) => parseKnownHosts(readFileSync(f, 'utf8'), f));
  }

  /** Every entry that names this host, in file order (as `ssh-keygen -F` lists them). */
  lookup(host: string, port: number): Entry[] {
    const tok = hostToken(host, port);
    return this.entries.filter((e) => matches(e, tok));
  }

  /** Key types known for this host, to offer them first during key exchange. */
  keyTypes(host: string, port: number): string[] {
    return [
      ...new Set(
        this.lookup(host, port)
          .filter((e) => e.marker === 'key')
          .map((e) => e.keyType),
      ),
    ];
  }

  /**
   * A key is trusted only if a plain entry for this host holds it and no `@revoked` entry does.
   * `@cert-authority` entries vouch for certificates, which lvsrun does not use: they trust nothing.
   */
  verify(host: string, port: number, keyType: string, keyBase64: string): HostKeyVerdict {
    const mine = this.lookup(host, port);
    const plain = mine.filter((e) => e.marker === 'key');
    const known = plain.map((e) => e.keyType);
    const revoked = mine.some((e) => e.marker === 'revoked' && sameKey(e.key, keyBase64));
    if (revoked) return { ok: false, reason: 'revoked', known };
    if (plain.some((e) => e.keyType === keyType && sameKey(e.key, keyBase64))) return { ok: true };
    return { ok: false, reason: known.length ? 'changed' : 'unknown', known };
  }

  /** Trust on first use: record the key in the first (user) known_hosts file. */
  record(host: string, port: number, keyType: string, keyBase64: string): void {
    const file = this.files[0];
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const tok = hostToken(host, port);
    appendFileSync(file, `${tok} ${keyType} ${keyBase64}\n`, { mode: 0o600 });
    this.entries.push({ file, line: 0, marker: 'key', patterns: [tok], keyType, key: keyBase64 });
  }
}

/** The key type is the first length-prefixed string of the SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}
