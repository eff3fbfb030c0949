import { hostname, userInfo } from 'node:os';
import { LvsrunError } from '../errors.js';
import { nest, raw, sh, type ShellCmd } from '../transport/shell.js';
import type { TemplateEngine } from '../template/render.js';
import type { Held, Transport } from '../transport/types.js';

export const DEFAULT_LOCK_FILE = '/run/lvsrun.lock';

export interface LockInfo {
  run: string;
  operator: string;
  since: string;
  pid?: number;
}

export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return `${user}@${hostname()}`;
}

/** Where the lock goes when the directory of the configured file is missing or not writable. */
export const FALLBACK_LOCK_FILE = '/tmp/lvsrun.lock';

/**
 * One lvsrun at a time per host: flock(1) on a file on the host, held by a process of this
 * run's SSH session (`cat` waiting on the channel). When the session ends for any reason,
 * including lvsrun being killed, cat sees EOF and the kernel drops the lock.
 *
 * The file may sit in a directory others can write to (the /tmp fallback), so it is never opened
 * through a symlink: it is created with noclobber (O_EXCL), and an existing one must be a plain
 * file with one link, owned by the login user (in a sticky directory no one else can then swap
 * it). It is opened read-write without truncation; the holder's record is its first line. A lock
 * whose record names this run and operator is this run's own (one machine under two inventory
 * names): the second session answers OWN and goes on under the first one's lock. Both may start at
 * once and the holder writes its record just after taking the lock, so a busy lock's record is read
 * again for up to 2 s before it counts as another run's.
 */
export function lockCmd(
  file: string,
  info: Omit<LockInfo, 'pid'>,
  breakLock: boolean,
  fallback: string = FALLBACK_LOCK_FILE,
): ShellCmd {
  const head = JSON.stringify(info).slice(0, -1); // the pid is the holder's, added on the host
  // This run's own record starts so: two inventory names for one machine meet their own lock.
  const own = `${JSON.stringify({ run: info.run, operator: info.operator }).slice(0, -1)},`;
  const record = raw(`head -n 1 -- "$f" | head -c 600`);
  const busy = raw(`printf 'BUSY %s\\n' "$(${record})"; exit 0`);
  // --break-lock ends only a provable holder: the pid the record names must be an lvsrun holder
  // (`cat`) with this very file open on a descriptor that holds the flock (its fdinfo lists it).
  // Anything else (a stale or forged record, a kernel without lock lines in fdinfo) is reported
  // and nothing is killed.
  const onBusy = breakLock
    ? raw(`pid=$(${record} | sed -n 's/.*"pid":\\([0-9][0-9]*\\)}.*/\\1/p')
held=
if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = cat ]; then
  for x in /proc/"$pid"/fd/*; do
    [ "$x" -ef "$f" ] && grep -q '^lock:.*FLOCK' "/proc/$pid/fdinfo/\${x##*/}" 2>/dev/null && held=1
  done
fi
[ -n "$held" ] || { printf 'NOTHOLDER %s\\n' "$(${record})"; exit 0; }
kill "$pid" 2>/dev/null; flock -w 5 9 || { ${busy}; }`)
    : busy;
  return sh`f=${file}; d=$(dirname -- "$f"); [ -d "$d" ] && [ -w "$d" ] || f=${fallback}
command -v flock >/dev/null 2>&1 || { echo NOFLOCK; exec cat >/dev/null; }
(set -C; : > "$f") 2>/dev/null
if [ -L "$f" ]; then echo "ERR $f is a symbolic link: refusing to follow it"; exit 0; fi
[ -f "$f" ] || { echo "ERR $f is not a regular file"; exit 0; }
set -f; set -- $(ls -ldn -- "$f"); set +f
[ "$2" = 1 ] || { echo "ERR $f has $2 hard links: refusing it"; exit 0; }
[ "$3" = "$(id -u)" ] || { echo "ERR $f belongs to uid $3, not to the login user"; exit 0; }
exec 9<>"$f" || { echo "ERR cannot open $f"; exit 0; }
flock -n 9 || { for w in 0 1 2; do
  case "$(${nest(record)})" in ${own}*) echo OWN; exec cat >/dev/null;; esac
  [ $w = 2 ] || sleep 1
done; ${nest(onBusy)}; }
printf '%s,"pid":%s}\n' ${head} "$$" >&9; echo LOCKED; exec cat >/dev/null`;
}

export interface HostLock {
  release(): void;
  warning?: string;
}

export async function acquireLock(
  t: Transport,
  file: string,
  info: Omit<LockInfo, 'pid'>,
  breakLock: boolean,
): Promise<HostLock> {
  if (!t.hold) return { release: () => undefined, warning: 'this transport cannot hold a lock' };
  const held: Held = await t.hold(lockCmd(file, info, breakLock));
  const line = held.line.trim();
  if (line === 'LOCKED') return { release: () => held.release() };
  // Held by this very run through another inventory name of the same machine: that session holds it.
  if (line === 'OWN') return { release: () => held.release() };
  if (line === 'NOFLOCK') {
    return { release: () => held.release(), warning: 'flock(1) is not installed on the host: no lock taken' };
  }
  held.release();
  if (line.startsWith('NOTHOLDER')) {
    const who = holderOf(line.slice(10));
    throw new LvsrunError(
      'E_LOCKED',
      `${t.host} is locked, and --break-lock cannot prove that the process the lock ` +
        `file names${who.pid ? ` (pid ${who.pid})` : ''} holds it: nothing was killed`,
      {
        hint: 'the lock file may be stale or forged; find the holder on the host (lslocks) and end it by hand',
      },
    );
  }
  if (line.startsWith('BUSY')) {
    const who = holderOf(line.slice(5));
    const since = who.since ? ` since ${who.since}` : '';
    const pid = who.pid ? ` (holder pid ${who.pid} on the host)` : '';
    const by = `run ${who.run ?? '?'} of ${who.operator ?? 'an unknown operator'}`;
    throw new LvsrunError('E_LOCKED', `${t.host} is locked by ${by}${since}${pid}`, {
      hint: 'wait for that run to finish; if it is gone for sure, pass --break-lock',
    });
  }
  throw new LvsrunError('E_LOCKED', `${t.host}: cannot take the lvsrun lock: ${printable(line) || 'no answer'}`);
}

/** Text from the host shown to the operator: no control characters (terminal escapes), bounded. */
function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 300);
}

/** The holder's record as the host printed it; anything unreadable or mistyped is left out. */
function holderOf(text: string): Partial<LockInfo> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return {};
  }
  if (!v || typeof v !== 'object') return {};
  const r = v as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof r[k] === 'string' ? printable(r[k]) : undefined);
  const run = str('run');
  const operator = str('operator');
  const since = str('since');
  return {
    ...(run ? { run } : {}),
    ...(operator ? { operator } : {}),
    ...(since ? { since } : {}),
    ...(Number.isSafeInteger(r.pid) ? { pid: r.pid as number } : {}),
  };
}

/** Take the lock for a run on a host: the file is `lvsrun_lock_file` (a template) or the default. */
export function lockHost(
  t: Transport,
  vars: Record<string, unknown>,
  templates: TemplateEngine,
  run: string,
  operator: string,
  breakLock: boolean,
): Promise<HostLock> {
  return acquireLock(t, lockFileOf(vars, templates), { run, operator, since: new Date().toISOString() }, breakLock);
}

/** The lock file for a host: `lvsrun_lock_file` rendered with its variables, or the default. */
export function lockFileOf(vars: Record<string, unknown>, templates: TemplateEngine): string {
  return templates.renderString(String(vars.lvsrun_lock_file ?? DEFAULT_LOCK_FILE), vars, {
    field: 'lvsrun_lock_file',
  });
}
