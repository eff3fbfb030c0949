import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A parsed known_hosts entry (plain or hashed hostnames). */
interface Entry { patterns: string[]; hashed?: { salt: Buffer; hash: Buffer }; keyType: string; key: string; revoked: boolean }

export type HostKeyVerdict = { ok: true } | { ok: false; reason: 'unknown' | 'changed'; known: string[] };

/** OpenSSH writes `[host]:port` for non-22 ports. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function parseKnownHosts(text: string): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const parts = t.split(/\s+/);
    let revoked = false;
    if (parts[0]?.startsWith('@')) {
      if (parts[0] === '@revoked') revoked = true;
      else if (parts[0] === '@cert-authority') continue; // certificates not supported; ignore safely
      parts.shift();
    }
    const [hosts, keyType, key] = parts;
    if (!hosts || !keyType || !key) continue;
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) continue;
      out.push({ patterns: [], hashed: { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') }, keyType, key, revoked });
    } else {
      out.push({ patterns: hosts.split(','), keyType, key, revoked });
    }
  }
  return out;
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(s);
}

function matches(e: Entry, token: string): boolean {
  if (e.hashed) {
    const h = createHmac('sha1', e.hashed.salt).update(token).digest();
    return h.equals(e.hashed.hash);
  }
  let hit = false;
  for (const p of e.patterns) {
    if (p.startsWith('!')) { if (globMatch(p.slice(1), token)) return false; }
    else if (globMatch(p, token)) hit = true;
  }
  return hit;
}

export class KnownHosts {
  private readonly entries: Entry[];
  constructor(private readonly files: string[]) {
    this.entries = files.filter((f) => existsSync(f)).flatMap((f) => parseKnownHosts(readFileSync(f, 'utf8')));
  }

  /** Key types known for this host, to offer them first during key exchange. */
  keyTypes(host: string, port: number): string[] {
    const tok = hostToken(host, port);
    return [...new Set(this.entries.filter((e) => !e.revoked && matches(e, tok)).map((e) => e.keyType))];
  }

  verify(host: string, port: number, keyType: string, keyBase64: string): HostKeyVerdict {
    const tok = hostToken(host, port);
    const mine = this.entries.filter((e) => matches(e, tok));
    if (mine.some((e) => e.revoked && e.key === keyBase64)) return { ok: false, reason: 'changed', known: [] };
    if (mine.some((e) => !e.revoked && e.keyType === keyType && e.key === keyBase64)) return { ok: true };
    const known = mine.filter((e) => !e.revoked).map((e) => e.keyType);
    return { ok: false, reason: known.length ? 'changed' : 'unknown', known };
  }

  /** Trust on first use: record the key in the first (user) known_hosts file. */
  record(host: string, port: number, keyType: string, keyBase64: string): void {
    const file = this.files[0];
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${hostToken(host, port)} ${keyType} ${keyBase64}\n`, { mode: 0o600 });
    this.entries.push({ patterns: [hostToken(host, port)], keyType, key: keyBase64, revoked: false });
  }
}

/** The key type is the first length-prefixed string of the SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}
