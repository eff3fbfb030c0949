import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure } from './measure.js';

/** Machine-wide CPU seconds (all cores) from /proc/stat, split into user+nice+system and idle. */
function cpuTimes(): { busy: number; idle: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const hz = 100;
  return { busy: (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / hz, idle: (f[3]! + f[4]!) / hz };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The file a profiled frame's code was written in. lvsrun runs bundled (scripts/bundle.mjs): a frame
 * in a bundle file is looked up in that file's source map, so it is named by its own module (or its
 * package) rather than by the chunk it was bundled into. Other frames keep their URL.
 */
function sourceOf(frame: ProfileNode['callFrame'], maps: Map<string, SourceMap | undefined>): string {
  if (!frame.url.startsWith('file://') || !frame.url.endsWith('.js')) return frame.url;
  const file = fileURLToPath(frame.url);
  if (!maps.has(file)) {
    const map = `${file}.map`;
    maps.set(
      file,
      existsSync(map)
        ? new SourceMap(JSON.parse(readFileSync(map, 'utf8')) as ConstructorParameters<typeof SourceMap>[0])
        : undefined,
    );
  }
  const map = maps.get(file);
  if (!map) return file;
  const entry = map.findEntry(frame.lineNumber, frame.columnNumber);
  const original = 'originalSource' in entry ? entry.originalSource : undefined;
  // No source: a bundle file's own top level (its modules' top-level code) or the bundler's helpers.
  return original ? resolve(dirname(file), original) : '(bundle top level and helpers)';
}

/**
 * Where a cold lvsrun run's time goes: its wall time, lvsrun's own CPU, the CPU everything else on
 * the machine used meanwhile (sshd, remote shells, the commands), and lvsrun's hottest functions
 * from a V8 CPU profile, grouped by source file.
 */
export async function profileRun(argv: string[], cwd: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsrun-prof-'));
  const c0 = cpuTimes();
  const t0 = process.hrtime.bigint();
  const m = await measure([process.execPath, '--cpu-prof', '--cpu-prof-dir', dir, ...argv], {
    cwd,
    tag: 'profile',
    env: { ...process.env, CI: 'true' },
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = cpuTimes();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const lines = [
    `wall ${wall.toFixed(2)} s; machine CPU busy ${(c1.busy - c0.busy).toFixed(1)} core-s ` +
      `of ${(wall * 2).toFixed(1)} available on 2 cores`,
  ];
  if (file) {
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const selfUs = new Map<number, number>();
    prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
    const byFile = new Map<string, number>();
    const maps = new Map<string, SourceMap | undefined>();
    let total = 0;
    let idle = 0;
    for (const [id, us] of selfUs) {
      const n = byId.get(id)!;
      const name = n.callFrame.functionName;
      if (name === '(idle)' || name === '(program)') {
        idle += name === '(idle)' ? us : 0;
        if (name === '(idle)') continue;
      }
      total += us;
      const url =
        sourceOf(n.callFrame, maps)
          .replace(/^file:\/\//, '')
          .replace(`${cwd}/`, '') || `(${name || 'native'})`;
      const key = url.includes('node_modules/')
        ? url.replace(/.*node_modules\/((?:@[^/]+\/)?[^/]+).*/, 'dep:$1')
        : url.startsWith('node:')
          ? 'node internals'
          : url;
      byFile.set(key, (byFile.get(key) ?? 0) + us);
    }
    lines.push(
      `lvsrun process: ${m.cpuS.toFixed(2)} s CPU (user+sys); ` +
        `the rest of the machine: ${(c1.busy - c0.busy - m.cpuS).toFixed(1)} core-s ` +
        `(sshd, remote shells and commands, loopback TCP)`,
    );
    lines.push(
      `lvsrun event loop: ${(total / 1e6).toFixed(2)} s busy, ${(idle / 1e6).toFixed(2)} s idle waiting on hosts`,
    );
    lines.push('lvsrun busy time by source (V8 samples, self time; syscalls include time spent waiting for a core):');
    for (const [k, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 10))
      lines.push(`  ${(us / 1e3).toFixed(0).padStart(6)} ms  ${k}`);
  }
  rmSync(dir, { recursive: true, force: true });
  return lines.join('\n');
}
