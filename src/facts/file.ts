import { joinCmds, raw, sh, type ShellCmd } from '../transport/shell.js';
import { bytesToText, textToBytes } from './byte-text.js';
import type { ExecResult } from '../transport/types.js';
import { FactError } from './errors.js';

export interface FileState {
  exists: boolean;
  type?: 'file' | 'directory' | 'link' | 'other';
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  /**
   * Regular files up to MAX_CONTENT only (configuration files), decoded losslessly (byte-text.ts):
   * textToBytes(content) gives the exact bytes back. Larger files carry sha256 only, and a module
   * must refuse to edit or replace them rather than take the missing content for an empty file.
   */
  content?: string;
  /** The exact bytes, base64, for a byte-exact restore. */
  b64?: string;
  /** Files over MAX_CONTENT: their SHA-256 (hex), so an unchanged file is still recognised. */
  sha256?: string;
  linkTarget?: string;
  /**
   * When absent: the top-most missing ancestor (the path itself if its parent exists), so an undo
   * removes exactly what a create made.
   */
  missingFrom?: string;
}

/** The largest file whose previous bytes are read, journaled as its undo, and edited. */
export const MAX_CONTENT = 4 * 1024 * 1024;
const MAX = MAX_CONTENT;

/** One round trip: type, mode, owner, group, size and (small regular files) the content, (larger ones) its SHA-256. */
export function fileStateCmd(path: string): ShellCmd {
  return joinCmds([
    sh`p=${path}; if [ -L "$p" ]; then printf 'link|'; stat -c '%a|%U|%G|0' -- "$p"; readlink -- "$p"`,
    // One stat gives the line and the size it is judged by: a process start is what a probe costs on a slow host.
    // LC_ALL=C: %F is translated in other locales (LANGUAGE=de prints "reguläre Datei").
    sh`elif [ -e "$p" ]; then h=$(LC_ALL=C stat -c '%F|%a|%U|%G|%s' -- "$p") && printf '%s\n' "$h"`,
    sh`  if [ -f "$p" ] && [ "\${h##*|}" -le ${MAX} ]; then base64 -w0 -- "$p"; echo`,
    raw(`  elif [ -f "$p" ]; then printf 'sha256 '; sha256sum < "$p" | cut -d' ' -f1; fi`),
    // The walk up to the top-most missing folder uses the shell's own string operations on the
    // normalised path (a dirname process per level cost a cold run most of its process starts), and
    // prints how many levels it climbed, not the name: a name may hold a newline.
    sh`else echo absent; a=${walkPath(path)}; n=0`,
    // It never climbs to `.` or `..`: they exist (a become user who may not search the login's home
    // would not see them, and must neither loop nor take them for folders to make and remove).
    raw(`  while [ "$a" != / ]; do case $a in */*) d=\${a%/*}; d=\${d:-/} ;; *) break ;; esac`),
    raw(`    case $d in .|..) break ;; esac; [ -e "$d" ] && break; a=$d; n=$((n+1)); done; echo "$n"; fi`),
  ]);
}

/** The path with repeated and trailing slashes dropped: then `${a%/*}` is what dirname(1) prints. */
export function walkPath(path: string): string {
  const p = path.replace(/\/+/g, '/');
  return p.length > 1 ? p.replace(/\/$/, '') : p;
}

/** The folder `levels` above a walkPath()-normalised path, as the shell walk climbs. */
function ancestor(p: string, levels: number): string {
  let a = p;
  for (let i = 0; i < levels && a !== '/'; i++) {
    const cut = a.lastIndexOf('/');
    a = cut < 0 ? '.' : cut === 0 ? '/' : a.slice(0, cut);
  }
  return a;
}

export function parseFileState(r: ExecResult, path: string): FileState {
  if (r.code !== 0) throw new FactError(`cannot read the state of ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const lines = r.stdout.split('\n');
  const head = lines[0] ?? '';
  if (head === 'absent') {
    const levels = Number(lines[1]);
    // An answer that is not a count names no folder: nothing above the path is counted as made here.
    return Number.isSafeInteger(levels) && levels > 0
      ? { exists: false, missingFrom: ancestor(walkPath(path), levels) }
      : { exists: false };
  }
  const [ftype, mode, owner, group, size] = head.split('|');
  const type =
    ftype === 'link' ? 'link' : ftype?.startsWith('regular') ? 'file' : ftype === 'directory' ? 'directory' : 'other';
  const st: FileState = { exists: true, type, mode: (mode ?? '').padStart(4, '0'), owner, group, size: Number(size) };
  if (type === 'link') st.linkTarget = lines[1] ?? '';
  else if (type === 'file' && lines[1]?.startsWith('sha256 ')) st.sha256 = lines[1].slice(7);
  else if (type === 'file' && lines[1] !== undefined && lines.length > 2) {
    st.b64 = lines[1];
    st.content = bytesToText(Buffer.from(lines[1], 'base64'));
  }
  return st;
}

/**
 * The exact bytes of a regular file as observed, or undefined when they were not read
 * (absent, not a file, too big).
 */
export function observedBytes(st: FileState): Buffer | undefined {
  if (st.type !== 'file') return undefined;
  if (st.b64 !== undefined) return Buffer.from(st.b64, 'base64');
  return st.content !== undefined ? textToBytes(st.content) : undefined;
}

/** Why a module cannot edit or replace this regular file with an exact undo, or undefined when it can. */
export function uncapturedReason(path: string, st: FileState): string | undefined {
  if (!st.exists || st.type !== 'file' || observedBytes(st) !== undefined) return undefined;
  const size = st.size !== undefined && Number.isFinite(st.size) ? `${st.size} bytes` : 'too big to read';
  return (
    `${path} is ${size}, over the ${MAX_CONTENT / 1048576} MiB lvsrun reads, edits and keeps as an undo; ` +
    'refusing to change it (nothing was changed)'
  );
}
