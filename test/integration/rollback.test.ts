import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { execFileSync } from 'node:child_process';
import { labStatus } from '../../src/lab/lab.js';
import { readJournal } from '../../src/rollback/journal.js';
import { cli } from './helpers.js';
import { useLab } from './lab-session.js';

// Rollback you can trust: every scenario ends with each lab host compared to a snapshot taken
// before anything ran: files (path, type, mode, owner, content hash) under /etc and /var/www,
// the sysctls the playbooks touch, addresses, routes and which services run.
const env = process.env;
const repo = join(import.meta.dirname, '..', '..');
const runsDir = join(repo, '.lvsrun', 'runs');
const L = useLab();
const before = new Map<string, string>();

const SNAPSHOT = `find /etc /var/www -xdev \\( -type f -o -type d -o -type l \\) -printf '%p %y %m %u %g\\n' 2>/dev/null | sort
find /etc /var/www -xdev -type f -exec md5sum {} + 2>/dev/null | sort
sysctl net.ipv4.ip_forward net.ipv4.conf.all.arp_ignore net.ipv4.conf.lo.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.lo.arp_announce
ip -o addr | awk '{print $2, $3, $4}'
ip -o route
for s in keepalived nginx; do if pidof $s >/dev/null; then echo "$s running"; else echo "$s stopped"; fi; done`;

const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout;

const servers = (): string[] => L.lab.hosts.filter((h) => h.group !== 'clients').map((h) => h.name);
const snapshot = (h: string): Promise<string> => on(h, SNAPSHOT);
async function expectRestored(hosts = servers()): Promise<void> {
  for (const h of hosts) expect(await snapshot(h), `host ${h} differs from its snapshot`).toBe(before.get(h));
}

// A copy of the shipped site playbook and its roles with one task inserted into a role, in a
// folder beside playbooks/ (so the shipped templates/ resolve the same way).
const variantDir = join(repo, '.test-variant');
const roleTasks = (role: string): unknown[] =>
  parse(readFileSync(join(repo, 'playbooks/roles', role, 'tasks/main.yaml'), 'utf8')) as unknown[];
function siteVariant(role: string, at: number, task: Record<string, unknown>): string {
  rmSync(variantDir, { recursive: true, force: true });
  cpSync(join(repo, 'playbooks'), variantDir, { recursive: true });
  const tasks = roleTasks(role);
  tasks.splice(at, 0, task);
  writeFileSync(join(variantDir, 'roles', role, 'tasks/main.yaml'), stringify(tasks));
  return join(variantDir, 'site.yaml');
}

const newestRun = (): string => readdirSync(runsDir).sort().at(-1)!;

function spawnRun(...args: string[]): {
  p: ChildProcess;
  done: Promise<{ code: number | null; out: string; err: string }>;
} {
  const p = spawn(process.execPath, [join(repo, 'bin/lvsrun.js'), ...args], {
    cwd: repo,
    env: { ...env, CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return { p, done: new Promise((res) => p.on('close', (code) => res({ code, out, err }))) };
}

/** Wait until the run that started after `known` has journaled at least `n` changes (on `host`, if given). */
async function waitForChanges(known: Set<string>, n: number, host?: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const id = readdirSync(runsDir)
      .sort()
      .filter((d) => !known.has(d))
      .at(-1);
    const count = id
      ? readJournal(join(runsDir, id, 'journal.jsonl')).filter((r) => r.phase === 'begin' && (!host || r.host === host))
          .length
      : 0;
    if (id && count >= n) return id;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no run reached ${n} changes`);
}

beforeAll(async () => {
  for (const h of servers()) before.set(h, await snapshot(h));
});

describe('rollback', () => {
  it('restores every host after a failure injected at each task position of the shipped site playbook', async () => {
    const site = parse(readFileSync(join(repo, 'playbooks/site.yaml'), 'utf8')) as Array<{
      hosts: string;
      roles: string[];
    }>;
    try {
      for (const play of site) {
        const role = play.roles[0]!;
        const n = roleTasks(role).length;
        for (let k = 0; k <= n; k++) {
          const pb = siteVariant(role, k, { name: `injected failure at ${role}:${k}`, command: '/bin/false' });
          const r = await cli(pb, '-i', 'lab');
          expect(r.code, `${role} position ${k}:\n${r.out}${r.err}`).toBe(2);
          // the failed hosts were put back by the run itself (on_failure: rollback-host)
          await expectRestored(L.lab.hosts.filter((h) => h.group === play.hosts).map((h) => h.name));
          // hosts of other plays kept their changes; lvsrun rollback reverts those too
          const rb = await cli('rollback', '-i', 'lab');
          expect(rb.code, rb.out + rb.err).toBe(0);
          await expectRestored();
        }
      }
    } finally {
      rmSync(variantDir, { recursive: true, force: true });
    }
    // About 25 runs and rollbacks: the bound scales with that count, not with one run's time on an idle machine.
  }, 900_000);

  it('lvsrun rollback of a run that succeeded restores the pre-run state; runs lists it', async () => {
    const r = await cli('playbooks/site.yaml', '-i', 'lab');
    expect(r.code, r.out + r.err).toBe(0);
    expect(await on('rs1', 'cat /var/www/html/index.html')).toContain('rs1');
    const id = newestRun();
    expect((await cli('runs')).out).toMatch(new RegExp(`${id}\\s+succeeded`));
    const rb = await cli('rollback', id, '-i', 'lab');
    expect(rb.code, rb.out + rb.err).toBe(0);
    expect(rb.out).toMatch(/restored: \[lb1\] \d+ change/);
    await expectRestored();
    expect((await cli('runs')).out).toMatch(new RegExp(`${id}\\s+rolled-back`));
    // nothing left to do the second time
    expect((await cli('rollback', id, '-i', 'lab')).out).toMatch(/nothing to roll back/);
  });

  it('SIGKILL in the middle of a run, then lvsrun rollback: every host equals its snapshot', async () => {
    const known = new Set(readdirSync(runsDir));
    const { p, done } = spawnRun('playbooks/site.yaml', '-i', 'lab');
    const id = await waitForChanges(known, 4);
    p.kill('SIGKILL');
    await done;
    expect(readJournal(join(runsDir, id, 'journal.jsonl')).some((r) => r.phase === 'run-end')).toBe(false);
    expect((await cli('runs')).out).toMatch(new RegExp(`${id}\\s+running-or-crashed`));
    const rb = await cli('rollback', '-i', 'lab');
    expect(rb.code, rb.out + rb.err).toBe(0);
    await expectRestored();
  });

  it('SIGINT in the middle of a run rolls back per policy and exits 130', async () => {
    const known = new Set(readdirSync(runsDir));
    const { p, done } = spawnRun('playbooks/site.yaml', '-i', 'lab');
    const id = await waitForChanges(known, 3);
    p.kill('SIGINT');
    const r = await done;
    expect(r.code, r.out + r.err).toBe(130);
    expect(r.err).toMatch(/interrupted/);
    await expectRestored();
    expect(readJournal(join(runsDir, id, 'journal.jsonl')).at(-1)).toMatchObject({
      phase: 'run-end',
      outcome: 'interrupted',
    });
  });

  it('sshd of one host killed mid-run: it is reported pending, and lvsrun rollback restores it once sshd is back', async () => {
    const pid = labStatus(env)!.hosts.find((h) => h.name === 'rs2')!.pid;
    const inHost = (...cmd: string[]): string =>
      execFileSync('nsenter', ['-t', String(pid), '-m', '-u', '-i', '-n', '-p', '--', ...cmd], { encoding: 'utf8' });
    // every sshd process of rs2 (listener and sessions), found from the machine by its network namespace
    const killSshd = (): void => {
      for (const p of execFileSync('ip', ['netns', 'pids', 'lvslab-rs2'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)) {
        try {
          if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sshd') process.kill(Number(p), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    };
    // the shipped playbook with a pause after the real servers' first changes, so the kill lands mid-run
    const slow = siteVariant('lvs_realserver', 3, { name: 'pause', command: 'sleep 3' });
    const known = new Set(readdirSync(runsDir));
    const { done } = spawnRun(slow, '-i', 'lab');
    const id = await waitForChanges(known, 2, 'rs2');
    killSshd(); // the listener and this run's session: the host is gone mid-run
    rmSync(variantDir, { recursive: true, force: true });
    L.drop('rs2');
    const r = await done;
    expect(r.code, r.out + r.err).toBe(4);
    expect(r.out).toMatch(/unreachable: \[rs2\]/);
    expect(r.err).toMatch(new RegExp(`rollback pending on rs2 .*lvsrun rollback ${id}`));
    expect((await cli('runs')).out).toMatch(/rollback pending on: rs2/);
    inHost('/usr/sbin/sshd', '-f', '/etc/lvsrun-lab/sshd_config', '-E', '/var/log/sshd.log');
    const rb = await cli('rollback', id, '-i', 'lab');
    expect(rb.code, rb.out + rb.err).toBe(0);
    expect(rb.out).toMatch(/restored: \[rs2\]/);
    await expectRestored();
  });

  it('two runs at once against the same host: one runs, the other is refused naming the lock holder', async () => {
    const a = spawnRun('playbooks/site.yaml', '-i', 'lab', '--limit', 'rs1');
    const b = spawnRun('playbooks/site.yaml', '-i', 'lab', '--limit', 'rs1');
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const codes = [ra.code, rb.code].sort();
    expect(codes, ra.out + ra.err + rb.out + rb.err).toEqual([0, 2]);
    const refused = ra.code === 2 ? ra : rb;
    expect(refused.out).toMatch(/rs1 is locked by run \S+ of \S+@\S+ since/);
    expect(refused.out).toMatch(/--break-lock/);
    // the winner converged rs1 intact; rolling it back restores the snapshot
    expect(await on('rs1', 'cat /var/www/html/index.html')).toContain('rs1');
    const winner = /run (\S+) finished/.exec(ra.code === 0 ? ra.out : rb.out)![1]!;
    expect((await cli('rollback', winner, '-i', 'lab')).code).toBe(0);
    await expectRestored();
  });
});
