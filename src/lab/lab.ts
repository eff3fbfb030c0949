import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { LvsrunError } from '../errors.js';
import { makeHostCgroups, removeLabCgroups, systemdCgroupsAvailable } from './cgroups.js';
import { INIT_SCRIPT, SSHD_UNIT, SYSTEMD_INIT_SCRIPT, sshdConfig } from './init-script.js';
import { BASTION, LOGIN_SETUP, MGMT_BRIDGE, MGMT_SUBNET, mgmtAddr, newLabLogin, writeLoginVault } from './login.js';
import { labDir, labInventoryPath, labOpInventoryPath, labOpPasswordPath, labVaultPasswordPath } from './paths.js';
import { alive, run } from './sys.js';
import { buildInitrd, findKernel, labVmPids, startVm, TAP_PREFIX } from './vm.js';
import { labInventoryYaml, labOpInventoryYaml } from './inventory.js';

/**
 * vm: which hosts run as QEMU guests with Debian's kernel instead of namespaces: the directors
 * (real IPVS), or the real servers too (`all`: ipip for LVS-TUN, which this machine's kernel lacks).
 * Clients stay namespaces.
 */
export type VmHosts = 'directors' | 'all';
/** PID 1 of a namespace host: systemd (as on the fleet), or the small init (no systemd: init scripts). */
export type LabInit = 'systemd' | 'simple';
export interface LabCounts {
  directors: number;
  realservers: number;
  clients: number;
  vm?: VmHosts;
  /** systemd unless given. */
  init?: LabInit;
}
const asGuest = (c: LabCounts, g: LabHost['group']): boolean =>
  c.vm === 'all' ? g === 'directors' || g === 'realservers' : c.vm === 'directors' && g === 'directors';
export interface LabHost {
  name: string;
  group: 'directors' | 'realservers' | 'clients' | 'bastions';
  addr: string;
  /** Its address on the second segment, reached only through the bastion (namespace hosts). */
  mgmt?: string;
  ns: string;
  veth: string;
  pid: number;
  kind?: 'vm';
}
export interface LabState {
  counts: LabCounts;
  bridge: string;
  subnet: string;
  vip: string;
  hosts: LabHost[];
  inventory: string;
}

export const BRIDGE = 'lvslab0';
export const NS_PREFIX = 'lvslab-';
const VETH_PREFIX = 'lvsl-';
const MGMT_VETH_PREFIX = 'lvsm-';
const GW = '10.77.0.1';

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new LvsrunError('E_LAB', 'the lab needs root: it creates network namespaces, a bridge and mounts', {
      hint: 'run it as root (sudo lvsrun lab up)',
    });
  }
}

export function plannedHosts(c: LabCounts): Array<Pick<LabHost, 'name' | 'group' | 'addr'>> {
  const out: Array<Pick<LabHost, 'name' | 'group' | 'addr'>> = [];
  for (let i = 1; i <= c.directors; i++) out.push({ name: `lb${i}`, group: 'directors', addr: `10.77.1.${i}` });
  for (let i = 1; i <= c.realservers; i++) out.push({ name: `rs${i}`, group: 'realservers', addr: `10.77.2.${i}` });
  for (let i = 1; i <= c.clients; i++) out.push({ name: `client${i}`, group: 'clients', addr: `10.77.3.${i}` });
  out.push({ ...BASTION });
  return out;
}

export type LabStatus = Omit<LabState, 'hosts'> & { hosts: Array<LabHost & { alive: boolean }> };

export function labStatus(env: NodeJS.ProcessEnv): LabStatus | undefined {
  const f = join(labDir(env), 'state.json');
  if (!existsSync(f)) return undefined;
  const st = JSON.parse(readFileSync(f, 'utf8')) as LabState;
  return { ...st, hosts: st.hosts.map((h) => ({ ...h, alive: alive(h.pid) })) };
}

/** Idempotent: a running lab of the same shape is left as it is. */
export async function labUp(counts: LabCounts, env: NodeJS.ProcessEnv): Promise<LabState> {
  requireRoot();
  const c: LabCounts = { ...counts, init: counts.init ?? 'systemd' };
  const shape = (x: LabCounts): string =>
    JSON.stringify([x.directors, x.realservers, x.clients, x.vm ?? null, x.init ?? 'simple']);
  const cur = labStatus(env);
  if (cur && shape(cur.counts) === shape(c) && cur.hosts.every((h) => h.alive)) return cur;
  if (cur) await labDown(env);
  if (c.init === 'systemd' && !systemdCgroupsAvailable())
    throw new LvsrunError('E_LAB', 'systemd as PID 1 needs a cgroup hierarchy: none is mounted on this machine', {
      hint: 'mount cgroup2 on /sys/fs/cgroup, or run the lab with --init simple',
    });
  const dir = labDir(env);
  mkdirSync(join(dir, 'hosts'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'init.sh'), INIT_SCRIPT, { mode: 0o755 });
  writeFileSync(join(dir, 'init-systemd.sh'), SYSTEMD_INIT_SCRIPT, { mode: 0o755 });
  const key = join(dir, 'id_ed25519');
  if (!existsSync(key)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lvsrun-lab', '-f', key]);
  const pub = readFileSync(`${key}.pub`, 'utf8');
  const login = await newLabLogin();
  writeFileSync(labOpPasswordPath(env), `${login.password}\n`, { mode: 0o600 });
  const hosts = plannedHosts(c);
  const etcHosts = `127.0.0.1 localhost\n${hosts.map((h) => `${h.addr} ${h.name}`).join('\n')}\n`;

  await run(
    'ip',
    ['link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0'],
    { ok: [2] },
  );
  await run('ip', ['addr', 'replace', `${GW}/16`, 'dev', BRIDGE]);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
  // The second segment: no address of the machine on it, and a route that refuses it at once, so
  // nothing addressed to it ever leaves the machine by another way.
  await run('ip', ['link', 'add', MGMT_BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'], { ok: [2] });
  await run('ip', ['link', 'set', MGMT_BRIDGE, 'up']);
  await run('ip', ['route', 'replace', 'unreachable', MGMT_SUBNET]);

  // Key generation is the slow part: do it for all hosts at once.
  await Promise.all(
    hosts.map(async (h) => {
      const hd = join(dir, 'hosts', h.name);
      mkdirSync(join(hd, 'etc'), { recursive: true });
      mkdirSync(join(hd, 'ovl'), { recursive: true });
      const hk = join(hd, 'etc', 'ssh_host_ed25519_key');
      if (!existsSync(hk)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', h.name, '-f', hk]);
      writeFileSync(join(hd, 'etc', 'sshd_config'), sshdConfig(h.addr, mgmtAddr(h.addr)));
      // Readable by the login user too: sshd reads it as the user who logs in.
      writeFileSync(join(hd, 'etc', 'authorized_keys'), pub, { mode: 0o644 });
      writeFileSync(join(hd, 'etc', 'setup'), LOGIN_SETUP, { mode: 0o700 });
      writeFileSync(join(hd, 'etc', 'op-shadow'), login.shadowLine, { mode: 0o600 });
      writeFileSync(join(hd, 'etc', 'hosts'), etcHosts);
      writeFileSync(join(hd, 'etc', 'lvsrun-lab-sshd.service'), SSHD_UNIT);
    }),
  );

  const started: LabHost[] = [];
  const kernel = c.vm ? findKernel() : undefined;
  const initrd = kernel ? await buildInitrd(join(dir, 'vm'), kernel) : undefined;
  for (const h of hosts) {
    if (kernel && initrd && asGuest(c, h.group)) {
      const [, , net, n] = h.addr.split('.').map(Number) as [number, number, number, number];
      const tail = `${net.toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`;
      const vm = await startVm(
        {
          name: h.name,
          addr: h.addr,
          hostDir: join(dir, 'hosts', h.name),
          mac: `52:54:00:77:${tail}`,
          memMiB: h.group === 'directors' ? 640 : 512,
          // eth1 on the second segment: a service network apart from the SSH one (no login user there)
          second: { bridge: MGMT_BRIDGE, addr: mgmtAddr(h.addr), mac: `52:54:00:79:${tail}` },
        },
        kernel,
        initrd,
        BRIDGE,
      );
      started.push({ ...h, ns: '', veth: vm.tap, pid: vm.pid, kind: 'vm' });
      continue;
    }
    const ns = `${NS_PREFIX}${h.name}`;
    const veth = `${VETH_PREFIX}${h.name}`;
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await run('ip', ['link', 'set', veth, 'master', BRIDGE, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${h.addr}/16`, 'dev', 'eth0']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const mveth = `${MGMT_VETH_PREFIX}${h.name}`;
    await run('ip', ['link', 'add', mveth, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns]);
    await run('ip', ['link', 'set', mveth, 'master', MGMT_BRIDGE, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${mgmtAddr(h.addr)}/16`, 'dev', 'eth1']);
    await run('ip', ['-n', ns, 'link', 'set', 'eth1', 'up']);
    const hd = join(dir, 'hosts', h.name);
    const log = openSync(join(hd, 'init.log'), 'w');
    // systemd: the init joins the host's own cgroups, then enters its namespaces itself (argv, no shell).
    const argv =
      c.init === 'systemd'
        ? ['/bin/sh', join(dir, 'init-systemd.sh'), 'join', ns, h.name, hd, ...makeHostCgroups(h.name)]
        : [
            'ip',
            ...['netns', 'exec', ns, 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child'],
            ...['--propagation', 'private', '/bin/sh', join(dir, 'init.sh'), h.name, hd],
          ];
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    started.push({ ...h, mgmt: mgmtAddr(h.addr), ns, veth, pid: child.pid ?? -1 });
  }
  // Wait for the state, not a guess: sshd answers, or the host's process is gone (fail at once). A TCG
  // guest boots in 8-15 s and a systemd host in 0.5-2 s on an idle 2-core machine, many times that on a
  // busy one: the bounds only catch a host that hangs.
  await Promise.all(
    started.map((h) =>
      h.kind === 'vm'
        ? waitPort(h, 600_000, join(dir, 'hosts', h.name, 'console.log'))
        : waitPort(h, 120_000, join(dir, 'hosts', h.name, 'init.log')),
    ),
  );
  const knownHosts = started
    .flatMap((h) => {
      const k = readFileSync(join(dir, 'hosts', h.name, 'etc', 'ssh_host_ed25519_key.pub'), 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' ');
      return [h.addr, ...(h.mgmt ? [h.mgmt] : [])].map((a) => `${a} ${k}`);
    })
    .join('\n');
  writeFileSync(join(dir, 'known_hosts'), `${knownHosts}\n`, { mode: 0o600 });
  const st: LabState = {
    counts: c,
    bridge: BRIDGE,
    subnet: '10.77.0.0/16',
    vip: '10.77.0.100',
    hosts: started,
    inventory: labInventoryPath(env),
  };
  writeFileSync(st.inventory, labInventoryYaml(st, dir));
  const op = labOpInventoryPath(env);
  writeLoginVault(op, labVaultPasswordPath(env), login);
  writeFileSync(join(op, 'hosts.yaml'), labOpInventoryYaml(st, dir), { mode: 0o600 });
  writeFileSync(join(dir, 'state.json'), JSON.stringify(st, null, 2));
  return st;
}

/** Removes every namespace, link, process and file the lab made, found by name even without state. */
export async function labDown(env: NodeJS.ProcessEnv): Promise<number> {
  requireRoot();
  const st = labStatus(env);
  const pids = [...new Set([...(st?.hosts.map((h) => h.pid) ?? []), ...labVmPids(labDir(env))])];
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 50));
  const nsList = (await run('ip', ['netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(NS_PREFIX));
  for (const ns of nsList) {
    // Processes the lab started inside the namespace (found by the kernel, not by name on the machine).
    const r = await run('ip', ['netns', 'pids', ns], { ok: [1] });
    for (const p of r.stdout.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await run('ip', ['netns', 'del', ns], { ok: [1] });
  }
  const links = (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
    .filter(
      (n) =>
        n.startsWith(VETH_PREFIX) ||
        n.startsWith(MGMT_VETH_PREFIX) ||
        n.startsWith(TAP_PREFIX) ||
        n === BRIDGE ||
        n === MGMT_BRIDGE,
    );
  for (const l of links) await run('ip', ['link', 'del', l], { ok: [1, 2] });
  await run('ip', ['route', 'del', 'unreachable', MGMT_SUBNET], { ok: [2] });
  // The killed hosts' processes leave their cgroups a moment after they die.
  for (let i = 0; i < 100 && !removeLabCgroups(); i++) await new Promise((r) => setTimeout(r, 50));
  rmSync(labDir(env), { recursive: true, force: true });
  return nsList.length + (st?.hosts.filter((h) => h.kind === 'vm').length ?? 0);
}

function waitPort(h: LabHost, ms: number, log: string): Promise<void> {
  const end = Date.now() + ms;
  const host = h.addr;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = tcpConnect({ host, port: 22 });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        const gone = !alive(h.pid);
        if (gone || Date.now() > end) {
          const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
          const why = gone ? 'stopped before its sshd answered' : `did not start sshd within ${ms / 1000}s`;
          reject(new LvsrunError('E_LAB', `lab host ${h.name} (${host}) ${why}${tail ? `: ${tail}` : ''}`));
        } else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}
