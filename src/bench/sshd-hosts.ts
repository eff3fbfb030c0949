import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sshdConfigText } from '../lab/sshd-config.js';
import { alive, run } from '../lab/sys.js';

/**
 * N independent OpenSSH servers on loopback (127.0.20.i:PORT), each with its own host key,
 * config, pid file and HOME. They share the machine's filesystem, so workloads keep each
 * host's files under its own root. Used by `npm run bench` and by the loopback tests.
 */
export interface SshdHosts {
  dir: string;
  names: string[];
  addr: (i: number) => string;
  port: number;
  key: string;
  knownHosts: string;
  /** An OpenSSH client config (for ssh, ansible): strict host keys, batch mode. */
  sshConfig: string;
  /** Each host's public host key (`type base64`), in the order of names. */
  hostKeys: string[];
}

/** Up to 250 hosts per /24: host i (1-based) is NET.(20 + block).(1..250). */
export const MAX_HOSTS = 1000;

export interface SshdOpts {
  port?: number;
  net?: string;
}

const name = (i: number): string => `h${String(i).padStart(2, '0')}`;

/** Loopback address of host i: 250 hosts per third octet, starting at `net` (e.g. '127.0.20'). */
export function hostAddr(net: string, i: number): string {
  const [a, b, c] = net.split('.').map(Number) as [number, number, number];
  return `${a}.${b}.${c + Math.floor((i - 1) / 250)}.${((i - 1) % 250) + 1}`;
}

export async function sshdUp(dir: string, n: number, o: SshdOpts = {}): Promise<SshdHosts> {
  if (n < 1 || n > MAX_HOSTS) throw new Error(`sshd hosts: 1..${MAX_HOSTS}, got ${n}`);
  const port = o.port ?? 2222;
  const net = o.net ?? '127.0.20';
  const addr = (i: number): string => hostAddr(net, i);
  mkdirSync(join(dir, 'keys'), { recursive: true, mode: 0o700 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const key = join(dir, 'keys', 'id_ed25519');
  if (!existsSync(key)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lvsrun-bench', '-f', key]);
  writeFileSync(join(dir, 'keys', 'authorized_keys'), readFileSync(`${key}.pub`), { mode: 0o600 });
  const hostKeys: string[] = [];
  const names: string[] = [];
  const starts: Promise<unknown>[] = [];
  for (let i = 1; i <= n; i++) {
    const h = join(dir, 'hosts', name(i));
    mkdirSync(join(h, 'home'), { recursive: true });
    const hk = join(h, 'ssh_host_ed25519_key');
    if (!existsSync(hk)) await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name(i), '-f', hk]);
    writeFileSync(join(h, 'sshd_config'), sshdConfig(h, addr(i), port, dir));
    hostKeys.push(readFileSync(`${hk}.pub`, 'utf8').split(' ').slice(0, 2).join(' '));
    names.push(name(i));
    if (!running(h)) starts.push(run('/usr/sbin/sshd', ['-f', join(h, 'sshd_config'), '-E', join(h, 'sshd.log')]));
  }
  await Promise.all(starts);
  for (let i = 1; i <= n; i++) await waitPid(join(dir, 'hosts', name(i)));
  return { dir, names, key, hostKeys, ...clientFiles(dir, '', names, hostKeys, key, addr, port) };
}

/**
 * The same hosts seen at other addresses (a relay in front of each): a known_hosts and client
 * config of their own, in `dir` with a file-name suffix.
 */
export function hostsAt(h: SshdHosts, suffix: string, addr: (i: number) => string, port: number): SshdHosts {
  return { ...h, ...clientFiles(h.dir, suffix, h.names, h.hostKeys, h.key, addr, port) };
}

function clientFiles(
  dir: string,
  suffix: string,
  names: string[],
  hostKeys: string[],
  key: string,
  addr: (i: number) => string,
  port: number,
): Pick<SshdHosts, 'addr' | 'port' | 'knownHosts' | 'sshConfig'> {
  const knownHosts = join(dir, `known_hosts${suffix}`);
  writeFileSync(knownHosts, hostKeys.map((k, i) => `[${addr(i + 1)}]:${port} ${k}\n`).join(''));
  const sshConfig = join(dir, `ssh_config${suffix}`);
  writeFileSync(sshConfig, clientConfig(key, knownHosts, names.length, addr, port));
  return { addr, port, knownHosts, sshConfig };
}

/** Stop only the sshd processes started here (pid file whose process runs our config). */
export function sshdDown(dir: string): number {
  let n = 0;
  for (let i = 1; i <= MAX_HOSTS; i++) {
    const h = join(dir, 'hosts', name(i));
    if (!existsSync(h)) continue;
    const pid = ownPid(h);
    if (pid) {
      try {
        process.kill(pid);
        n++;
      } catch {
        /* gone already */
      }
    }
    rmSync(join(h, 'sshd.pid'), { force: true });
  }
  return n;
}

function ownPid(h: string): number | undefined {
  const f = join(h, 'sshd.pid');
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  if (!pid || !alive(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(h, 'sshd_config')) ? pid : undefined;
  } catch {
    return undefined;
  }
}

const running = (h: string): boolean => ownPid(h) !== undefined;

async function waitPid(h: string): Promise<void> {
  for (let t = 0; t < 100; t++) {
    if (running(h)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd in ${h} did not start: see ${join(h, 'sshd.log')}`);
}

function sshdConfig(h: string, addr: string, port: number, dir: string): string {
  return sshdConfigText({
    comment: 'lvsrun bench host',
    listen: `${addr}:${port}`,
    hostKey: join(h, 'ssh_host_ed25519_key'),
    pidFile: join(h, 'sshd.pid'),
    authorizedKeys: join(dir, 'keys', 'authorized_keys'),
    extra: [`SetEnv HOME=${join(h, 'home')}`],
  });
}

function clientConfig(key: string, known: string, n: number, addr: (i: number) => string, port: number): string {
  const hosts = Array.from(
    { length: n },
    (_, k) => `Host ${name(k + 1)}\n  HostName ${addr(k + 1)}\n  Port ${port}\n`,
  ).join('');
  return `# generated by lvsrun bench: client config for the bench hosts
${hosts}Host *
  User root
  IdentityFile ${key}
  IdentitiesOnly yes
  UserKnownHostsFile ${known}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  GSSAPIAuthentication no
  LogLevel ERROR
`;
}
