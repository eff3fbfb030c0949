import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { measure, type Measured } from './measure.js';
import type { SshdHosts } from './sshd-hosts.js';
import type { Inventories } from './workload.js';

export type Mode = 'cold' | 'noop';
export type Tool = 'lvsrun' | 'ansible-default' | 'ansible-warm';
export interface Recap {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
}

/** The result check every timed run must pass: cold = ok 12, changed 11 on every host; noop = changed 0. */
export function checkRecap(recap: Record<string, Recap>, names: string[], mode: Mode): string[] {
  const bad: string[] = [];
  for (const n of names) {
    const c = recap[n];
    if (!c) bad.push(`${n}: not in the recap`);
    else if (c.failed || c.unreachable) bad.push(`${n}: failed=${c.failed} unreachable=${c.unreachable}`);
    else if (mode === 'cold' && (c.ok !== 12 || c.changed !== 11))
      bad.push(`${n}: ok=${c.ok} changed=${c.changed}, want 12/11`);
    else if (mode === 'noop' && c.changed !== 0) bad.push(`${n}: changed=${c.changed}, want 0`);
  }
  return bad;
}

export function parseAnsibleRecap(log: string): Record<string, Recap> {
  const out: Record<string, Recap> = {};
  for (const m of log.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    out[m[1]!] = { ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) };
  }
  return out;
}

export interface ToolRun {
  m: Measured;
  problems: string[];
  /** lvsrun only: round trips after connecting, per task per host, as its transport counted them. */
  tripsPerTask?: number;
}

/** Tasks per host in the workload (bench/lvsrun/site.yaml, bench/ansible/site.yml). */
export const TASKS_PER_HOST = 12;

export async function runLvsrun(
  repo: string,
  h: SshdHosts,
  inv: Inventories,
  mode: Mode,
  tag: string,
): Promise<ToolRun> {
  const forks = String(Math.min(h.names.length, 50));
  const m = await measure(
    [
      process.execPath,
      join(repo, 'bin/lvsrun.js'),
      join(repo, 'bench/lvsrun/site.yaml'),
      '-i',
      inv.lvsrun,
      '-f',
      forks,
      '--json',
    ],
    { cwd: repo, tag, env: { ...process.env, CI: 'true' } },
  );
  let recap: Record<string, Recap> = {};
  let trips: Record<string, number> | undefined;
  try {
    const out = JSON.parse(m.stdout) as { recap: Record<string, Recap>; round_trips?: Record<string, number> };
    recap = out.recap;
    trips = out.round_trips;
  } catch {
    /* reported below */
  }
  const problems =
    m.code !== 0 ? [`lvsrun exit ${m.code}: ${m.stderr.slice(0, 400)}`] : checkRecap(recap, h.names, mode);
  const counted = trips ? Object.values(trips) : [];
  const tripsPerTask = counted.length
    ? counted.reduce((a, b) => a + b, 0) / counted.length / TASKS_PER_HOST
    : undefined;
  return { m, problems, ...(tripsPerTask !== undefined ? { tripsPerTask } : {}) };
}

/** Close every ControlMaster in a control_path_dir, so the next Ansible run starts with cold sockets. */
export function closeMasters(dir: string): void {
  if (!existsSync(dir)) return;
  for (const s of readdirSync(dir)) spawnSync('ssh', ['-S', join(dir, s), '-O', 'exit', 'x'], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}

export async function runAnsible(
  repo: string,
  h: SshdHosts,
  inv: Inventories,
  variant: 'default' | 'warm',
  mode: Mode,
  tag: string,
): Promise<ToolRun> {
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: inv.ansibleCfg[variant],
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    HOME: join(h.dir, 'ansible-home'),
  };
  mkdirSync(env.HOME, { recursive: true });
  const forks = String(Math.min(h.names.length, 50));
  closeMasters(inv.cpDir[variant]);
  mkdirSync(inv.cpDir[variant], { recursive: true });
  if (variant === 'warm') {
    // the best case for Ansible: pipelining and ControlMaster sockets already open to every host
    spawnSync('ansible', ['all', '-i', inv.ansible, '-f', forks, '-m', 'raw', '-a', 'true', '-o'], {
      env,
      stdio: 'ignore',
    });
  }
  const m = await measure(['ansible-playbook', '-i', inv.ansible, '-f', forks, join(repo, 'bench/ansible/site.yml')], {
    cwd: join(repo, 'bench/ansible'),
    tag,
    env,
  });
  if (variant === 'default') closeMasters(inv.cpDir[variant]);
  const problems =
    m.code !== 0
      ? [`ansible-playbook exit ${m.code}: ${m.stdout.slice(-600)}`]
      : checkRecap(parseAnsibleRecap(m.stdout), h.names, mode);
  return { m, problems };
}
