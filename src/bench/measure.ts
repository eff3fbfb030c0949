import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Measured {
  code: number;
  wallS: number;
  /** Largest single process (GNU time %M). */
  maxRssMiB: number;
  /** Whole controller process tree: cgroup-v1 memory peak, when the machine has it. */
  treePeakMiB?: number;
  cpuS: number;
  stdout: string;
  stderr: string;
}

const CG_ROOT = '/sys/fs/cgroup/memory';

/**
 * Run argv once under /usr/bin/time and, where cgroup-v1 memory exists, in a fresh memory
 * group so the peak covers every process the tool starts (Ansible forks, ssh clients).
 * Wall time is taken here, around the whole process.
 */
export async function measure(
  argv: string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string; tag: string },
): Promise<Measured> {
  const tf = `/tmp/lvsrun-bench-time-${process.pid}-${o.tag}`;
  const cg = existsSync(join(CG_ROOT, 'memory.max_usage_in_bytes'))
    ? join(CG_ROOT, 'lvsrun-bench', `${process.pid}-${o.tag}`)
    : undefined;
  if (cg) mkdirSync(cg, { recursive: true });
  const script =
    `${cg ? `echo $$ > ${cg}/cgroup.procs || exit 97; ` : ''}` + `exec /usr/bin/time -f '%e %M %U %S' -o ${tf} "$@"`;
  const t0 = process.hrtime.bigint();
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const p = spawn('/bin/sh', ['-c', script, 'sh', ...argv], {
      env: o.env ?? process.env,
      cwd: o.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('close', (code) =>
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const [, rssKb, user, sys] = (existsSync(tf) ? readFileSync(tf, 'utf8').trim().split('\n').at(-1)! : '0 0 0 0')
    .split(' ')
    .map(Number);
  rmSync(tf, { force: true });
  let treePeakMiB: number | undefined;
  if (cg) {
    treePeakMiB = Number(readFileSync(join(cg, 'memory.max_usage_in_bytes'), 'utf8')) / 2 ** 20;
    try {
      rmdirSync(cg);
    } catch {
      /* a leftover process keeps it; harmless */
    }
  }
  return {
    ...r,
    wallS,
    maxRssMiB: (rssKb ?? 0) / 1024,
    ...(treePeakMiB !== undefined ? { treePeakMiB } : {}),
    cpuS: (user ?? 0) + (sys ?? 0),
  };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
