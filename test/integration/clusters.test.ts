import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, waitFor } from './helpers.js';
import { useLab } from './lab-session.js';

/*
 * The cluster layouts of test/clusters that run in a namespace lab (no IPVS, ipip or dummy here),
 * applied to the lab's hosts: the layout's group variables go in with -e (the lab's inventory holds
 * the hosts). Each converges, changes nothing the second time, and its run's rollback returns the
 * hosts to where they were, so the next layout starts clean.
 */
const root = join(import.meta.dirname, '..', 'clusters');
const L = useLab();

interface Summary {
  run_id: string;
  recap: Record<string, { changed: number; failed: number }>;
  results: Array<{ host: string; task: string; status: string; msg?: string }>;
}
async function run(layout: string, vars: Record<string, unknown>, ...more: string[]): Promise<Summary> {
  const r = await cli(join(root, layout, 'site.yaml'), '-i', 'lab', '-e', JSON.stringify(vars), '--json', ...more);
  expect(r.code, r.err + r.out.slice(0, 2000)).toBe(0);
  return JSON.parse(r.out) as Summary;
}
const changed = (s: Summary): string[] =>
  s.results.filter((r) => r.status === 'changed').map((r) => `${r.host} ${r.task}`);

const LAYOUTS: Array<[string, Record<string, unknown>]> = [
  ['dr-wrr', { lvs_vrid: 61, lvs_auth_pass: 'dr61pw', lvs_scheduler: 'wrr', lvs_router_id: '{{inventory_hostname}}' }],
  [
    'nopreempt-script',
    {
      lvs_vrid: 64,
      lvs_auth_pass: 'np64pw',
      lvs_nopreempt: true,
      keepalived_state: 'BACKUP',
      lvs_vrrp_scripts: { chk_ipvs: { script: "/bin/sh -c 'test -e /proc/net/ip_vs'", interval: 2, weight: -60 } },
      lvs_track_scripts: ['chk_ipvs'],
    },
  ],
];

describe('cluster layouts in the lab', () => {
  for (const [layout, vars] of LAYOUTS) {
    it(`${layout}: --check foresees the run, the run converges, a second run and --check change nothing, rollback restores`, async () => {
      const planned = await run(layout, vars, '--check');
      const first = await run(layout, vars);
      // what --check planned is what the run did (the IPVS probe answered under --check too)
      expect(
        changed(first)
          .filter((c) => !c.includes('restart keepalived'))
          .sort(),
      ).toEqual(
        changed(planned)
          .filter((c) => !c.includes('restart keepalived'))
          .sort(),
      );
      expect(Object.values(first.recap).every((c) => c.failed === 0)).toBe(true);
      const second = await run(layout, vars);
      expect(changed(second)).toEqual([]);
      expect(changed(await run(layout, vars, '--check'))).toEqual([]);
      // VRRP elects one director, which holds the VIP (wait for the election: the machine may be busy)
      const holders = async (): Promise<string[]> => {
        const out: string[] = [];
        for (const h of ['lb1', 'lb2']) {
          const r = await L.exec(h, `ip -o addr show dev eth0 | grep -c ' ${L.lab.vip}/' || true`);
          if (r.stdout.trim() !== '0') out.push(h);
        }
        return out;
      };
      await waitFor(async () => (await holders()).length === 1, L.bound(60_000));
      const back = await cli('rollback', first.run_id, '-i', 'lab');
      expect(back.code, back.err).toBe(0);
      expect(changed(await run(layout, vars, '--check')).length).toBeGreaterThan(0);
    });
  }
});
