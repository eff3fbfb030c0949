import { createHmac } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { TransportError } from '../errors.js';

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
  /** The file's line count, so a recorded key gets the line number it has in the file. */
  lines: number;
}

const isPlain = (e: Entry): boolean => !e.hashed && e.patterns.every((p) => !/[*?!]/.test(p));

function addEntry(idx: FileIndex, e: Entry): void {
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

/** A known_hosts file larger than this is refused: the largest fleets' files are a few MiB. */
export const MAX_KNOWN_HOSTS_BYTES = 64 * 1024 * 1024;

/**
 * A file whose last change is this recent may change again within the same timestamp tick, which
 * the signature cannot see (git's "racy clean" problem): it is read again at the next lookup.
 */
const RACY_MS = 2000;

/** One version of a file: a rewrite (ssh-keygen -R renames a new file in) or any write changes it. */
const signature = (s: Stats): string => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
const sameFile = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino;

function unreadable(file: string, why: string): TransportError {
  return new TransportError(`cannot use known_hosts file ${file}: ${why}`, {
    code: 'E_HOSTKEY',
    hint: 'host keys are checked against it: make it a readable regular file, or list another with lvsrun_known_hosts',
  });
}

interface Cached {
  st: Stats;
  racy: boolean;
  /** The bytes parsed: a file read again with the same bytes is not parsed again. */
  text: string;
  idx: FileIndex;
}

/**
 * known_hosts files parsed once and shared by every connection of a run. Parsing per connection
 * cost N connections times N lines: 2.9 s of CPU at 1000 hosts. Each lookup checks the file's
 * identity first, so an edit during the run (ssh-keygen -R, a line added by hand) is seen by the
 * next connection, as a new ssh process would see it.
 */
export class KnownHostsCache {
  private readonly files = new Map<string, Cached>();
  private parsedCount = 0;
  /** `racyMs`: how recent a change makes a file be read again at each lookup (tests shorten it). */
  constructor(private readonly racyMs = RACY_MS) {}

  /** How many times a file was parsed (the sharing this cache exists for). */
  get parses(): number {
    return this.parsedCount;
  }

  /** The file's entries, or undefined when it does not exist (OpenSSH skips a missing file too). */
  index(file: string): FileIndex | undefined {
    let st: Stats;
    try {
      st = statSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw unreadable(file, code ?? String(e));
      this.files.delete(file);
      return undefined;
    }
    const have = this.files.get(file);
    if (have && !have.racy && signature(have.st) === signature(st)) return have.idx;
    const { text, st: read } = readRegular(file);
    const racy = Date.now() - Math.max(read.mtimeMs, read.ctimeMs) < this.racyMs;
    if (have?.text === text) {
      Object.assign(have, { st: read, racy });
      return have.idx;
    }
    this.parsedCount += 1;
    const idx: FileIndex = { byName: new Map(), scan: [], lines: lineCount(text) };
    for (const e of parseKnownHosts(text, file)) addEntry(idx, e);
    this.files.set(file, { st: read, racy, text, idx });
    return idx;
  }

  /**
   * Append one line; index it without reading the file again when the file grew by exactly that
   * line (no one else wrote to it meanwhile), so recording N new hosts stays linear.
   */
  append(file: string, line: string, entry: Omit<Entry, 'file' | 'line'>): void {
    this.index(file);
    const before = this.files.get(file);
    mkdirSync(dirname(file), { recursive: true });
    // A last line without its newline would run into ours and change that line's key. The bytes
    // just indexed are the file's: index() read them again unless its signature was unchanged.
    const text = before?.text && !before.text.endsWith('\n') ? `\n${line}` : line;
    appendFileSync(file, text, { mode: 0o600 });
    const st = statSync(file);
    if (before && sameFile(st, before.st) && st.size === before.st.size + Buffer.byteLength(text)) {
      before.idx.lines += 1;
      addEntry(before.idx, { ...entry, file, line: before.idx.lines });
      Object.assign(before, { st, racy: false, text: before.text + text });
    } else this.files.delete(file);
  }
}

/** Read a regular file of bounded size; a FIFO or device would block or never end. */
function readRegular(file: string): { text: string; st: Stats } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw unreadable(file, (e as NodeJS.ErrnoException).code ?? String(e));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw unreadable(file, 'not a regular file');
    if (st.size > MAX_KNOWN_HOSTS_BYTES) {
      throw unreadable(file, `${st.size} bytes, over the ${MAX_KNOWN_HOSTS_BYTES}-byte limit`);
    }
    return { text: readFileSync(fd, 'utf8'), st };
  } finally {
    closeSync(fd);
  }
}

function lineCount(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** What `record` writes as a host: never a pattern (`*`, `?`, `!`, a comma list) or a second field. */
const RECORDABLE = /^[a-z0-9_.:%-]+$/;

/**
 * One connection's view of its known_hosts files. Lookups are kept for the connection's life, as
 * when each connection parsed the files itself: offering key types and checking the key agree.
 */
export class KnownHosts {
  private readonly seen = new Map<string, Entry[]>();
  constructor(
    private readonly files: string[],
    private readonly cache = new KnownHostsCache(),
  ) {}

  /** Every entry that names this host, in file order (as `ssh-keygen -F` lists them). */
  lookup(host: string, port: number): Entry[] {
    const tok = hostToken(host, port);
    const memo = this.seen.get(tok);
    if (memo) return memo;
    const out: Entry[] = [];
    for (const f of this.files) {
      const idx = this.cache.index(f);
      if (!idx) continue;
      const hits = [...(idx.byName.get(tok) ?? []), ...idx.scan.filter((e) => matches(e, tok))];
      out.push(...hits.sort((a, b) => a.line - b.line));
    }
    this.seen.set(tok, out);
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

  /**
   * Trust on first use: record the key in the first (user) known_hosts file. False when there is
   * no file, or the host name could be read back as a pattern or more fields (`a,*`, `a b`).
   */
  record(host: string, port: number, keyType: string, keyBase64: string): boolean {
    const file = this.files[0];
    const name = host.toLowerCase();
    const fields = [keyType, keyBase64];
    if (!file || !RECORDABLE.test(name) || name.startsWith('-') || fields.some((f) => !/^[\w@.+/=-]+$/.test(f))) {
      return false;
    }
    const tok = hostToken(host, port);
    const entry = { marker: 'key' as const, patterns: [tok], keyType, key: keyBase64 };
    this.cache.append(file, `${tok} ${keyType} ${keyBase64}\n`, entry);
    this.seen.delete(tok);
    return true;
  }
}

/** The key type is the first length-prefixed string of the SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}
