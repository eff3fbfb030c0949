import { execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_USER } from '../../src/lab/login.js';
import { labDir, labOpInventoryPath, labOpPasswordPath, labVaultPasswordPath } from '../../src/lab/paths.js';
import { recapLine } from './helpers.js';
import { useLab } from './lab-session.js';

// The lab's production login path: every host has an unprivileged user whose sudo asks for a
// password; the hosts' second segment is reached only through the bastion; `-i lab-op` connects
// as that user through it, with the password from a vault file.
const env = process.env;
const L = useLab();
const exec = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const bin = join(repo, 'bin', 'lvsrun.js');
const site = join(repo, 'playbooks', 'site.yaml');
// Bound derived from the work: a site.yaml run is a few ssh handshakes and ~10 tasks per host, each
// well under a second on an idle machine; the margin covers a machine shared with busy test runs.
const RUN_MS = 180_000;
let work = '';
let pw = '';

interface Run {
  code: number;
  out: string;
  err: string;
  psHits: string[];
}

/** lvsrun as a user runs it (its own process, its own HOME); `ps` on the machine, which sees every lab host's processes, is polled while it runs. */
async function lvsrun(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: work,
    env: { PATH: env.PATH ?? '/usr/bin:/bin', HOME: join(work, 'home'), USER: 'root', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
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
      psHits.push(...stdout.split('\n').filter((l) => l.includes(pw)));
    }
  })();
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
  const code = await exited;
  clearTimeout(timer);
  await poll;
  return { code, out, err, psHits };
}

const vaultArgs = (): string[] => ['--vault-password-file', labVaultPasswordPath(env)];

/** A copy of the generated `lab-op` inventory with its `lvsrun_proxy_jump` line replaced (or dropped). */
function opVariant(name: string, edit: (hostsYaml: string) => string, hostVars: Record<string, string> = {}): string {
  const d = join(work, 'inv', name);
  rmSync(d, { recursive: true, force: true });
  cpSync(labOpInventoryPath(env), d, { recursive: true });
  writeFileSync(join(d, 'hosts.yaml'), edit(readFileSync(join(d, 'hosts.yaml'), 'utf8')));
  if (Object.keys(hostVars).length) mkdirSync(join(d, 'host_vars'));
  for (const [h, text] of Object.entries(hostVars)) writeFileSync(join(d, 'host_vars', `${h}.yml`), text);
  return d;
}
const jumpLine = /^ {4}lvsrun_proxy_jump: .*\n/m;

function allText(d: string): string {
  if (!existsSync(d)) return '';
  return readdirSync(d, { recursive: true, encoding: 'utf8' })
    .map((f) => join(d, f))
    .filter((f) => statSync(f).isFile())
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/** Whether a TCP connection from the machine to addr:22 opens. */
const reachable = (addr: string): Promise<boolean> =>
  new Promise((res) => {
    const s = connect({ host: addr, port: 22, timeout: 10_000 });
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => (s.destroy(), res(false)));
    s.once('timeout', () => (s.destroy(), res(false)));
  });

beforeAll(() => {
  work = join(labDir(env), 'login-test');
  mkdirSync(join(work, 'home'), { recursive: true });
  pw = readFileSync(labOpPasswordPath(env), 'utf8').trim();
  expect(pw.length).toBeGreaterThan(16);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the lab login path: an unprivileged user, sudo with a password, a bastion', () => {
  it('every host has the user, whose sudo asks for a password; the second segment is reached only through the bastion', async () => {
    const rs1 = L.lab.hosts.find((h) => h.name === 'rs1')!;
    expect(
      await L.exec('rs1', `id -u ${LAB_USER} && su -s /bin/sh ${LAB_USER} -c 'sudo -n true' 2>&1; true`),
    ).toMatchObject({ stdout: expect.stringMatching(/^\d+\nsudo: a password is required\n$/) as unknown });
    expect(rs1.mgmt).toBe('10.79.2.1');
    expect(await reachable(rs1.addr)).toBe(true);
    expect(await reachable(rs1.mgmt!)).toBe(false);
    expect((await L.exec('bastion', `timeout 10 bash -c 'exec 3<>/dev/tcp/${rs1.mgmt!}/22' && echo open`)).stdout).toBe(
      'open\n',
    );
    // The inventory holds the password only encrypted.
    expect(allText(labOpInventoryPath(env))).not.toContain(pw);
  });

  it(
    'site.yaml converges as that user with become and the vault password, through the bastion; the password never shows',
    async () => {
      const r = await lvsrun([site, '-i', 'lab-op', ...vaultArgs()]);
      expect(r.code, r.out + r.err).toBe(0);
      for (const h of ['lb1', 'lb2', 'rs1', 'rs2']) expect(recapLine(r.out, h)).toMatchObject({ failed: 0 });
      expect(recapLine(r.out, 'rs1').changed).toBeGreaterThan(0);
      // Written through sudo: root's, not the login user's.
      expect((await L.exec('rs1', 'stat -c %U /var/www/html/index.html')).stdout).toBe('root\n');
      expect((await L.exec('rs1', 'systemctl is-active nginx; systemctl is-enabled nginx')).stdout).toBe(
        'active\nenabled\n',
      );
      const again = await lvsrun([site, '-i', 'lab-op', ...vaultArgs()]);
      expect(again.code, again.out + again.err).toBe(0);
      for (const h of ['lb1', 'lb2', 'rs1', 'rs2']) expect(recapLine(again.out, h)).toMatchObject({ changed: 0 });
      for (const run of [r, again]) {
        expect(run.out + run.err).not.toContain(pw);
        expect(run.psHits).toEqual([]);
      }
      const journal = allText(join(work, '.lvsrun'));
      expect(journal.length).toBeGreaterThan(0);
      expect(journal).not.toContain(pw);
      // Nor in the hosts' own journals (sudo and sshd log there).
      for (const h of ['rs1', 'bastion']) {
        const j = (await L.exec(h, 'journalctl --no-pager -o cat')).stdout;
        if (h === 'rs1') expect(j).toMatch(new RegExp(`${LAB_USER} : .*USER=root`)); // sudo's own log lines
        expect(j).not.toContain(pw);
      }
    },
    2 * RUN_MS,
  );

  it(
    'the ps poll sees a password that is on a command line (so its silence above means something)',
    async () => {
      const r = await lvsrun([
        site,
        '-i',
        'lab-op',
        ...vaultArgs(),
        '--limit',
        'rs1',
        '-e',
        `ansible_become_password=${pw}`,
      ]);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.psHits.length).toBeGreaterThan(0);
    },
    RUN_MS,
  );

  it(
    'a wrong sudo password fails that host clearly, not unreachable; the other converges',
    async () => {
      const inv = opVariant('wrong', (y) => y, { rs2: 'ansible_become_password: not-the-password\n' });
      const r = await lvsrun([site, '-i', inv, ...vaultArgs(), '--limit', 'realservers']);
      expect(r.code, r.out + r.err).toBe(2);
      expect(recapLine(r.out, 'rs1')).toMatchObject({ failed: 0, unreachable: 0 });
      expect(recapLine(r.out, 'rs2')).toMatchObject({ failed: 1, unreachable: 0 });
      expect(r.out).toContain(
        `rs2: sudo as ${LAB_USER} (become root) refused the become password (ansible_become_password)`,
      );
      expect(r.out + r.err).not.toContain('not-the-password');
    },
    RUN_MS,
  );

  it(
    'without the jump the hosts are unreachable; with it from ansible_ssh_common_args or ~/.ssh/config they converge',
    async () => {
      const direct = await lvsrun([site, '-i', opVariant('direct', (y) => y.replace(jumpLine, '')), ...vaultArgs()]);
      expect(direct.code, direct.out + direct.err).toBe(4);
      expect(recapLine(direct.out, 'rs1')).toMatchObject({ unreachable: 1 });
      const common = opVariant('common', (y) =>
        y.replace(jumpLine, `    ansible_ssh_common_args: '-o ProxyJump=${LAB_USER}@10.77.4.1'\n`),
      );
      const c = await lvsrun([site, '-i', common, ...vaultArgs(), '--limit', 'realservers']);
      expect(c.code, c.out + c.err).toBe(0);
      expect(recapLine(c.out, 'rs1')).toMatchObject({ changed: 0, unreachable: 0 });
      const home = join(work, 'home-cfg');
      mkdirSync(join(home, '.ssh'), { recursive: true });
      writeFileSync(
        join(home, '.ssh', 'config'),
        `Host bastion\n  HostName 10.77.4.1\n  User ${LAB_USER}\n  IdentityFile ${join(labDir(env), 'id_ed25519')}\n` +
          'Host rs1 rs2\n  ProxyJump bastion\n',
      );
      const s = await lvsrun(
        [site, '-i', opVariant('sshcfg', (y) => y.replace(jumpLine, '')), ...vaultArgs(), '--limit', 'realservers'],
        {
          HOME: home,
        },
      );
      expect(s.code, s.out + s.err).toBe(0);
      expect(recapLine(s.out, 'rs2')).toMatchObject({ changed: 0, unreachable: 0 });
    },
    3 * RUN_MS,
  );

  it(
    'keys from ssh-agent (SSH_AUTH_SOCK) with no key file configured, for the bastion and the hosts',
    async () => {
      const sock = join(work, 'agent.sock');
      const a = spawnSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
      const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(a.stdout)?.[1] ?? 0);
      expect(agentPid, a.stdout + a.stderr).toBeGreaterThan(0);
      try {
        const add = spawnSync('ssh-add', [join(labDir(env), 'id_ed25519')], {
          env: { ...env, SSH_AUTH_SOCK: sock },
          encoding: 'utf8',
        });
        expect(add.status, add.stderr).toBe(0);
        const inv = opVariant('agent', (y) => y.replace(/^ {4}ansible_ssh_private_key_file: .*\n/m, ''));
        expect(readFileSync(join(inv, 'hosts.yaml'), 'utf8')).not.toContain('id_ed25519');
        const r = await lvsrun([site, '-i', inv, ...vaultArgs(), '--limit', 'realservers'], { SSH_AUTH_SOCK: sock });
        expect(r.code, r.out + r.err).toBe(0);
        expect(recapLine(r.out, 'rs1')).toMatchObject({ unreachable: 0, failed: 0 });
        const without = await lvsrun([site, '-i', inv, ...vaultArgs(), '--limit', 'rs1']);
        expect(without.code).toBe(4);
        expect(without.out).toContain('no ssh-agent (SSH_AUTH_SOCK is not set)');
      } finally {
        process.kill(agentPid);
      }
    },
    2 * RUN_MS,
  );
});
