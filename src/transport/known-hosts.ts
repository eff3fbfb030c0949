import { createHmac } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  type Stats,
} from 'node:fs';
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

/** One file's entries, indexed: plain host names by name, everything else tried one by one. */
interface FileIndex {
  /** Entries whose every pattern is a plain name, listed under each of those names. */
  byName: Map<string, Entry[]>;
  /** Hashed, wildcard and negated entries: each is matched against the host. */
  scan: Entry[];
  /** The highest line number, so a recorded key sorts after the file's own lines. */
  lastLine: number;
}

const isPlain = (e: Entry): boolean => !e.hashed && e.patterns.every((p) => !/[*?!]/.test(p));

function addEntry(idx: FileIndex, e: Entry): void {
  idx.lastLine = Math.max(idx.lastLine, e.line);
  if (!isPlain(e)) {
    idx.scan.push(e);
    return;
  }
  for (const p of new Set(e.patterns)) {
    const list = idx.byName.get(p);
    if (list) list.push(e);
    else idx.byName.set(p, [e]);
  }
}

/** One version of a file: a rewrite (ssh-keygen -R renames a new file in) or any write changes it. */
const signature = (s: Stats): string => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;

/**
 * known_hosts files parsed once and shared by every connection of a run. Parsing per connection
 * cost N connections times N lines: 2.9 s of CPU at 1000 hosts. Each lookup checks the file's
 * identity first, so an edit during the run (ssh-keygen -R, a line added by hand) is seen by the
 * next connection, as a new ssh process would see it.
 */
export class KnownHostsCache {
  private readonly files = new Map<string, { sig: string; size: number; idx: FileIndex }>();

  /** The file's entries, or undefined when it does not exist. */
  index(file: string): FileIndex | undefined {
    let st: Stats;
    try {
      st = statSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.files.delete(file);
      return undefined;
    }
    const sig = signature(st);
    const have = this.files.get(file);
    if (have?.sig === sig) return have.idx;
    const idx: FileIndex = { byName: new Map(), scan: [], lastLine: 0 };
    for (const e of parseKnownHosts(readFileSync(file, 'utf8'), file)) addEntry(idx, e);
    // The signature is taken before the read: a write in between leaves it stale, and the next lookup reads again.
    this.files.set(file, { sig, size: st.size, idx });
    return idx;
  }

  /** Append one line; index it without reading the file again unless someone else wrote to it too. */
  append(file: string, line: string, entry: Omit<Entry, 'file' | 'line'>): void {
    this.index(file);
    const before = this.files.get(file);
    mkdirSync(dirname(file), { recursive: true });
    // A last line without its newline would run into ours and change that line's key.
    const text = before && before.size > 0 && !endsWithNewline(file) ? `\n${line}` : line;
    appendFileSync(file, text, { mode: 0o600 });
    const st = statSync(file);
    if (before && st.size === before.size + Buffer.byteLength(text)) {
      addEntry(before.idx, { ...entry, file, line: before.idx.lastLine + 1 });
      before.sig = signature(st);
      before.size = st.size;
    } else this.files.delete(file);
  }
}

function endsWithNewline(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const b = Buffer.alloc(1);
    return size === 0 || (readSync(fd, b, 0, 1, size - 1) === 1 && b[0] === 0x0a);
  } finally {
    closeSync(fd);
  }
}

export class KnownHosts {
  constructor(
    private readonly files: string[],
    private readonly cache = new KnownHostsCache(),
  ) {}

  /** Every entry that names this host, in file order (as `ssh-keygen -F` lists them). */
  lookup(host: string, port: number): Entry[] {
    const tok = hostToken(host, port);
    const out: Entry[] = [];
    for (const f of this.files) {
      const idx = this.cache.index(f);
      if (!idx) continue;
      const hits = [...(idx.byName.get(tok) ?? []), ...idx.scan.filter((e) => matches(e, tok))];
      out.push(...hits.sort((a, b) => a.line - b.line));
    }
    return out;
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
    const tok = hostToken(host, port);
    const entry = { marker: 'key' as const, patterns: [tok], keyType, key: keyBase64 };
    this.cache.append(file, `${tok} ${keyType} ${keyBase64}\n`, entry);
  }
}

/** The key type is the first length-prefixed string of the SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}
