import { sh, type ShellCmd } from '../transport/shell.js';
import type { ExecResult } from '../transport/types.js';
import { FactError } from './errors.js';

export interface FileState {
  exists: boolean;
  type?: 'file' | 'directory' | 'link' | 'other';
  mode?: string;
  owner?: string;
  group?: string;
  size?: number;
  /** Regular files up to 4 MiB only (configuration files); larger ones carry sha only. */
  content?: string;
  /** The exact bytes, base64, for a byte-exact restore. */
  b64?: string;
  linkTarget?: string;
  /** When absent: the top-most missing ancestor (the path itself if its parent exists), so an undo removes exactly what a create made. */
  missingFrom?: string;
}

const MAX = 4 * 1024 * 1024;

/** One round trip: type, mode, owner, group, size and (for small regular files) the content. */
export function fileStateCmd(path: string, withContent = true): ShellCmd {
  return sh`p=${path}; if [ -L "$p" ]; then printf 'link|'; stat -c '%a|%U|%G|0' -- "$p"; readlink -- "$p"; elif [ -e "$p" ]; then stat -c '%F|%a|%U|%G|%s' -- "$p"; if [ ${withContent ? 1 : 0} = 1 ] && [ -f "$p" ] && [ "$(stat -c %s -- "$p")" -le ${MAX} ]; then base64 -w0 -- "$p"; echo; fi; else echo absent; a=$p; while [ "$a" != / ] && [ ! -e "$(dirname -- "$a")" ]; do a=$(dirname -- "$a"); done; printf '%s\n' "$a"; fi`;
}

export function parseFileState(r: ExecResult, path: string): FileState {
  if (r.code !== 0) throw new FactError(`cannot read the state of ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
  const lines = r.stdout.split('\n');
  const head = lines[0] ?? '';
  if (head === 'absent') return lines[1] && lines[1] !== path ? { exists: false, missingFrom: lines[1] } : { exists: false };
  const [ftype, mode, owner, group, size] = head.split('|');
  const type = ftype === 'link' ? 'link' : ftype?.startsWith('regular') ? 'file' : ftype === 'directory' ? 'directory' : 'other';
  const st: FileState = { exists: true, type, mode: (mode ?? '').padStart(4, '0'), owner, group, size: Number(size) };
  if (type === 'link') st.linkTarget = lines[1] ?? '';
  else if (type === 'file' && lines[1] !== undefined && lines.length > 2) {
    st.b64 = lines[1];
    st.content = Buffer.from(lines[1], 'base64').toString('utf8');
  }
  return st;
}

/** Normalise a user mode ('644', '0644', 0o644 given as 420) to four octal digits. */
export function normMode(m: string | number | undefined): string | undefined {
  if (m === undefined) return undefined;
  if (typeof m === 'number') return m.toString(8).padStart(4, '0');
  const s = m.trim();
  if (!/^0?[0-7]{3,4}$/.test(s)) return s; // symbolic modes pass through to chmod
  return s.padStart(4, '0').slice(-4);
}
