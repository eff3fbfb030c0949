import { describe, expect, it } from 'vitest';
import { cli, recapLine, waitFor } from './helpers.js';
import { LAB_CAP_MS, useLab } from './lab-session.js';

// LVS-TUN needs ipip on the real servers, which this machine's kernel lacks: the director and both
// real servers are QEMU guests (Debian's kernel), the client a namespace host on the same bridge.
const L = useLab(undefined, { vm: 'all', directors: 1 });
const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout.trim();
/** A bound in whole seconds: what it takes on an idle machine, scaled by the lab's measured pace. */
const secs = (idleMs: number): string => String(Math.ceil(L.bound(idleMs) / 1000));
const rxPackets = async (h: string): Promise<number> =>
  Number(await on(h, 'cat /sys/class/net/tunl0/statistics/rx_packets'));

describe('tun.yaml in VM mode (real IPVS and IPIP)', () => {
  let firstRun = '';
  it(
    'builds the TUN cluster; the second run changes nothing',
    async () => {
      const first = await cli('playbooks/tun.yaml', '-i', 'lab');
      expect(first.code, first.out + first.err).toBe(0);
      firstRun = /run (\S+) finished/.exec(first.out)![1]!;
      const second = await cli('playbooks/tun.yaml', '-i', 'lab');
      for (const h of ['lb1', 'rs1', 'rs2']) expect(recapLine(second.out, h)).toMatchObject({ changed: 0, failed: 0 });
      for (const rs of ['rs1', 'rs2']) {
        expect(await on(rs, 'ip -o -4 addr show dev tunl0')).toContain(`${L.lab.vip}/32`);
        expect(
          await on(
            rs,
            'sysctl -n net.ipv4.conf.tunl0.rp_filter net.ipv4.conf.all.arp_ignore net.ipv4.conf.tunl0.arp_announce',
          ),
        ).toBe('0\n1\n2');
      }
    },
    LAB_CAP_MS,
  );

  it(
    'keepalived programs tunnel forwarding, and requests alternate with the replies bypassing the director',
    async () => {
      const table = async (): Promise<string> => on('lb1', 'ipvsadm -S -n');
      // keepalived's health checks add each real server a few seconds after it starts (idle machine),
      // each on its own check timer: wait until both are in
      await waitFor(async () => {
        const t = await table();
        return t.includes('-r 10.77.2.1:80') && t.includes('-r 10.77.2.2:80');
      }, L.bound(30_000));
      expect(await table()).toMatch(
        new RegExp(`-a -t ${L.lab.vip.replace(/\./g, '\\.')}:80 -r 10\\.77\\.2\\.1:80 -i -w 1`),
      );
      const rx = [await rxPackets('rs1'), await rxPackets('rs2')];
      await on('lb1', 'ipvsadm -Z');
      const out = await on(
        'client1',
        `for i in 1 2 3 4 5 6; do curl -s --max-time ${secs(3_000)} http://${L.lab.vip}/ | grep -o '<h1>[a-z0-9]*</h1>'; done`,
      );
      const seen = out.split('\n').map((l) => l.replace(/<\/?h1>/g, ''));
      expect(seen).toHaveLength(6);
      for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
      // requests arrived decapsulated on tunl0; IPVS saw them go in and nothing come back
      expect(await rxPackets('rs1')).toBeGreaterThan(rx[0]!);
      expect(await rxPackets('rs2')).toBeGreaterThan(rx[1]!);
      // kernel 6.1 folds the per-CPU counters into what ipvsadm reads every 2 s (the rate estimator)
      const statsNow = async (): Promise<string[]> =>
        (await on('lb1', 'ipvsadm -L -n --stats'))
          .split('\n')
          .find((l) => l.startsWith('TCP'))!
          .trim()
          .split(/\s+/);
      let stats = await statsNow();
      await waitFor(async () => Number((stats = await statsNow())[3]) >= 6, L.bound(5_000));
      expect(Number(stats[3]), stats.join(' ')).toBeGreaterThanOrEqual(6); // InPkts
      expect(Number(stats[4])).toBe(0); // OutPkts
    },
    LAB_CAP_MS,
  );

  it(
    'lvsrun rollback of the first run takes it apart: no VIP, tunl0 down, sysctls back',
    async () => {
      const r = await cli('rollback', firstRun, '-i', 'lab');
      expect(r.code, r.out + r.err).toBe(0);
      for (const rs of ['rs1', 'rs2']) {
        expect(await on(rs, 'ip -o -4 addr show dev tunl0')).toBe('');
        expect(await on(rs, 'ip -o link show dev tunl0')).not.toMatch(/<[^>]*\bUP\b/);
        expect(await on(rs, 'sysctl -n net.ipv4.conf.all.arp_ignore; pidof nginx || echo none')).toBe('0\nnone');
      }
      expect(await on('lb1', 'pidof keepalived || echo none')).toBe('none');
    },
    LAB_CAP_MS,
  );
});
