import { service } from '../modules/service.js';
import type { DrillChanges } from './change.js';
import { holders, type DirectorConn } from './failover.js';
import { realServerCounters } from './ipvs-live.js';
import { rsWeight } from '../modules/ipvs-weight.js';
import { httpOnce, startProbe } from './probe.js';
import { outage, Timeline, type DrillResult } from './timeline.js';
import { sh } from '../transport/shell.js';
import { sleep, until } from './wait.js';

export interface RealServerDrillInput {
  runId: string;
  directors: DirectorConn[];
  rs: DirectorConn & { addr: string };
  vip: string;
  port: number;
  probe: string;
  timeoutMs: number;
  changes: DrillChanges;
  signal?: AbortSignal;
  /** drain: a maintenance command run on the real server while it is drained. */
  runCmd?: string;
  /** rs-down: the service to stop (default nginx). */
  service?: string;
}

const counters = (i: RealServerDrillInput) => Promise.all(i.directors.map((d) => realServerCounters(d.t, i.rs.addr)));

/**
 * drain: weight 0 for the real server on every director, wait for its active connections to
 * reach 0, optionally run maintenance on it, restore the weights, and check it takes new
 * connections again (its IPVS connection counter grows when requests go to the VIP).
 */
export async function drainDrill(i: RealServerDrillInput): Promise<DrillResult> {
  const tl = new Timeline();
  const metrics: DrillResult['metrics'] = {};
  let ok = false;
  let verdict = '';
  const probe = startProbe(i.probe, i.vip, tl);
  try {
    tl.mark('drill-start', i.rs.name);
    await sleep(500);
    let applied = 0;
    for (const d of i.directors) {
      if (await i.changes.apply(d.t, d.vars, d.become, rsWeight, { addr: i.rs.addr, weight: 0 })) {
        applied++;
        tl.mark('weight-0', d.name);
      }
    }
    if (!applied) {
      verdict = `${i.rs.addr} is in no director's IPVS table`;
      return result();
    }
    const tDrain = tl.at('weight-0')!;
    // Only the director holding the VIP carries traffic; a BACKUP may keep stale entries of
    // connections cut by an earlier failover until IPVS times them out (up to 15 min).
    const holding = new Set(await holders(i.directors, i.vip));
    const live = i.directors.filter((d) => holding.has(d.name));
    const activeConns = async (): Promise<number[]> =>
      Promise.all(
        (live.length ? live : i.directors).map(async (d) => (await realServerCounters(d.t, i.rs.addr)).active),
      );
    if (!(await until(async () => (await activeConns()).every((n) => n === 0), i.timeoutMs, i.signal))) {
      tl.mark('drain-timeout');
      verdict = `${i.rs.name} still had active connections after ${i.timeoutMs / 1000} s; weights restored`;
      return result();
    }
    metrics.drain_s = (tl.mark('drained', i.rs.name) - tDrain) / 1000;
    if (i.runCmd) {
      const r = await i.rs.t.exec(sh`/bin/sh -c ${i.runCmd}`);
      tl.mark('maintenance', i.rs.name, `exit ${r.code}`);
      metrics.maintenance_exit = r.code;
    }
    await sleep(1000);
    const errs = await i.changes.restore();
    tl.mark('weight-restored');
    if (errs.length) {
      verdict = `restore failed: ${errs.join('; ')}`;
      return result();
    }
    // ActiveConn + InActConn move at once; the --stats counters only when the kernel's estimator runs (~2 s).
    const sum = async (): Promise<number> => (await counters(i)).reduce((n, c) => n + c.active + c.inactive, 0);
    const before = await sum();
    for (let k = 0; k < 10; k++) await httpOnce(i.vip, i.port, 2000);
    const after = await sum();
    metrics.new_connections_after_restore = after - before;
    ok = after > before;
    if (ok) tl.mark('traffic-back', i.rs.name);
    verdict = ok
      ? `${i.rs.name} drained in ${metrics.drain_s} s, weights restored, ` +
        `and it takes new connections again (${after - before} new connections seen)`
      : `${i.rs.name} took no new connection after its weight was restored`;
    return result();
  } finally {
    await i.changes.restore().catch(() => undefined);
    await probe.stop();
    finish();
  }
  function result(): DrillResult {
    return {
      drill: 'drain',
      runId: i.runId,
      started: tl.started,
      target: `${i.rs.name} (${i.rs.addr})`,
      probe: i.probe,
      ok,
      verdict,
      metrics,
      events: tl.events,
      probes: tl.probes,
    };
  }
  function finish(): void {
    const o = outage(tl.probes, 0);
    metrics.failed_probes = o.failed;
    metrics.probes = tl.probes.length;
    tl.mark('drill-end');
  }
}

/**
 * rs-down: stop the service on a real server, measure how long until the health checker takes
 * it out of the IPVS table, start it again and measure until it is back; probes through the VIP
 * meanwhile show whether traffic only reached healthy servers once it was out.
 */
export async function rsDownDrill(i: RealServerDrillInput): Promise<DrillResult> {
  const tl = new Timeline();
  const metrics: DrillResult['metrics'] = {};
  let ok = false;
  let verdict = '';
  const svc = i.service ?? 'nginx';
  // The director holding the VIP carries the traffic; each director's checker decides on its own.
  const holding = new Set(await holders(i.directors, i.vip));
  const watched = i.directors.filter((d) => holding.has(d.name));
  const presence = async (): Promise<boolean[]> =>
    (await Promise.all((watched.length ? watched : i.directors).map((d) => realServerCounters(d.t, i.rs.addr)))).map(
      (c) => c.present,
    );
  const inTable = async (): Promise<boolean> => (await presence()).every(Boolean);
  const outOfTable = async (): Promise<boolean> => !(await presence()).some(Boolean);
  const probe = startProbe(i.probe, i.vip, tl);
  try {
    tl.mark(
      'drill-start',
      i.rs.name,
      `watching ${(watched.length ? watched : i.directors).map((d) => d.name).join(', ')}`,
    );
    if (!(await inTable())) {
      verdict = `${i.rs.addr} is not in the IPVS table before the drill`;
      return result();
    }
    await sleep(1000);
    await i.changes.apply(i.rs.t, i.rs.vars, i.rs.become, service, { name: svc, state: 'stopped' });
    const tStop = tl.mark('service-stopped', i.rs.name, svc);
    if (!(await until(outOfTable, i.timeoutMs, i.signal))) {
      tl.mark('out-of-bounds');
      verdict = `the health checker did not remove ${i.rs.name} within ${i.timeoutMs / 1000} s; ${svc} restarted`;
      return result();
    }
    const tRemoved = tl.mark('removed', i.rs.name);
    metrics.removed_s = (tRemoved - tStop) / 1000;
    await sleep(3000); // probes while it is out: they must all succeed
    await i.changes.restore();
    const tStart = tl.mark('service-started', i.rs.name, svc);
    if (!(await until(inTable, i.timeoutMs, i.signal))) {
      verdict = `${i.rs.name} was not re-added within ${i.timeoutMs / 1000} s of ${svc} starting`;
      return result();
    }
    const tBack = tl.mark('readded', i.rs.name);
    metrics.readded_s = (tBack - tStart) / 1000;
    const whileOut = tl.probes.filter((p) => p.t >= tRemoved && p.t <= tStart);
    metrics.failed_probes_while_out = whileOut.filter((p) => !p.ok).length;
    ok = metrics.failed_probes_while_out === 0;
    verdict = ok
      ? `${i.rs.name} removed ${metrics.removed_s} s after ${svc} stopped, ` +
        `re-added ${metrics.readded_s} s after it started; no request failed while it was out`
      : `${metrics.failed_probes_while_out} request(s) failed while ${i.rs.name} was out of the table`;
    return result();
  } finally {
    await i.changes.restore().catch(() => undefined);
    await probe.stop();
    const o = outage(tl.probes, tl.at('service-stopped') ?? 0);
    metrics.failed_probes = o.failed;
    metrics.probes = tl.probes.length;
    tl.mark('drill-end');
  }
  function result(): DrillResult {
    return {
      drill: 'rs-down',
      runId: i.runId,
      started: tl.started,
      target: `${i.rs.name} (${i.rs.addr})`,
      probe: i.probe,
      ok,
      verdict,
      metrics,
      events: tl.events,
      probes: tl.probes,
    };
  }
}
