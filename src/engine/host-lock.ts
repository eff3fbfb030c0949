import { hostname, userInfo } from 'node:os';
import { LvsrunError } from '../errors.js';
import { nest, raw, sh, type ShellCmd } from '../transport/shell.js';
import type { TemplateEngine } from '../template/render.js';
import type { Held, Transport } from '../transport/types.js';

export const DEFAULT_LOCK_FILE = '/run/lvsrun.lock';

export interface LockInfo { run: string; operator: string; since: string; pid?: number }

export function operatorName(): string {
  let user = 'unknown';
  try { user = userInfo().username; } catch { /* no passwd entry */ }
  return `${user}@${hostname()}`;
}

/**
 * One lvsrun at a time per host: flock(1) on a file on the host, held by a process of this
 * run's SSH session (`cat` waiting on the channel). When the session ends for any reason,
 * including lvsrun being killed, cat sees EOF and the kernel drops the lock.
 */
export function lockCmd(file: string, info: Omit<LockInfo, 'pid'>, breakLock: boolean): ShellCmd {
  const head = JSON.stringify(info).slice(0, -1); // the pid is the holder's, added on the host
  const busy = raw(`printf 'BUSY %s\\n' "$(head -c 600 "$f")"; exit 0`);
  // --break-lock: end the holder (its pid is in the file), then wait briefly for the kernel to drop its lock.
  const onBusy = breakLock ? raw(`pid=$(sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p' "$f"); [ -n "$pid" ] && kill "$pid" 2>/dev/null; flock -w 5 9 || { ${busy}; }`) : busy;
  return sh`f=${file}; d=$(dirname -- "$f"); [ -d "$d" ] && [ -w "$d" ] || f=/tmp/lvsrun.lock
command -v flock >/dev/null 2>&1 || { echo NOFLOCK; exec cat >/dev/null; }
exec 9>>"$f" || { echo "ERR cannot open $f"; exit 0; }
flock -n 9 || { ${nest(onBusy)}; }
printf '%s,"pid":%s}\\n' ${head} "$$" > "$f"; echo LOCKED; exec cat >/dev/null`;
}

export interface HostLock { release(): void; warning?: string }

export async function acquireLock(t: Transport, file: string, info: Omit<LockInfo, 'pid'>, breakLock: boolean): Promise<HostLock> {
  if (!t.hold) return { release: () => undefined, warning: 'this transport cannot hold a lock' };
  const held: Held = await t.hold(lockCmd(file, info, breakLock));
  const line = held.line.trim();
  if (line === 'LOCKED') return { release: () => held.release() };
  if (line === 'NOFLOCK') return { release: () => held.release(), warning: 'flock(1) is not installed on the host: no lock taken' };
  held.release();
  if (line.startsWith('BUSY')) {
    let who: Partial<LockInfo> = {};
    try { who = JSON.parse(line.slice(5)) as LockInfo; } catch { /* unreadable holder */ }
    throw new LvsrunError('E_LOCKED', `${t.host} is locked by run ${who.run ?? '?'} of ${who.operator ?? 'an unknown operator'}${who.since ? ` since ${who.since}` : ''}${who.pid ? ` (holder pid ${who.pid} on the host)` : ''}`, {
      hint: 'wait for that run to finish; if it is gone for sure, pass --break-lock' });
  }
  throw new LvsrunError('E_LOCKED', `${t.host}: cannot take the lvsrun lock: ${line || 'no answer'}`);
}

/** Take the lock for a run on a host: the file is `lvsrun_lock_file` (a template) or the default. */
export function lockHost(t: Transport, vars: Record<string, unknown>, templates: TemplateEngine, run: string, operator: string, breakLock: boolean): Promise<HostLock> {
  const file = templates.renderString(String(vars.lvsrun_lock_file ?? DEFAULT_LOCK_FILE), vars, { field: 'lvsrun_lock_file' });
  return acquireLock(t, file, { run, operator, since: new Date().toISOString() }, breakLock);
}
