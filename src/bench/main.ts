import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { floor, type FloorKind } from './floor.js';
import { profileRun } from './profile.js';
import { median } from './measure.js';
import { sshdDown, sshdUp } from './sshd-hosts.js';
import { renderTable, type Cell } from './table.js';
import { runAnsible, runLvsrun, type Mode, type ToolRun } from './tools.js';
import { verifyHosts } from './verify.js';
import { rootOf, writeInventories } from './workload.js';

const USAGE =
  `npm run bench -- [--sizes 10,50] [--large] [--runs 3] [--ansible-runs N] [--no-ansible] [--no-profile] ` +
  `[--keep]
  Starts N sshd hosts on loopback (127.0.20.i:2222), runs the 12-task LVS-DR workload with lvsrun and with
  ansible-playbook (defaults; pipelining + warm ControlPersist), measures the raw OpenSSH floor in the same
  run, checks every result, and prints medians with ratios. --large adds N=200 (lvsrun and the floor only).`;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10,50' },
      large: { type: 'boolean' },
      runs: { type: 'string', default: '3' },
      'ansible-runs': { type: 'string' },
      'no-ansible': { type: 'boolean' },
      keep: { type: 'boolean' },
      'no-profile': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    log(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    log('bench: needs root (it starts sshd instances on loopback)');
    return 1;
  }
  const sizes = v.sizes
    .split(',')
    .map(Number)
    .concat(v.large ? [200] : []);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 250)) {
    log(`bench: --sizes takes whole numbers 1..250\n${USAGE}`);
    return 1;
  }
  const runs = Number(v.runs);
  const haveAnsible =
    !v['no-ansible'] && spawnSync('ansible-playbook', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!v['no-ansible'] && !haveAnsible)
    log(
      "bench: ansible-playbook not found (scripts/setup.sh --bench installs Debian's ansible); Ansible columns skipped",
    );
  const dir = '/tmp/lvsrun-bench';
  const cells: Cell[] = [];
  let profile = '';
  const problems: string[] = [];
  try {
    for (const n of sizes) {
      log(`\n== N=${n}: starting ${n} sshd hosts`);
      const h = await sshdUp(dir, n);
      const inv = writeInventories(h);
      for (const kind of ['connect', 'connect+12'] as FloorKind[]) {
        await floor(h, kind); // warm-up, as hyperfine --warmup 1 did for the baseline
        const ts: number[] = [];
        for (let r = 0; r < runs; r++) ts.push(await floor(h, kind));
        cells.push({ n, tool: `openssh ${kind}`, mode: 'cold', wall: ts });
        log(`   floor ${kind}: ${ts.map((t) => t.toFixed(2)).join(' ')} s`);
      }
      const aRuns = Number(v['ansible-runs'] ?? (n <= 10 ? runs : 1));
      const tools: Array<[string, number, (m: Mode, tag: string) => Promise<ToolRun>]> = [
        ['lvsrun', runs, (m, tag) => runLvsrun(repo, h, inv, m, tag)],
      ];
      if (haveAnsible && n <= 50) {
        tools.push(['ansible defaults', aRuns, (m, tag) => runAnsible(repo, h, inv, 'default', m, tag)]);
        tools.push(['ansible pipelining+warm CP', aRuns, (m, tag) => runAnsible(repo, h, inv, 'warm', m, tag)]);
      }
      for (const [tool, k, fn] of tools) {
        const byMode: Record<Mode, ToolRun[]> = { cold: [], noop: [] };
        for (let r = 0; r < k; r++) {
          for (const mode of ['cold', 'noop'] as Mode[]) {
            if (mode === 'cold') rmSync(rootOf(h), { recursive: true, force: true });
            const t = await fn(mode, `${n}-${r}-${mode}`);
            const bad = [...t.problems, ...verifyHosts(h)];
            if (bad.length) problems.push(...bad.slice(0, 5).map((b) => `N=${n} ${tool} ${mode}: ${b}`));
            byMode[mode].push(t);
            log(
              `   ${tool} ${mode}: ${t.m.wallS.toFixed(2)} s, ` +
                `peak ${(t.m.treePeakMiB ?? t.m.maxRssMiB).toFixed(0)} MiB` +
                `${bad.length ? `  RESULT CHECK FAILED: ${bad[0]}` : ''}`,
            );
          }
        }
        if (tool === 'lvsrun' && n === Math.max(...sizes) && !v['no-profile']) {
          rmSync(rootOf(h), { recursive: true, force: true });
          const profArgv = [join(repo, 'bin/lvsrun.js'), join(repo, 'bench/lvsrun/site.yaml')];
          profArgv.push('-i', inv.lvsrun, '-f', String(Math.min(n, 50)));
          profile =
            `## Where a cold lvsrun run's time goes (N=${n}, one extra profiled run)\n\n\`\`\`\n` +
            `${await profileRun(profArgv, repo)}\n\`\`\``;
        }
        for (const mode of ['cold', 'noop'] as Mode[]) {
          const rs = byMode[mode].map((t) => t.m);
          cells.push({
            n,
            tool,
            mode,
            wall: rs.map((m) => m.wallS),
            rss: Math.max(...rs.map((m) => m.maxRssMiB)),
            tree: Math.max(...rs.map((m) => m.treePeakMiB ?? 0)),
            cpu: median(rs.map((m) => m.cpuS)),
          });
        }
      }
    }
  } finally {
    if (!v.keep) log(`\nstopped ${sshdDown(dir)} sshd hosts`);
  }
  const table = renderTable(cells);
  process.stdout.write(`${table}\n\n${profile}\n`);
  const out = join(repo, '.lvsrun', 'bench');
  mkdirSync(out, { recursive: true });
  const file = join(out, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), cells, problems, profile }, null, 2));
  log(`raw figures: ${file}`);
  if (problems.length) {
    log(`RESULT CHECKS FAILED:\n  ${problems.join('\n  ')}`);
    return 2;
  }
  log('every run passed its result check (recap counts and file contents on every host)');
  return 0;
}

process.exitCode = await main().catch((e: unknown) => {
  log(`bench: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
});
