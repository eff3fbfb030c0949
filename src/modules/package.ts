import { sh, joinCmds, type ShellCmd } from '../transport/shell.js';
import { z, aliasStep, strList } from './args.js';
import { exec, noop, type ModuleCtx, type Plan, type TaskModule } from './types.js';

/**
 * A package name as apt, dnf and yum take it (optionally =VERSION, :ARCH, a glob): never a leading
 * dash, which apt-get and dpkg-query would read as an option (`-oDPkg::Pre-Invoke::=...` runs a command).
 */
const pkgName = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9@_][A-Za-z0-9@_+.:~=*^-]*$/, 'a package name such as keepalived or nginx=1.24.0-1 (no leading -)');

const schema = z.preprocess(
  aliasStep({ pkg: 'name' }),
  z
    .object({
      name: strList.pipe(z.array(pkgName).min(1)),
      state: z
        .enum(['present', 'absent', 'latest', 'installed', 'removed'])
        .default('present')
        .transform((s) => (s === 'installed' ? 'present' : s === 'removed' ? 'absent' : s)),
      update_cache: z.boolean().optional(),
      use: z.enum(['auto', 'apt', 'dnf', 'yum']).default('auto'),
    })
    .strict(),
);
type Args = z.infer<typeof schema>;

export type PkgManager = 'apt' | 'dnf' | 'yum';
export interface PkgObserved {
  mgr: PkgManager;
  installed: Record<string, string | null>;
  upgradable: string[];
}

export async function detectPkgManager(ctx: ModuleCtx): Promise<PkgManager> {
  return ctx.fact('pkg_mgr', async () => {
    const r = await ctx.exec(
      joinCmds(
        [
          sh`if command -v apt-get >/dev/null; then echo apt; `,
          sh`elif command -v dnf >/dev/null; then echo dnf; elif command -v yum >/dev/null; then echo yum; fi`,
        ],
        '',
      ),
    );
    const m = r.stdout.trim();
    if (m !== 'apt' && m !== 'dnf' && m !== 'yum')
      throw new Error('no supported package manager (apt, dnf, yum) on this host');
    return m;
  });
}

/** One dpkg-query line per package: `Package|Architecture|Status|Version`. */
const DPKG_FORMAT = '${Package}|${Architecture}|${Status}|${Version}\\n';

/**
 * apt: one dpkg-query for every name (on a slow host a process start is the cost that counts), one
 * line per package it matches; parseDpkgQuery gives each name its own. rpm: one query per name.
 */
function queryCmd(mgr: PkgManager, names: string[]): ShellCmd {
  return mgr === 'apt'
    ? sh`dpkg-query -W -f=${DPKG_FORMAT} ${names} 2>/dev/null`
    : joinCmds(
        [
          sh`for p in ${names}; do v=$(rpm -q --qf '%{VERSION}-%{RELEASE}' "$p" 2>/dev/null) `,
          sh`&& echo "$p|$v" || echo "$p|"; done`,
        ],
        '',
      );
}

const reEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The installed version of each asked name from one dpkg-query answer, matched as dpkg-query matches
 * a name alone: NAME on any architecture, NAME:ARCH on that one, `*` as a wildcard, case aside. The
 * first matching package whose status is `install ok installed` gives the version; no such package
 * (or a NAME=VERSION, which dpkg-query never matches) is missing.
 */
export function parseDpkgQuery(stdout: string, names: string[]): Record<string, string | null> {
  const rows = stdout
    .split('\n')
    .map((l) => l.split('|'))
    .filter((f) => f.length === 4)
    .map(([name, arch, status, version]) => ({ name: name!, arch: arch!, status, version }));
  const out: Record<string, string | null> = {};
  for (const n of names) {
    const re = new RegExp(`^${n.split('*').map(reEscape).join('.*')}$`, 'i');
    const hit = rows.find(
      (r) => r.status === 'install ok installed' && re.test(n.includes(':') ? `${r.name}:${r.arch}` : r.name),
    );
    out[n] = hit?.version ? hit.version : null;
  }
  return out;
}

function installCmd(mgr: PkgManager, names: string[], latest: boolean): ShellCmd {
  if (mgr === 'apt')
    return joinCmds(
      [
        sh`DEBIAN_FRONTEND=noninteractive apt-get install -y -q ${latest ? '--only-upgrade' : '--no-upgrade'} `,
        sh`-o Dpkg::Options::=--force-confold ${names}`,
      ],
      '',
    );
  return sh`${mgr} install -y -q ${names}`;
}

function removeCmd(mgr: PkgManager, names: string[]): ShellCmd {
  return mgr === 'apt'
    ? sh`DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${names}`
    : sh`${mgr} remove -y -q ${names}`;
}

/**
 * Packages through apt, dnf or yum, chosen from the host. Undo removes what it installed and
 * reinstalls what it removed.
 */
export const pkg: TaskModule<Args, PkgObserved> = {
  name: 'package',
  schema,
  async check(ctx, p) {
    const mgr = p.use === 'auto' ? await detectPkgManager(ctx) : p.use;
    const r = await ctx.exec(queryCmd(mgr, p.name));
    const installed: Record<string, string | null> = {};
    if (mgr === 'apt') Object.assign(installed, parseDpkgQuery(r.stdout, p.name));
    else
      for (const line of r.stdout.trim().split('\n')) {
        const [n, v] = line.split('|');
        if (n) installed[n] = v ? v : null;
      }
    let upgradable: string[] = [];
    if (p.state === 'latest' && mgr === 'apt') {
      const u = await ctx.exec(sh`apt list --upgradable ${p.name} 2>/dev/null | cut -d/ -f1`);
      upgradable = u.stdout.split('\n').filter((n) => p.name.includes(n));
    }
    return { mgr, installed, upgradable };
  },
  plan(p, o): Plan {
    const missing = p.name.filter((n) => !o.installed[n]);
    const present = p.name.filter((n) => o.installed[n]);
    if (p.state === 'absent') {
      if (!present.length) return noop(`${p.name.join(', ')} absent`);
      const again = present.map((n) => (o.mgr === 'apt' ? `${n}=${o.installed[n]}` : n));
      return {
        action: 'delete',
        summary: `remove ${present.join(', ')}`,
        steps: [exec(removeCmd(o.mgr, present))],
        undo: [exec(installCmd(o.mgr, again, false))],
        diff: [{ path: 'packages', before: present.map((n) => `${n} ${o.installed[n]}\n`).join(''), after: '' }],
      };
    }
    const toInstall = p.state === 'latest' ? [...missing, ...o.upgradable] : missing;
    if (!toInstall.length) return noop(`${p.name.join(', ')} installed`);
    return {
      action: missing.length ? 'create' : 'update',
      summary: `install ${toInstall.join(', ')}`,
      steps: [
        ...(missing.length ? [exec(installCmd(o.mgr, missing, false))] : []),
        ...(o.upgradable.length ? [exec(installCmd(o.mgr, o.upgradable, true))] : []),
      ],
      undo: missing.length ? [exec(removeCmd(o.mgr, missing))] : [],
      ...(o.upgradable.length ? { irreversible: true } : {}),
      diff: [{ path: 'packages', before: '', after: toInstall.map((n) => `${n}\n`).join('') }],
    };
  },
};
