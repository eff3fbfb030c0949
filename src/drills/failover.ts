import type { BecomeSpec } from '../transport/become.js';
import { service } from '../modules/service.js';
import { linkCut } from '../modules/link-cut.js';
import { sh } from '../transport/shell.js';
import type { Transport } from '../transport/types.js';
import type { DrillChanges } from './change.js';
import { startProbe } from './probe.js';
import { outage, Timeline, type DrillResult } from './timeline.js';
import { sleep, until } from './wait.js';

export interface DirectorConn {
  name: string;
  t: Transport;
  vars: Record<string, unknown>;
  become: BecomeSpec;
}

export interface FailoverInput {
  runId: string;
  directors: DirectorConn[];
  vip: string;
  probe: string;
  /**
   * stop: keepalived on the MASTER; service: the tracked service named by `service`;
   * link: its VRRP interface goes down for `cutSeconds`.
   */
  mode: 'stop' | 'service' | 'link';
  cutSeconds?: number;
  service?: string;
  nopreempt: boolean;
  maxWaitMs: number;
  changes: DrillChanges;
  signal?: AbortSignal;
  log: (s: string) => void;
}

/** Who holds the VIP right now (one `ip addr` per director, in parallel). */
export async function holders(ds: DirectorConn[], vip: string): Promise<string[]> {
  const rs = await Promise.all(ds.map(async (d) => ({ d, r: await d.t.exec(sh`ip -o addr show`) })));
  return rs.filter(({ r }) => r.stdout.includes(` ${vip}/`)).map(({ d }) => d.name);
}

/**
 * Poll until `pred(holders)` or the limit; returns the holders seen last and whether pred held.
 * `onHit` runs the moment it holds.
 */
async function waitFor(
  ds: DirectorConn[],
  vip: string,
  pred: (h: string[]) => boolean,
  ms: number,
  signal?: AbortSignal,
  onHit?: (h: string[]) => void,
): Promise<{ ok: boolean; h: string[] }> {
  let h: string[] = [];
  const ok = await until(
    async () => {
      h = await holders(ds, vip);
      return pred(h);
    },
    ms,
    signal,
    100,
  );
  if (ok) onHit?.(h);
  return { ok, h };
}

/**
 * Failover drill: find the MASTER (the director holding the VIP), probe through the VIP, stop
 * keepalived (or the tracked service) on it, measure when the VIP appears elsewhere and when the
 * probe recovers, restore the old MASTER and check the pair behaves as configured (preemptive:
 * the VIP returns; nopreempt: it stays). Out of bounds (no new MASTER in time): restore and fail.
 */
export async function failoverDrill(i: FailoverInput): Promise<DrillResult> {
  const tl = new Timeline();
  const metrics: DrillResult['metrics'] = {};
  let verdict = '';
  let ok = false;
  const before = await holders(i.directors, i.vip);
  tl.mark('drill-start', undefined, `VIP ${i.vip} held by ${before.join(', ') || 'nobody'}`);
  const done = (): DrillResult => ({
    drill: 'failover',
    runId: i.runId,
    started: tl.started,
    target: i.vip,
    probe: i.probe,
    ok,
    verdict,
    metrics,
    events: tl.events,
    probes: tl.probes,
  });
  if (before.length !== 1) {
    verdict =
      `expected exactly one director holding ${i.vip} before the drill, ` +
      `found ${before.length ? before.join(', ') : 'none'}: the cluster is not in a state to drill`;
    return done();
  }
  const master = i.directors.find((d) => d.name === before[0])!;
  const probe = startProbe(i.probe, i.vip, tl);
  try {
    await sleep(1000);
    const iface = String(master.vars.lvs_interface ?? 'eth0');
    const cut = i.cutSeconds ?? 8;
    tl.mark(
      'stop',
      master.name,
      i.mode === 'stop'
        ? 'keepalived stopped'
        : i.mode === 'link'
          ? `${iface} down for ${cut} s`
          : `${i.service} stopped`,
    );
    // With its link cut the old MASTER cannot answer: watch the others until it is back. The watch
    // starts with the cut: the reply to the cut itself can be held up until the link returns.
    const watched = i.mode === 'link' ? i.directors.filter((d) => d !== master) : i.directors;
    const watch = new AbortController();
    const stopWatch = (): void => watch.abort();
    i.signal?.addEventListener('abort', stopWatch, { once: true });
    let tMoved = 0;
    const movedP = waitFor(
      watched,
      i.vip,
      (h) => h.length === 1 && h[0] !== master.name,
      i.maxWaitMs,
      watch.signal,
      (h) => {
        tMoved = tl.mark('vip-moved', h[0]);
      },
    );
    try {
      if (i.mode === 'link')
        await i.changes.apply(master.t, master.vars, master.become, linkCut, { iface, seconds: cut });
      else
        await i.changes.apply(master.t, master.vars, master.become, service, {
          name: i.mode === 'stop' ? 'keepalived' : i.service,
          state: 'stopped',
        });
    } catch (e) {
      watch.abort();
      await movedP;
      throw e;
    }
    const moved = await movedP;
    i.signal?.removeEventListener('abort', stopWatch);
    if (i.signal?.aborted) {
      verdict = 'interrupted: cluster restored';
      return done();
    }
    if (!moved.ok) {
      tl.mark(
        'out-of-bounds',
        undefined,
        `no new MASTER within ${i.maxWaitMs / 1000} s (holders: ${moved.h.join(', ') || 'none'})`,
      );
      const down = await stoppedPeers(i.directors.filter((d) => d !== master));
      verdict =
        `no director took over ${i.vip} within ${i.maxWaitMs / 1000} s` +
        `${down.length ? `: keepalived is not running on ${down.join(', ')}` : ''}; the old MASTER was restored`;
      return done();
    }
    const newMaster = moved.h[0]!;
    metrics.vip_move_s = (tMoved - tl.at('stop')!) / 1000;
    metrics.new_master = newMaster;
    // give the probe a moment to see the VIP answer from its new home
    await sleep(1500);
    if (i.mode === 'link') await sleep(Math.max(0, cut * 1000 - (tl.now() - tl.at('stop')!)));
    tl.mark('restore-start', master.name);
    const errs = await i.changes.restore();
    if (errs.length) {
      verdict = `restore failed: ${errs.join('; ')}`;
      return done();
    }
    if (i.nopreempt) {
      const gaveBack = await waitFor(i.directors, i.vip, (h) => h.includes(master.name), 4000, i.signal);
      tl.mark(gaveBack.ok ? 'vip-returned' : 'vip-stayed', gaveBack.ok ? master.name : newMaster);
      ok = !gaveBack.ok;
      verdict = ok
        ? `failover in ${metrics.vip_move_s} s; nopreempt: ` +
          `the VIP stayed on ${newMaster} after ${master.name} came back, as configured`
        : `nopreempt is configured but ${master.name} took the VIP back`;
    } else {
      const back = await waitFor(
        i.directors,
        i.vip,
        (h) => h.length === 1 && h[0] === master.name,
        i.maxWaitMs,
        i.signal,
      );
      if (back.ok) metrics.vip_return_s = (tl.mark('vip-returned', master.name) - tl.at('restore-start')!) / 1000;
      ok = back.ok;
      verdict = ok
        ? `failover in ${metrics.vip_move_s} s to ${newMaster}; ` +
          `preemptive: the VIP returned to ${master.name} in ${metrics.vip_return_s} s, as configured`
        : `preemptive pair, but the VIP did not return to ${master.name} within ${i.maxWaitMs / 1000} s ` +
          `(holders: ${back.h.join(', ') || 'none'})`;
    }
    await sleep(1000);
    return done();
  } finally {
    await i.changes.restore().catch(() => undefined); // every path leaves the cluster as it was
    await probe.stop();
    const o = outage(tl.probes, tl.at('stop') ?? 0);
    metrics.failed_probes = o.failed;
    metrics.probes = tl.probes.length;
    metrics.outage_s = o.firstFail !== null && o.recovered !== null ? (o.recovered - o.firstFail) / 1000 : null;
    tl.mark('drill-end');
  }
}

async function stoppedPeers(ds: DirectorConn[]): Promise<string[]> {
  const r = await Promise.all(ds.map(async (d) => ({ d, up: (await d.t.exec(sh`pidof keepalived`)).code === 0 })));
  return r.filter((x) => !x.up).map((x) => x.d.name);
}
