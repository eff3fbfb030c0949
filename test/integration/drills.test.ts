import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { DrillResult } from '../../src/drills/timeline.js';
import { cli } from './helpers.js';
import { LAB_CAP_MS, useLab } from './lab-session.js';

// Failover drills against keepalived pairs in the lab, probing the VIP with ICMP from the machine.
const repo = join(import.meta.dirname, '..', '..');
const L = useLab();
const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout.trim();
const holder = async (): Promise<string[]> => {
  const out: string[] = [];
  for (const h of ['lb1', 'lb2']) if ((await on(h, 'ip -o addr show dev eth0')).includes(` ${L.lab.vip}/`)) out.push(h);
  return out;
};
async function until(pred: () => Promise<boolean>, ms = L.bound(10000)): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('condition not met');
}
async function drill(): Promise<{ code: number; r: DrillResult; dir: string }> {
  const res = await cli('drill', 'failover', '-i', 'lab', '--json');
  const r = JSON.parse(res.out) as DrillResult;
  return { code: res.code, r, dir: join(repo, '.lvsrun', 'runs', r.runId) };
}
const events = (r: DrillResult): string[] => r.events.map((e) => `${e.event}${e.host ? ` ${e.host}` : ''}`);

describe('drill failover', () => {
  it('nopreempt pair: the VIP moves to lb2 and stays there when lb1 comes back, as configured', async () => {
    expect(
      (await cli('playbooks/site.yaml', '-i', 'lab', '-e', 'keepalived_state=BACKUP', '-e', 'lvs_nopreempt=true')).code,
    ).toBe(0);
    await until(async () => (await holder()).join() === 'lb1');
    const { code, r } = await drill();
    expect(code, r.verdict).toBe(0);
    expect(events(r)).toEqual(
      expect.arrayContaining(['stop lb1', 'vip-moved lb2', 'restore-start lb1', 'vip-stayed lb2']),
    );
    expect(await holder()).toEqual(['lb2']);
    expect(await on('lb1', 'pidof keepalived >/dev/null && echo running')).toBe('running');
  });

  it('preemptive pair: measures the move (about 1 s in the lab), counts failed probes, and the VIP returns to lb1', async () => {
    expect((await cli('playbooks/site.yaml', '-i', 'lab')).code).toBe(0);
    await until(async () => (await holder()).join() === 'lb1');
    const { code, r, dir } = await drill();
    expect(code, r.verdict).toBe(0);
    expect(events(r)).toEqual(
      expect.arrayContaining([
        'drill-start',
        'stop lb1',
        'vip-moved lb2',
        'restore-start lb1',
        'vip-returned lb1',
        'drill-end',
      ]),
    );
    expect(r.metrics.vip_move_s).toBeGreaterThan(0);
    expect(r.metrics.vip_move_s).toBeLessThan(5);
    expect(r.metrics.failed_probes).toBeGreaterThan(0);
    expect(r.probes.length).toBeGreaterThan(30);
    // the saved timeline is the same result
    expect(JSON.parse(readFileSync(join(dir, 'drill.json'), 'utf8'))).toEqual(r);
    expect(await holder()).toEqual(['lb1']);

    // the HTML report, rendered by headless Chromium, shows the chart: green bars, and red where the VIP was gone
    const png = join(dir, 'drill.png');
    execFileSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        `--screenshot=${png}`,
        '--window-size=1100,700',
        `file://${join(dir, 'drill.html')}`,
      ],
      { stdio: 'ignore', timeout: 60000 },
    );
    const img = PNG.sync.read(readFileSync(png));
    let green = 0;
    let red = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      const [rr, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
      if (Math.abs(rr - 0x2e) < 12 && Math.abs(g - 0x9d) < 12 && Math.abs(b - 0x4f) < 12) green++;
      if (Math.abs(rr - 0xd6) < 12 && Math.abs(g - 0x2f) < 12 && Math.abs(b - 0x2f) < 12) red++;
    }
    expect(green).toBeGreaterThan(20000); // bars for the seconds the VIP answered (and the PASS banner)
    expect(red).toBeGreaterThan(500); // at least one failed-probe bar
  });

  it(
    "--mode link: the MASTER's link goes down (a dead-man switch on the host brings it back); the VIP moves after the VRRP timeout",
    async () => {
      await until(async () => (await holder()).join() === 'lb1');
      const res = await cli('drill', 'failover', '-i', 'lab', '--mode', 'link', '--json');
      const r = JSON.parse(res.out) as DrillResult;
      expect(res.code, r.verdict).toBe(0);
      expect(events(r)).toEqual(expect.arrayContaining(['stop lb1', 'vip-moved lb2', 'vip-returned lb1']));
      // lost adverts, not a clean shutdown: the BACKUP waits ~3 advert intervals (the lab notes measured ~3.5 s)
      expect(r.metrics.vip_move_s).toBeGreaterThan(2);
      expect(r.metrics.vip_move_s).toBeLessThan(8);
      expect(await on('lb1', 'ip -o link show dev eth0')).toMatch(/state UP/);
    },
    LAB_CAP_MS,
  );

  it('a broken pair (keepalived not running on the BACKUP) fails with a clear message and the cluster restored', async () => {
    await on('lb2', '/etc/init.d/keepalived stop >/dev/null 2>&1; sleep 0.5; pidof keepalived || echo stopped');
    const { code, r } = await drill();
    expect(code).toBe(2);
    expect(r.ok).toBe(false);
    expect(r.verdict).toMatch(/no director took over 10\.77\.0\.100 within 10 s: keepalived is not running on lb2/);
    expect(events(r)).toContain('out-of-bounds');
    await until(async () => (await holder()).join() === 'lb1');
    expect(await on('lb1', 'pidof keepalived >/dev/null && echo running')).toBe('running');
  });
});

describe('drill input errors', () => {
  it('an unknown drill or a bad option exits 1 before touching anything', async () => {
    expect((await cli('drill', 'explode', '-i', 'lab')).code).toBe(1);
    expect((await cli('drill', 'failover', '-i', 'lab', '--mode', 'service')).err).toMatch(
      /--mode service needs --service NAME/,
    );
  });
});
