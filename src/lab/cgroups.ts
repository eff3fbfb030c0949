import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Cgroups of a lab host that runs systemd as PID 1. Each host gets its own folder in every cgroup
 * hierarchy of the machine (below the cgroup lvsrun itself runs in) and a cgroup namespace rooted
 * there, so the systemd of one host never sees or touches another host's units, nor the machine's.
 */
const GROUP = 'lvsrun-lab';

interface Hierarchy {
  mount: string;
  /** Controllers or `name=...` options (v1), empty for cgroup2. */
  opts: string[];
}

function hierarchies(): Hierarchy[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[4] !== undefined && f[3] === '/')
    .flatMap((f) => {
      const dash = f.indexOf('-');
      const fstype = f[dash + 1];
      if (fstype === 'cgroup2') return [{ mount: f[4]!, opts: [] }];
      if (fstype !== 'cgroup') return [];
      return [{ mount: f[4]!, opts: (f[dash + 3] ?? '').split(',').filter((o) => o !== 'rw' && o !== 'ro') }];
    });
}

/**
 * The folder of this process's cgroup in each hierarchy, as `/proc/self/cgroup` names it. cpuset is
 * left out: a new cpuset cgroup has no CPUs until it is given some, and systemd does not use it on v1.
 */
function ownCgroups(): string[] {
  const hs = hierarchies();
  return readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      const [, ctrl = '', path = '/'] = /^(?:\d+):([^:]*):(.*)$/.exec(l) ?? [];
      const names = ctrl.split(',').filter(Boolean);
      if (names.includes('cpuset')) return [];
      const h = hs.find((x) =>
        names.length ? names.every((n) => x.opts.includes(n)) : x.opts.length === 0 && ctrl === '',
      );
      return h ? [join(h.mount, path)] : [];
    });
}

/** Make a host's cgroup folders (one per hierarchy); its init joins them before it unshares the cgroup namespace. */
export function makeHostCgroups(host: string): string[] {
  return ownCgroups().map((d) => {
    const dir = join(d, GROUP, host);
    mkdirSync(dir, { recursive: true });
    return dir;
  });
}

/** Whether this machine has a cgroup hierarchy systemd can run in (v1 `name=systemd`, or cgroup2). */
export function systemdCgroupsAvailable(): boolean {
  return hierarchies().some((h) => h.opts.includes('name=systemd') || h.opts.length === 0);
}

/** Remove folders depth-first; a cgroup folder goes only once its processes are gone. False: some remain. */
function removeTree(dir: string): boolean {
  let ok = true;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) ok = removeTree(join(dir, e.name)) && ok;
  }
  try {
    rmdirSync(dir);
    return ok;
  } catch {
    return false; // still busy: the caller tries again
  }
}

/**
 * Remove every lab cgroup folder, found by name even without the lab's state: the lab's folder right
 * under a hierarchy's root or up to two levels below (where lvsrun ran when it made them).
 */
export function removeLabCgroups(): boolean {
  let ok = true;
  for (const h of hierarchies()) {
    const look = (dir: string, depth: number): void => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        if (e.name === GROUP) ok = removeTree(join(dir, e.name)) && ok;
        else if (depth < 2) look(join(dir, e.name), depth + 1);
      }
    };
    if (existsSync(h.mount)) look(h.mount, 0);
  }
  return ok;
}
