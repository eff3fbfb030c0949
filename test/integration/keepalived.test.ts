import { describe, expect, it } from 'vitest';
import { cli, recapLine, waitFor } from './helpers.js';
import { LAB_CAP_MS, useLab } from './lab-session.js';

// The keepalived module against real keepalived daemons in the lab: a changed configuration is
// applied by a reload (same process, no restart), and a configuration keepalived -t refuses never
// replaces the live one.
const s = useLab();
const on = async (host: string, cmd: string): Promise<string> => (await s.exec(host, cmd)).stdout.trim();
const pid = (h: string): Promise<string> => on(h, 'cat /run/keepalived.pid');
const addrs = (h: string): Promise<string> => on(h, 'ip -o -4 addr show dev eth0');

describe('keepalived module in the lab', () => {
  it('builds the pair, then applies a changed VIP by reloading keepalived: same process, new address', async () => {
    const r = await cli('playbooks/site.yaml', '-i', 'lab');
    expect(r.code, r.out + r.err).toBe(0);
    await waitFor(async () => (await addrs('lb1')).includes('10.77.0.100/32'), s.bound(10_000));
    const before = { lb1: await pid('lb1'), lb2: await pid('lb2') };
    expect(before.lb1).toMatch(/^\d+$/);

    const moved = await cli(
      'playbooks/site.yaml',
      '-i',
      'lab',
      '--limit',
      'directors',
      '-e',
      'lvs_vip=10.77.0.101',
      '--json',
    );
    expect(moved.code, moved.out + moved.err).toBe(0);
    const j = JSON.parse(moved.out) as {
      recap: Record<string, { changed: number }>;
      results: Array<{ host: string; task: string; status: string; msg?: string }>;
    };
    const ka = j.results
      .filter((x) => x.task.startsWith('lvs_director : keepalived.conf'))
      .sort((a, b) => a.host.localeCompare(b.host));
    expect(ka.map((x) => [x.host, x.status, x.msg])).toEqual(
      ['lb1', 'lb2'].map((h) => [h, 'changed', 'update /etc/keepalived/keepalived.conf, reloaded keepalived']),
    );
    expect(j.recap.lb1!.changed).toBe(1);
    await waitFor(async () => (await addrs('lb1')).includes('10.77.0.101/32'), s.bound(10_000));
    await waitFor(async () => !(await addrs('lb1')).includes('10.77.0.100/32'), s.bound(10_000));
    expect({ lb1: await pid('lb1'), lb2: await pid('lb2') }).toEqual(before);
    expect(await on('lb1', 'grep -c 10.77.0.101 /etc/keepalived/keepalived.conf')).toBe('2');

    const back = await cli('playbooks/site.yaml', '-i', 'lab', '--limit', 'directors');
    expect(back.code).toBe(0);
    await waitFor(async () => (await addrs('lb1')).includes('10.77.0.100/32'), s.bound(10_000));
    expect(await pid('lb1')).toBe(before.lb1);
    const again = await cli('playbooks/site.yaml', '-i', 'lab', '--limit', 'directors');
    expect(recapLine(again.out, 'lb1').changed).toBe(0);
  });

  it('a configuration keepalived -t refuses fails the task and leaves file, daemon and VIP as they were', async () => {
    const snap =
      'sha256sum /etc/keepalived/keepalived.conf; stat -c %a /etc/keepalived/keepalived.conf; ls -a /etc/keepalived';
    const before = { files: await on('lb1', snap), pid: await pid('lb1') };
    const r = await cli('playbooks/site.yaml', '-i', 'lab', '--limit', 'lb1', '-e', 'lvs_interface=nope0');
    expect(r.code).toBe(2);
    // the refused file never replaced the live one: nothing to roll back, no needless reload
    expect(recapLine(r.out, 'lb1')).toMatchObject({ failed: 1, rolled_back: 0 });
    expect(r.out).not.toMatch(/rollback: \[lb1\]/);
    expect(r.out).toMatch(/validation failed/);
    expect(r.out).toMatch(/nope0/);
    expect(await on('lb1', snap)).toBe(before.files);
    expect(await pid('lb1')).toBe(before.pid);
    expect(await addrs('lb1')).toContain('10.77.0.100/32');
  });

  it(
    'unicast VRRP among the directors (lvs_unicast_group): the pair still elects lb1 and fails over',
    async () => {
      const r = await cli(
        'playbooks/site.yaml',
        '-i',
        'lab',
        '--limit',
        'directors',
        '-e',
        'lvs_unicast_group=directors',
      );
      expect(r.code, r.out + r.err).toBe(0);
      expect(await on('lb1', 'cat /etc/keepalived/keepalived.conf')).toMatch(
        /unicast_src_ip 10\.77\.1\.1\n\s+unicast_peer \{\n\s+10\.77\.1\.2\n\s+\}/,
      );
      expect(await on('lb2', 'grep -A1 unicast_peer /etc/keepalived/keepalived.conf')).toMatch(/10\.77\.1\.1/);
      const holders = async (): Promise<string> =>
        [
          (await addrs('lb1')).includes('10.77.0.100/32') ? 'lb1' : '',
          (await addrs('lb2')).includes('10.77.0.100/32') ? 'lb2' : '',
        ]
          .filter(Boolean)
          .join();
      await waitFor(async () => (await holders()) === 'lb1', s.bound(15_000));
      // unicast for real: keepalived on the BACKUP no longer listens on VRRP's multicast group
      expect(await on('lb2', 'ip maddr show dev eth0')).not.toContain('224.0.0.18');
      const d = await cli('drill', 'failover', '-i', 'lab', '--json');
      const res = JSON.parse(d.out) as {
        ok: boolean;
        verdict: string;
        events: Array<{ event: string; host?: string }>;
      };
      expect(d.code, res.verdict).toBe(0);
      expect(res.events.map((e) => `${e.event} ${e.host ?? ''}`.trim())).toEqual(
        expect.arrayContaining(['vip-moved lb2', 'vip-returned lb1']),
      );
      expect((await cli('playbooks/site.yaml', '-i', 'lab', '--limit', 'directors')).code).toBe(0); // back to multicast
      expect(await on('lb1', 'grep -c unicast /etc/keepalived/keepalived.conf || true')).toBe('0');
      await waitFor(async () => (await on('lb2', 'ip maddr show dev eth0')).includes('224.0.0.18'), s.bound(10_000));
    },
    LAB_CAP_MS,
  );
});
