import { IpvsListError, parseIpvsList, type ListedService } from '../lvs/ipvs-list.js';
import { raw, sh } from '../transport/shell.js';
import type { DirectorConn } from './failover.js';
import { startProbe } from './probe.js';
import { outage, Timeline, type DrillResult } from './timeline.js';
import { sleep } from './wait.js';

export interface RollingDrillInput {
  runId: string;
  directors: DirectorConn[];
  /** The real servers of the rollout: inventory name and address as IPVS lists it ("addr:port"). */
  reals: Array<{ name: string; key: string }>;
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  probe: string;
  /** Milliseconds between probe requests (50: twenty a second). */
  probeEveryMs: number;
  /** How long one request may take before it counts as failed. */
  probeTimeoutMs: number;
  /** How often every director's table is read while the rollout runs. */
  watchEveryMs: number;
  /** Runs the rollout (the playbook) and gives its exit code. */
  rollout: () => Promise<number>;
  signal?: AbortSignal;
}

/** What the watcher saw of one real server on one director. */
interface Seen {
  weight: number;
  active: number;
}

/**
 * A rollout, measured: every director's IPVS table is saved before and after (they must be
 * identical), a probe requests the VIP throughout, and every director's live table is read a few
 * times a second while the playbook runs, so each server's drain is timed from what IPVS showed:
 * `drain_s` from its weight reaching 0 on a director to weight 0 and no active connection on every
 * one (the drain reaches the directors one after another), `conn_drain_s` the longest wait on one
 * director for its connections to end, and `out_of_rotation_s` until its weight is back on every one.
 */
export async function rollingDrill(i: RollingDrillInput): Promise<DrillResult> {
  const tl = new Timeline();
  const metrics: DrillResult['metrics'] = {};
  const before = await saved(i.directors);
  const flag = { tcp: '-t', udp: '-u', sctp: '--sctp-service' }[i.protocol];
  const svc = `${i.vip.includes(':') ? `[${i.vip}]` : i.vip}:${i.port}`;
  const state = new Map<string, { drainedAt?: number; zeroAt?: number; backAt?: number }>();
  const mark = (rs: string) => state.get(rs) ?? (state.set(rs, {}), state.get(rs)!);
  let watchError: string | undefined;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const t0 = performance.now();
      const tables = await Promise.all(
        i.directors.map(async (d) => {
          const r = await d.t.exec(sh`ipvsadm -L -n ${flag} ${svc} 2>&1`).catch((e: Error) => ({
            code: 1,
            stdout: e.message,
          }));
          try {
            return r.code === 0 ? parseIpvsList(r.stdout) : [];
          } catch (e) {
            if (e instanceof IpvsListError && !watchError) {
              watchError = `${d.name}: ${e.message}`;
              tl.mark('watch-error', d.name, e.message);
            }
            return [];
          }
        }),
      );
      observe(tables);
      const wait = i.watchEveryMs - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
  })();
  // Per real server and director: when its weight was first seen at 0 there, and its active connections at 0 after.
  const per = new Map<string, { zero?: number; idle?: number }>();
  function observe(tables: ListedService[][]): void {
    for (const rs of i.reals) {
      const rows = tables.map((t) =>
        t.flatMap((s) => s.reals).find((r) => `${r.addr}:${r.port}` === rs.key || `[${r.addr}]:${r.port}` === rs.key),
      );
      const seen = rows.filter((r): r is NonNullable<typeof r> => r !== undefined) as Seen[];
      if (!seen.length) continue;
      const m = mark(rs.name);
      const now = tl.now();
      rows.forEach((r, k) => {
        const key = `${rs.name} ${k}`;
        const d = per.get(key) ?? {};
        if (r && r.weight === 0 && d.zero === undefined && m.backAt === undefined) d.zero = now;
        if (r && d.zero !== undefined && d.idle === undefined && r.active === 0) d.idle = now;
        per.set(key, d);
      });
      if (m.zeroAt === undefined && seen.some((s) => s.weight === 0)) m.zeroAt = tl.mark('weight-0', rs.name);
      if (m.zeroAt !== undefined && m.drainedAt === undefined && seen.every((s) => s.weight === 0 && s.active === 0))
        m.drainedAt = tl.mark('drained', rs.name, `${((tl.now() - m.zeroAt) / 1000).toFixed(2)} s`);
      if (m.zeroAt !== undefined && m.backAt === undefined && seen.every((s) => s.weight > 0))
        m.backAt = tl.mark('weight-restored', rs.name);
    }
  }
  /** The longest time, over the directors, from a server's weight 0 there to no active connection there. */
  const connDrain = (rs: string): number | undefined => {
    const ts = i.directors.map((_, k) => per.get(`${rs} ${k}`)).filter((d) => d?.zero !== undefined);
    if (!ts.length || ts.some((d) => d!.idle === undefined)) return undefined;
    return Math.max(...ts.map((d) => d!.idle! - d!.zero!)) / 1000;
  };
  const probe = startProbe(i.probe, i.vip, tl, i.probeEveryMs, i.probeTimeoutMs);
  let code: number | undefined;
  try {
    tl.mark('rollout-start', undefined, i.reals.map((r) => r.name).join(', '));
    await sleep(500);
    code = await i.rollout();
    tl.mark('rollout-end', undefined, `exit ${code}`);
    // Requests go on a moment after the last server is back: they must reach it and all succeed.
    await sleep(1000);
  } finally {
    watching = false;
    await watch;
    await probe.stop();
  }
  const after = await saved(i.directors);
  const changed = i.directors.filter((d) => before.get(d.name) !== after.get(d.name)).map((d) => d.name);
  const o = outage(tl.probes, 0);
  metrics.exit_code = code ?? null;
  metrics.probes = tl.probes.length;
  metrics.failed_probes = o.failed;
  metrics.probe_max_ms = Math.max(0, ...tl.probes.map((p) => p.ms ?? 0));
  metrics.tables_identical = changed.length ? `no (${changed.join(', ')})` : 'yes';
  const done: string[] = [];
  const drained: string[] = [];
  for (const rs of i.reals) {
    const m = state.get(rs.name);
    if (!m?.zeroAt) continue;
    if (m.drainedAt !== undefined) metrics[`drain_s ${rs.name}`] = (m.drainedAt - m.zeroAt) / 1000;
    const c = connDrain(rs.name);
    if (c !== undefined) metrics[`conn_drain_s ${rs.name}`] = c;
    if (m.backAt !== undefined) {
      metrics[`out_of_rotation_s ${rs.name}`] = (m.backAt - m.zeroAt) / 1000;
      done.push(rs.name);
    } else drained.push(rs.name);
  }
  metrics.servers_done = done.join(', ') || 'none';
  if (drained.length) metrics.left_drained = drained.join(', ');
  tl.mark('drill-end');
  const ok = code === 0 && o.failed === 0 && !changed.length && !watchError;
  const verdict =
    code !== 0
      ? `the rollout stopped (exit ${code}): done ${metrics.servers_done}` +
        `${drained.length ? `; left drained: ${drained.join(', ')}` : ''}; ${o.failed} failed request(s)`
      : ok
        ? `${done.length} server(s) rolled through with ${o.failed} failed request(s) of ${tl.probes.length}; ` +
          'every IPVS table is as before'
        : [
            o.failed ? `${o.failed} request(s) through the VIP failed` : '',
            changed.length ? `the IPVS table of ${changed.join(', ')} differs from before` : '',
            watchError ? `a director's table could not be read: ${watchError}` : '',
          ]
            .filter(Boolean)
            .join('; ');
  return {
    drill: 'rolling',
    runId: i.runId,
    started: tl.started,
    target: `${i.reals.map((r) => r.name).join(', ')} behind ${i.vip}`,
    probe: i.probe,
    ok,
    verdict,
    metrics,
    events: tl.events,
    probes: tl.probes,
  };
}

/** Every director's table as `ipvsadm -S -n` saves it: what "identical before and after" compares. */
async function saved(ds: DirectorConn[]): Promise<Map<string, string>> {
  const out = await Promise.all(
    ds.map(async (d) => [d.name, (await d.t.exec(raw('ipvsadm -S -n 2>&1'))).stdout] as const),
  );
  return new Map(out);
}
