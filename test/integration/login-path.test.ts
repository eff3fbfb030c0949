import { execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdConfigText } from '../../src/lab/sshd-config.js';
import { recapLine } from './helpers.js';

// The production login path against real OpenSSH servers the suite starts on loopback
// (127.0.41.x): an unprivileged login user whose sudo needs a password from a vault file, a
// bastion every target is reached through (one target only through it, by an iptables rule on
// loopback for its address), and keys held only by ssh-agent. Needs root (it creates the user, a
// sudoers drop-in and the rule) and removes everything it creates.
const exec = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'lvsrun.js');
const dir = '/tmp/lvsrun-test-login';
const USER = 'lvsrun-op';
const SUDOERS = '/etc/sudoers.d/lvsrun-login-test';
// sshd reads authorized_keys as the login user, who cannot enter a private /tmp.
const AUTH_KEYS = '/run/lvsrun-login-test-authorized_keys';
// The login user cannot write /run (the default lock's folder), and this machine's /tmp (the
// fallback) is private to root: the host lock goes in a folder of the login user's own.
const LOCK_DIR = '/run/lvsrun-login-test-lock';
// sudo's own log of the login user's attempts (wrong passwords counted).
const SUDO_LOG = '/run/lvsrun-login-test-sudo.log';
const PORT = 2222;
const NET = '127.0.41';
const BASTION = `${NET}.1`;
const TARGETS = { t1: `${NET}.2`, t2: `${NET}.3` } as const;
const dest = (h: string): string => `/etc/lvsrun-login-test-${h}`;
const conf = (h: string): string => `${dest(h)}.conf`;
// A password no other process on the machine has in its argv, so any sighting is ours.
const PW = `pw-${randomBytes(12).toString('hex')}`;
const VAULT_PW = `vault-${randomBytes(12).toString('hex')}`;
// Bounds derived from the work: a run is a few ssh handshakes and a few tasks, each well under a
// second on an idle machine; the margin covers a machine shared with several busy test runs.
const RUN_MS = 120_000;
let createdUser = false;

const hostDir = (n: string): string => join(dir, 'hosts', n);
const sshdLog = (n: string): string => join(hostDir(n), 'sshd.log');
const key = join(dir, 'keys', 'id_ed25519');
const home = join(dir, 'home'); // HOME for lvsrun: no ~/.ssh/id_* unless a test writes them
const work = join(dir, 'work'); // the working folder (journal in .lvsrun/runs)
const inv = join(dir, 'inv');
const vaultPass = join(dir, 'vault-pass');
const site = join(dir, 'site.yaml');

interface Run {
  code: number;
  out: string;
  err: string;
  psHits: string[];
}

/** lvsrun as a user runs it, with exactly the environment given; `ps` is polled while it runs. */
async function lvsrun(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: work,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, USER: 'root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  let done = false;
  const exited = new Promise<number>((res) =>
    child.on('close', (c) => {
      done = true;
      res(c ?? -1);
    }),
  );
  const psHits: string[] = [];
  const poll = (async () => {
    while (!done) {
      const { stdout } = await exec('ps', ['-eo', 'args'], { maxBuffer: 64 << 20 });
      psHits.push(...stdout.split('\n').filter((l) => l.includes(PW)));
    }
  })();
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
  const code = await exited;
  clearTimeout(timer);
  await poll;
  return { code, out, err, psHits };
}

function startSshd(name: string, addr: string, extra: string[], logLevel: string): void {
  const h = hostDir(name);
  mkdirSync(h, { recursive: true, mode: 0o755 });
  const hk = join(h, 'ssh_host_ed25519_key');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', hk]);
  writeFileSync(
    join(h, 'sshd_config'),
    sshdConfigText({
      comment: 'lvsrun login-path test host',
      listen: `${addr}:${PORT}`,
      hostKey: hk,
      pidFile: join(h, 'sshd.pid'),
      authorizedKeys: AUTH_KEYS,
      extra: [`AllowUsers ${USER}`, ...extra],
    }),
  );
  // Command-line options win over the file, which says LogLevel ERROR.
  const r = spawnSync('/usr/sbin/sshd', [
    '-f',
    join(h, 'sshd_config'),
    '-E',
    sshdLog(name),
    '-o',
    `LogLevel=${logLevel}`,
  ]);
  if (r.status !== 0) throw new Error(`sshd ${name}: ${r.stderr.toString()}`);
}

function ownSshdPid(name: string): number | undefined {
  const f = join(hostDir(name), 'sshd.pid');
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(hostDir(name), 'sshd_config')) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopAll(): void {
  for (const n of ['bastion', 't1', 't2']) {
    const pid = ownSshdPid(n);
    if (pid) {
      try {
        process.kill(pid);
      } catch {
        /* gone already */
      }
    }
  }
}

/** Every file under `d`, read as text. */
function allText(d: string): string {
  if (!existsSync(d)) return '';
  return readdirSync(d, { recursive: true, encoding: 'utf8' })
    .map((f) => join(d, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/** How many forwarded (direct-tcpip) connections the bastion opened to `addr`. */
const forwardsTo = (addr: string): number =>
  readFileSync(sshdLog('bastion'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(`target ${addr} port ${PORT}`)).length;

function writeInventory(
  file: string,
  hostVars: Record<string, Record<string, string>> = {},
  allVars: string[] = [],
): string {
  const hosts = Object.entries(TARGETS)
    .map(([n, a]) => {
      const more = Object.entries(hostVars[n] ?? {})
        .map(([k, v]) => `\n          ${k}: ${JSON.stringify(v)}`)
        .join('');
      return `        ${n}:\n          ansible_host: ${a}${more}`;
    })
    .join('\n');
  writeFileSync(
    file,
    `all:
  vars:
    ansible_user: ${USER}
    ansible_port: ${PORT}
    lvsrun_known_hosts: ${join(dir, 'known_hosts')}
    lvsrun_lock_file: ${LOCK_DIR}/lvsrun.lock
${allVars.map((l) => `    ${l}`).join('\n')}
  children:
    targets:
      hosts:
${hosts}
`,
  );
  return file;
}

beforeAll(async () => {
  stopAll();
  rmSync(dir, { recursive: true, force: true });
  for (const d of [dir, join(dir, 'keys'), home, work, join(inv, 'group_vars')]) {
    mkdirSync(d, { recursive: true, mode: 0o755 });
  }
  if (spawnSync('id', [USER]).status !== 0) {
    const r = spawnSync('useradd', ['-m', '-s', '/bin/sh', USER]);
    if (r.status !== 0) throw new Error(`useradd: ${r.stderr.toString()}`);
    createdUser = true;
  }
  const pw = spawnSync('chpasswd', [], { input: `${USER}:${PW}\n` });
  if (pw.status !== 0) throw new Error(`chpasswd: ${pw.stderr.toString()}`);
  // Every sudo asks for the password (no cached timestamp between commands).
  const rule = `Defaults:${USER} timestamp_timeout=0, logfile=${SUDO_LOG}\n${USER} ALL=(ALL:ALL) ALL\n`;
  writeFileSync(`${SUDOERS}.tmp`, rule, { mode: 0o440 });
  const check = spawnSync('visudo', ['-cf', `${SUDOERS}.tmp`]);
  if (check.status !== 0) throw new Error(`visudo: ${check.stdout.toString()}${check.stderr.toString()}`);
  spawnSync('mv', [`${SUDOERS}.tmp`, SUDOERS]);
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lvsrun-login-test', '-f', key]);
  mkdirSync(LOCK_DIR, { recursive: true, mode: 0o700 });
  spawnSync('chown', [USER, LOCK_DIR]);
  writeFileSync(AUTH_KEYS, readFileSync(`${key}.pub`), { mode: 0o644 });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  // The bastion logs each forwarded connection (debug1: "target ADDR port P"): the proof a target
  // was reached through it.
  startSshd('bastion', BASTION, [], 'DEBUG1');
  for (const [n, a] of Object.entries(TARGETS)) startSshd(n, a, [], 'VERBOSE');
  for (const n of ['bastion', ...Object.keys(TARGETS)]) {
    await waitFor(() => ownSshdPid(n) !== undefined, 30_000, `sshd ${n}`);
  }
  const known = ['bastion', ...Object.keys(TARGETS)].map((n) => {
    const addr = n === 'bastion' ? BASTION : TARGETS[n as keyof typeof TARGETS];
    const pub = readFileSync(join(hostDir(n), 'ssh_host_ed25519_key.pub'), 'utf8');
    return `[${addr}]:${PORT} ${pub.split(' ').slice(0, 2).join(' ')}`;
  });
  writeFileSync(join(dir, 'known_hosts'), `${known.join('\n')}\n`);
  writeFileSync(vaultPass, `${VAULT_PW}\n`, { mode: 0o600 });
  const vault = join(inv, 'group_vars', 'all.yml');
  writeFileSync(vault, `ansible_become_password: ${JSON.stringify(PW)}\n`, { mode: 0o600 });
  const enc = await lvsrun(['vault', 'encrypt', vault, '--vault-password-file', vaultPass]);
  if (enc.code !== 0) throw new Error(`vault encrypt: ${enc.out}${enc.err}`);
  if (readFileSync(vault, 'utf8').includes(PW)) throw new Error('vault encrypt left the password in clear');
  writeFileSync(
    site,
    `- hosts: targets
  become: true
  gather_facts: false
  tasks:
    - name: a file only root may write
      copy:
        dest: "/etc/lvsrun-login-test-{{ inventory_hostname }}"
        content: "managed by lvsrun\\n"
        mode: "0644"
    - name: a line in it
      lineinfile:
        path: "/etc/lvsrun-login-test-{{ inventory_hostname }}.conf"
        line: "login=${USER}"
        create: true
`,
  );
}, 120_000);

afterAll(async () => {
  stopAll();
  for (const n of ['bastion', 't1', 't2']) await waitFor(() => ownSshdPid(n) === undefined, 30_000, `sshd ${n} stop`);
  for (const h of Object.keys(TARGETS)) for (const f of [dest(h), conf(h)]) rmSync(f, { force: true });
  rmSync(SUDOERS, { force: true });
  rmSync(AUTH_KEYS, { force: true });
  rmSync(LOCK_DIR, { recursive: true, force: true });
  rmSync(SUDO_LOG, { force: true });
  rmSync(`${SUDOERS}.tmp`, { force: true });
  if (createdUser) spawnSync('userdel', ['-r', USER]);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

const withKey = (n: string): string => join(inv, `${n}.yaml`);
const vaultArgs = ['--vault-password-file', vaultPass];
const reset = (): void => {
  for (const h of Object.keys(TARGETS)) for (const f of [dest(h), conf(h)]) rmSync(f, { force: true });
};

describe('the production login path against real sshd on loopback', () => {
  it(
    'converges as an unprivileged user with become and a vault password, which never shows',
    async () => {
      reset();
      const i = writeInventory(withKey('key'), {}, [`ansible_ssh_private_key_file: ${key}`]);
      const r = await lvsrun([site, '-i', i, ...vaultArgs]);
      expect(r.code, r.out + r.err).toBe(0);
      for (const h of Object.keys(TARGETS)) {
        expect(recapLine(r.out, h)).toMatchObject({ changed: 2, failed: 0 });
        expect(readFileSync(dest(h), 'utf8')).toBe('managed by lvsrun\n');
        expect(readFileSync(conf(h), 'utf8')).toBe(`login=${USER}\n`);
        // Written through sudo, not as the login user.
        for (const f of [dest(h), conf(h)]) expect(statSync(f).uid).toBe(0);
      }
      expect(readFileSync(sshdLog('t1'), 'utf8')).toMatch(new RegExp(`Accepted publickey for ${USER} from`));
      const again = await lvsrun([site, '-i', i, ...vaultArgs]);
      expect(again.code, again.out + again.err).toBe(0);
      for (const h of Object.keys(TARGETS)) {
        expect(recapLine(again.out, h), again.out).toMatchObject({ changed: 0, failed: 0 });
      }
      for (const run of [r, again]) {
        expect(run.out + run.err).not.toContain(PW);
        expect(run.psHits).toEqual([]);
      }
      const journal = allText(join(work, '.lvsrun'));
      expect(journal.length).toBeGreaterThan(0);
      expect(journal).not.toContain(PW);
    },
    2 * RUN_MS,
  );

  it(
    'the ps poll sees a password that is on a command line (so its silence above means something)',
    async () => {
      const i = writeInventory(withKey('argv'), {}, [`ansible_ssh_private_key_file: ${key}`]);
      const r = await lvsrun([site, '-i', i, ...vaultArgs, '--limit', 't1', '-e', `ansible_become_password=${PW}`]);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.psHits.length).toBeGreaterThan(0);
      expect(r.out + r.err).not.toContain(PW);
    },
    RUN_MS,
  );

  it(
    'a wrong sudo password fails that host clearly (exit 2), not unreachable; the other converges',
    async () => {
      reset();
      const i = writeInventory(withKey('wrong'), { t2: { ansible_become_password: 'not-the-password' } }, [
        `ansible_ssh_private_key_file: ${key}`,
      ]);
      const r = await lvsrun([site, '-i', i, ...vaultArgs]);
      expect(r.code, r.out + r.err).toBe(2);
      expect(recapLine(r.out, 't1')).toMatchObject({ changed: 2, failed: 0 });
      expect(recapLine(r.out, 't2')).toMatchObject({ failed: 1, unreachable: 0 });
      // The words docs/inventory.md shows.
      expect(r.out).toContain(
        `failed: [t2] => t2: sudo as ${USER} (become root) refused the become password ` + '(ansible_become_password)',
      );
      expect(r.out).not.toContain('not-the-password');
      expect(existsSync(dest('t2'))).toBe(false);
      // One wrong password costs sudo one attempt, not three per command: no account lockout spiral
      // (pam_faillock) and no command input read by sudo as further password guesses.
      const attempts = readFileSync(SUDO_LOG, 'utf8')
        .split('\n')
        .filter((l) => /incorrect password attempt/.test(l));
      expect(attempts).toEqual([expect.stringMatching(/: 1 incorrect password attempt ;/)]);
    },
    RUN_MS,
  );

  it(
    'a failed task rolls the host back through sudo with the vault password, byte for byte',
    async () => {
      reset();
      writeFileSync(dest('t1'), 'before\n', { mode: 0o600 });
      const failing = join(dir, 'failing.yaml');
      writeFileSync(
        failing,
        `- hosts: t1
  become: true
  gather_facts: false
  tasks:
    - copy: { dest: "/etc/lvsrun-login-test-{{ inventory_hostname }}", content: "changed\\n", mode: "0644" }
    - lineinfile: { path: "/etc/lvsrun-login-test-{{ inventory_hostname }}.conf", line: "x=1", create: true }
    - command: /bin/false
`,
      );
      const i = writeInventory(withKey('rollback'), {}, [`ansible_ssh_private_key_file: ${key}`]);
      const r = await lvsrun([failing, '-i', i, ...vaultArgs]);
      expect(r.code, r.out + r.err).toBe(2);
      expect(recapLine(r.out, 't1')).toMatchObject({ failed: 1, rolled_back: 1 });
      expect(readFileSync(dest('t1'), 'utf8')).toBe('before\n');
      expect(statSync(dest('t1')).mode & 0o777).toBe(0o600);
      expect(existsSync(conf('t1'))).toBe(false);
      expect(r.out + r.err).not.toContain(PW);
      expect(r.psHits).toEqual([]);
    },
    RUN_MS,
  );

  describe('ProxyJump through the bastion', () => {
    // t2 is reachable only through the bastion: connections to it from root's processes (the test,
    // lvsrun) are refused, while the bastion's forward runs in the login user's sshd process.
    const t2 = TARGETS.t2;
    const RULE = [
      'OUTPUT',
      '-o',
      'lo',
      '-d',
      t2,
      '-p',
      'tcp',
      '--dport',
      String(PORT),
      '-m',
      'owner',
      '--uid-owner',
      '0',
      '-m',
      'comment',
      '--comment',
      'lvsrun-login-test',
      '-j',
      'REJECT',
      '--reject-with',
      'tcp-reset',
    ];
    const dropRule = (): void => {
      while (spawnSync('iptables', ['-D', ...RULE]).status === 0) {
        /* every copy */
      }
    };
    beforeAll(() => {
      dropRule();
      const r = spawnSync('iptables', ['-I', ...RULE], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`iptables: ${r.stderr}`);
    });
    afterAll(dropRule);

    const through = async (i: string, env: Record<string, string> = {}): Promise<void> => {
      reset();
      const before = Object.values(TARGETS).map(forwardsTo);
      const r = await lvsrun([site, '-i', i, ...vaultArgs], env);
      expect(r.code, r.out + r.err).toBe(0);
      for (const h of Object.keys(TARGETS)) expect(readFileSync(conf(h), 'utf8')).toMatch(/login=/);
      // sshd writes its log line before it opens the forward: by now it is in the file.
      Object.values(TARGETS).forEach((a, k) => expect(forwardsTo(a), a).toBeGreaterThan(before[k]!));
    };

    it(
      'without a jump, the hidden host is unreachable and the bastion forwards nothing',
      async () => {
        reset();
        const before = Object.values(TARGETS).map(forwardsTo);
        const i = writeInventory(withKey('direct'), {}, [`ansible_ssh_private_key_file: ${key}`]);
        const r = await lvsrun([site, '-i', i, ...vaultArgs]);
        expect(r.code, r.out + r.err).toBe(4);
        expect(recapLine(r.out, 't1')).toMatchObject({ changed: 2, unreachable: 0 });
        expect(recapLine(r.out, 't2')).toMatchObject({ unreachable: 1 });
        expect(Object.values(TARGETS).map(forwardsTo)).toEqual(before);
      },
      RUN_MS,
    );

    it(
      'from lvsrun_proxy_jump',
      async () => {
        await through(
          writeInventory(withKey('jumpvar'), {}, [
            `ansible_ssh_private_key_file: ${key}`,
            `lvsrun_proxy_jump: ${USER}@${BASTION}:${PORT}`,
          ]),
        );
      },
      RUN_MS,
    );

    it(
      'from ansible_ssh_common_args -o ProxyJump=',
      async () => {
        await through(
          writeInventory(withKey('common'), {}, [
            `ansible_ssh_private_key_file: ${key}`,
            `ansible_ssh_common_args: '-o ProxyJump=${USER}@${BASTION}:${PORT}'`,
          ]),
        );
      },
      RUN_MS,
    );

    it(
      'from ~/.ssh/config (ProxyJump naming a Host entry with its own User, Port and IdentityFile)',
      async () => {
        const h = join(dir, 'home-cfg');
        mkdirSync(join(h, '.ssh'), { recursive: true });
        const targets = Object.keys(TARGETS).join(' ');
        writeFileSync(
          join(h, '.ssh', 'config'),
          `Host bastion
  HostName ${BASTION}
  Port ${PORT}
  User ${USER}
  IdentityFile ${key}
Host ${targets}
  ProxyJump bastion
  IdentityFile ${key}
`,
        );
        try {
          await through(writeInventory(withKey('sshcfg')), { HOME: h });
        } finally {
          rmSync(h, { recursive: true, force: true });
        }
      },
      RUN_MS,
    );

    it(
      'ProxyCommand in ansible_ssh_common_args is refused before any host is touched (never bypassed)',
      async () => {
        reset();
        const i = writeInventory(withKey('proxycmd'), {}, [
          `ansible_ssh_private_key_file: ${key}`,
          `ansible_ssh_common_args: '-o ProxyCommand="ssh -W %h:%p ${BASTION}"'`,
        ]);
        const r = await lvsrun([site, '-i', i, ...vaultArgs]);
        expect(r.code, r.out + r.err).toBe(1);
        expect(r.out + r.err).toMatch(/ansible_ssh_common_args.*ProxyCommand/);
        for (const h of Object.keys(TARGETS)) expect(existsSync(dest(h))).toBe(false);
      },
      RUN_MS,
    );
  });

  describe('ssh-agent', () => {
    const sock = join(dir, 'agent.sock');
    let agentPid = 0;
    beforeAll(async () => {
      const r = spawnSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
      agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(r.stdout)?.[1] ?? 0);
      if (!agentPid) throw new Error(`ssh-agent: ${r.stdout}${r.stderr}`);
      await waitFor(() => existsSync(sock), 30_000, 'agent socket');
      const add = spawnSync('ssh-add', [key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
      if (add.status !== 0) throw new Error(`ssh-add: ${add.stderr}`);
    }, 60_000);
    afterAll(() => {
      if (agentPid) process.kill(agentPid);
    });

    it(
      'with no key file configured and none in ~/.ssh, keys come from SSH_AUTH_SOCK (bastion too)',
      async () => {
        reset();
        const i = writeInventory(withKey('agent'), {}, [`lvsrun_proxy_jump: ${USER}@${BASTION}:${PORT}`]);
        const before = Object.values(TARGETS).map(forwardsTo);
        const r = await lvsrun([site, '-i', i, ...vaultArgs], { SSH_AUTH_SOCK: sock });
        expect(r.code, r.out + r.err).toBe(0);
        for (const h of Object.keys(TARGETS)) expect(readFileSync(conf(h), 'utf8')).toMatch(/login=/);
        Object.values(TARGETS).forEach((a, k) => expect(forwardsTo(a), a).toBeGreaterThan(before[k]!));
      },
      RUN_MS,
    );

    it(
      'without the agent the same run is unreachable with a hint naming what was tried',
      async () => {
        reset();
        const r = await lvsrun([site, '-i', writeInventory(withKey('noagent')), ...vaultArgs]);
        expect(r.code, r.out + r.err).toBe(4);
        expect(recapLine(r.out, 't1')).toMatchObject({ unreachable: 1 });
        expect(r.out).toMatch(/E_AUTH/);
        expect(r.out).toContain('no ssh-agent (SSH_AUTH_SOCK is not set)');
        expect(r.out).toContain(`${home}/.ssh/id_ed25519 (missing)`);
        expect(r.out).toMatch(/ansible_ssh_private_key_file/);
      },
      RUN_MS,
    );
  });
});
