import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { floor, type FloorKind } from './floor.js';
import { profileRun } from './profile.js';
import { median } from './measure.js';
import { startRelay, type Relay } from './relay.js';
import { hostAddr, hostsAt, MAX_HOSTS, sshdDown, sshdUp, type SshdHosts } from './sshd-hosts.js';
import { renderTable, type Cell } from './table.js';
import { runAnsible, runLvsrun, type Mode, type ToolRun } from './tools.js';
import { verifyHosts } from './verify.js';
import { rootOf, writeInventories } from './workload.js';

const USAGE =
  `npm run bench -- [--sizes 10,50] [--large] [--rtt 0,50] [--runs 3] [--ansible-runs N] [--no-ansible] [--no-floor] ` +
  `[--no-profile] [--keep]
  Starts N sshd hosts on loopback (127.0.20.i:2222), runs the 12-task LVS-DR workload with lvsrun and with
  ansible-playbook (defaults; pipelining + warm ControlPersist), measures the raw OpenSSH floor in the same
  run, checks every result, and prints medians with ratios. --large adds N=200 (lvsrun and the floor only);
  sizes go up to ${MAX_HOSTS}. --rtt puts a relay in front of every host that delays each chunk by half the
  given round-trip time in milliseconds, each way, and counts the client's round trips.`;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

async function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10,50' },
      rtt: { type: 'string', default: '0' },
      large: { type: 'boolean' },
      runs: { type: 'string', default: '3' },
      'ansible-runs': { type: 'string' },
      'no-ansible': { type: 'boolean' },
      'no-floor': { type: 'boolean' },
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
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_HOSTS)) {
    log(`bench: --sizes takes whole numbers 1..${MAX_HOSTS}\n${USAGE}`);
    return 1;
  }
  const rtts = v.rtt.split(',').map(Number);
  if (rtts.some((r) => !Number.isInteger(r) || r < 0 || r > 1000)) {
    log(`bench: --rtt takes whole milliseconds 0..1000\n${USAGE}`);
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
      const direct = await sshdUp(dir, n);
      for (const rtt of rtts) {
        const relays = rtt ? await relaysFor(direct, rtt) : [];
        const h = rtt ? hostsAt(direct, `-rtt${rtt}`, (i) => hostAddr(RELAY_NET, i), RELAY_PORT) : direct;
        const turns = (): number => relays.reduce((a, r) => a + r.turns(), 0);
        if (rtt) log(`   RTT ${rtt} ms: ${n} relays on ${RELAY_NET}.*:${RELAY_PORT}`);
        try {
          const inv = writeInventories(h);
          for (const kind of (v['no-floor'] ? [] : ['connect', 'connect+12']) as FloorKind[]) {
            const forks = Math.min(n, 50);
            // warm-up, as hyperfine --warmup 1 did for the baseline (skipped for large N: it takes minutes)
            if (n <= 200) await floor(h, kind, forks);
            const ts: number[] = [];
            const before = turns();
            for (let r = 0; r < runs; r++) ts.push(await floor(h, kind, forks));
            const trips = relays.length ? (turns() - before) / runs / n : undefined;
            cells.push({ n, rtt, tool: `openssh ${kind}`, mode: 'cold', wall: ts, ...(trips ? { trips } : {}) });
            log(`   floor ${kind}: ${ts.map((t) => t.toFixed(2)).join(' ')} s`);
          }
          const aRuns = Number(v['ansible-runs'] ?? (n <= 10 ? runs : 1));
          const tools: Array<[string, number, (m: Mode, tag: string) => Promise<ToolRun>]> = [
            ['lvsrun', runs, (m, tag) => runLvsrun(repo, h, inv, m, tag)],
          ];
          if (haveAnsible && n <= 50 && (rtt === 0 || n <= 10)) {
            tools.push(['ansible defaults', aRuns, (m, tag) => runAnsible(repo, h, inv, 'default', m, tag)]);
            tools.push(['ansible pipelining+warm CP', aRuns, (m, tag) => runAnsible(repo, h, inv, 'warm', m, tag)]);
          }
          for (const [tool, k, fn] of tools) {
            const byMode: Record<Mode, ToolRun[]> = { cold: [], noop: [] };
            const relayTrips: Record<Mode, number[]> = { cold: [], noop: [] };
            for (let r = 0; r < k; r++) {
              for (const mode of ['cold', 'noop'] as Mode[]) {
                if (mode === 'cold') rmSync(rootOf(h), { recursive: true, force: true });
                const before = turns();
                const t = await fn(mode, `${n}-${rtt}-${r}-${mode}`);
                relayTrips[mode].push((turns() - before) / n);
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
            if (tool === 'lvsrun' && n === Math.max(...sizes) && rtt === rtts.at(-1) && !v['no-profile']) {
              rmSync(rootOf(h), { recursive: true, force: true });
              const profArgv = [join(repo, 'bin/lvsrun.js'), join(repo, 'bench/lvsrun/site.yaml')];
              profArgv.push('-i', inv.lvsrun, '-f', String(Math.min(n, 50)));
              profile =
                `## Where a cold lvsrun run's time goes (N=${n}, RTT ${rtt} ms, one extra profiled run)\n\n\`\`\`\n` +
                `${await profileRun(profArgv, repo)}\n\`\`\``;
            }
            for (const mode of ['cold', 'noop'] as Mode[]) {
              const rs = byMode[mode].map((t) => t.m);
              const perTask = byMode[mode].flatMap((t) => (t.tripsPerTask === undefined ? [] : [t.tripsPerTask]));
              cells.push({
                n,
                rtt,
                tool,
                mode,
                wall: rs.map((m) => m.wallS),
                ...(relays.length ? { trips: median(relayTrips[mode]) } : {}),
                ...(perTask.length ? { tripsPerTask: median(perTask) } : {}),
                rss: Math.max(...rs.map((m) => m.maxRssMiB)),
                tree: Math.max(...rs.map((m) => m.treePeakMiB ?? 0)),
                cpu: median(rs.map((m) => m.cpuS)),
              });
            }
          }
        } finally {
          await Promise.all(relays.map((r) => r.close()));
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

const RELAY_NET = '127.0.60';
const RELAY_PORT = 2222;

/** One relay per host, in front of its sshd, adding `rtt` ms to every round trip. */
async function relaysFor(h: SshdHosts, rtt: number): Promise<Relay[]> {
  return Promise.all(
    h.names.map((_, k) =>
      startRelay(
        { host: hostAddr(RELAY_NET, k + 1), port: RELAY_PORT },
        { host: h.addr(k + 1), port: h.port },
        rtt / 2,
      ),
    ),
  );
}

process.exitCode = await main().catch((e: unknown) => {
  log(`bench: ${e instanceof Error ? e.message : String(e)}`);
  return 1;
});
