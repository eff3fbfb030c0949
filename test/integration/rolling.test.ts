import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startProbe } from '../../src/drills/probe.js';
import { Timeline, type DrillResult } from '../../src/drills/timeline.js';
import { labDir } from '../../src/lab/paths.js';
import { labVmPids } from '../../src/lab/vm.js';
import { cli, recapLine, waitFor } from './helpers.js';
import { LAB_CAP_MS, useLab } from './lab-session.js';

// Rolling maintenance in VM mode (real IPVS, keepalived-managed tables): lvs_member drains a real
// server while clients hold connections through the VIP, and playbooks/rolling.yaml rolls a change
// through every real server while the VIP is probed.
const env = process.env;
const L = useLab(
  () => {
    expect(labVmPids(labDir(env))).toEqual([]);
  },
  { vm: 'directors', realservers: 3 },
);
const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout.trim();
const file = (name: string, text: string): string => {
  const f = join(labDir(env), name);
  execFileSync('sh', ['-c', `cat > ${f}`], { input: text });
  return f;
};
/** rs's weight and ActiveConn in `host`'s live table, or undefined when it is not listed. */
async function member(host: string, rs: string): Promise<{ weight: number; active: number } | undefined> {
  const line = (await on(host, `ipvsadm -L -n -t ${L.lab.vip}:80`)).split('\n').find((l) => l.includes(`${rs}:80 `));
  if (!line) return undefined;
  const w = line.trim().split(/\s+/);
  return { weight: Number(w[3]), active: Number(w[4]) };
}
const tables = async (): Promise<string[]> => Promise.all(['lb1', 'lb2'].map((h) => on(h, 'ipvsadm -S -n')));

describe('rolling maintenance (VM mode)', () => {
  it(
    'site.yaml builds the cluster: keepalived programs both real servers on both directors',
    async () => {
      const r = await cli('playbooks/site.yaml', '-i', 'lab');
      expect(r.code, r.out + r.err).toBe(0);
      for (const h of ['lb1', 'lb2'])
        await waitFor(
          async () =>
            (await Promise.all(['10.77.2.1', '10.77.2.2', '10.77.2.3'].map((rs) => member(h, rs)))).every(Boolean),
          L.bound(60000),
        );
    },
    LAB_CAP_MS,
  );

  it(
    'lvs_member drains rs1 while connections are open: it waits for them, the weight holds through a reload and a health-check flap, and the undo restores it',
    async () => {
      const conf = await on('lb1', 'base64 -w0 /etc/keepalived/keepalived.conf');
      const before = await tables();
      const tl = new Timeline();
      const probe = startProbe('http:80', L.lab.vip, tl, 50, 2000);
      // Idle connections through the VIP (nginx waits for their request): rr gives rs1 half of them.
      const held: Socket[] = [];
      for (let k = 0; k < 4; k++) held.push(connect({ host: L.lab.vip, port: 80 }));
      await waitFor(async () => ((await member('lb1', '10.77.2.1'))?.active ?? 0) >= 1, L.bound(20000));
      // Once lb1 shows rs1 at weight 0 (the drain is waiting for them), the connections end 2 s later.
      let closedAt = 0;
      const closing = (async () => {
        await waitFor(async () => (await member('lb1', '10.77.2.1'))?.weight === 0, L.bound(120000));
        await new Promise((res) => setTimeout(res, 2000));
        held.forEach((s) => s.destroy());
        closedAt = Date.now();
      })();
      const pb = file(
        'drain-rs1.yaml',
        `- hosts: directors\n  tasks:\n` +
          `    - name: drain rs1\n      lvs_member: {vip: "{{lvs_vip}}", port: 80, real_server: 10.77.2.1, state: drained, timeout: 60}\n` +
          `      register: drain\n    - debug: {var: drain}\n`,
      );
      const r = await cli(pb, '-i', 'lab', '--json');
      const doneAt = Date.now();
      await closing.catch(() => undefined);
      held.forEach((s) => s.destroy());
      expect(r.code, r.out + r.err).toBe(0);
      const out = JSON.parse(r.out) as { run_id: string; results: Array<{ task: string; host: string; msg?: string }> };
      try {
        const reg = (h: string) =>
          JSON.parse(out.results.find((x) => x.host === h && x.task.startsWith('debug'))!.msg!) as Record<
            string,
            unknown
          >;
        // lb1 held the connections: the drain waited for them to end
        expect(reg('lb1')).toMatchObject({
          changed: true,
          previous_weight: 1,
          weight: 0,
          active_conns: 0,
          manager: 'keepalived',
        });
        // rs1 had an active connection when the drain began and reported none at its end: the drain ended only
        // after the connections were closed, while the run was still going
        expect(closedAt).toBeGreaterThan(0);
        expect(closedAt).toBeLessThan(doneAt);
        expect(reg('lb1').waited_s).toBeGreaterThan(0);
        console.log(`lvs_member drain of rs1 on lb1 waited ${String(reg('lb1').waited_s)} s for 2 held connections`);
        expect(await member('lb1', '10.77.2.1')).toEqual({ weight: 0, active: 0 });
        expect(await on('lb1', 'grep -A1 "real_server 10.77.2.1 " /etc/keepalived/keepalived.conf')).toMatch(
          /weight 0$/,
        );

        // keepalived owns the weight now: a reload keeps it, and so does the checker re-adding rs1 after nginx flaps
        await on('lb1', '/etc/init.d/keepalived reload >/dev/null');
        await new Promise((res) => setTimeout(res, 2000));
        expect((await member('lb1', '10.77.2.1'))?.weight).toBe(0);
        await on('rs1', '/etc/init.d/nginx stop >/dev/null');
        await waitFor(async () => (await member('lb1', '10.77.2.1')) === undefined, L.bound(60000));
        await on('rs1', '/etc/init.d/nginx start >/dev/null');
        await waitFor(async () => (await member('lb1', '10.77.2.1')) !== undefined, L.bound(60000));
        expect((await member('lb1', '10.77.2.1'))?.weight).toBe(0);
      } finally {
        await probe.stop();
        const rb = await cli('rollback', out.run_id);
        expect(rb.code, rb.out + rb.err).toBe(0);
      }
      expect(tl.probes.length).toBeGreaterThan(100);
      expect(tl.probes.filter((p) => !p.ok)).toEqual([]); // nothing went to rs1 while it was out
      expect(await on('lb1', 'base64 -w0 /etc/keepalived/keepalived.conf')).toBe(conf);
      expect(await tables()).toEqual(before);
    },
    LAB_CAP_MS,
  );

  it(
    'drill rolling: rolling.yaml restarts nginx on every real server under 20 requests a second with no failed request; every table is as before',
    async () => {
      const pids = async () => Promise.all(['rs1', 'rs2', 'rs3'].map((h) => on(h, 'cat /run/nginx.pid')));
      const before = await pids();
      const res = await cli('drill', 'rolling', '-i', 'lab', '--json');
      const r = JSON.parse(res.out) as DrillResult;
      expect(res.code, `${r.verdict}\n${res.err}`).toBe(0);
      expect(r.metrics).toMatchObject({
        exit_code: 0,
        failed_probes: 0,
        tables_identical: 'yes',
        servers_done: 'rs1, rs2, rs3',
      });
      expect(r.metrics.probes).toBeGreaterThan(200);
      expect(r.metrics['drain_s rs1']).toBeGreaterThanOrEqual(0);
      expect(r.metrics['drain_s rs2']).toBeGreaterThanOrEqual(0);
      expect(r.metrics['drain_s rs3']).toBeGreaterThanOrEqual(0);
      const after = await pids();
      for (const k of [0, 1, 2]) expect(after[k]).not.toBe(before[k]); // nginx was restarted on each
      console.log(`drill rolling: ${JSON.stringify(r.metrics)}`);
    },
    LAB_CAP_MS,
  );

  it(
    'a change that fails on rs2 stops the rollout there: rs1 done and in service, rs2 back in its old state and still drained, rs3 untouched, exit 2',
    async () => {
      const page = async (h: string) => on(h, 'cat /var/www/html/index.html');
      const before = { rs2: await page('rs2'), rs3: await page('rs3'), pid3: await on('rs3', 'cat /run/nginx.pid') };
      const tablesBefore = await tables();
      const change = file(
        'change-fails-on-rs2.yaml',
        '- name: new page\n  copy: {dest: /var/www/html/index.html, content: "<h1>new {{inventory_hostname}}</h1>\\n"}\n' +
          "- name: a step that fails on rs2\n  command: /bin/false\n  when: inventory_hostname == 'rs2'\n",
      );
      const r = await cli('playbooks/rolling.yaml', '-i', 'lab', '-e', `rolling_tasks=${change}`);
      expect(r.code, r.out + r.err).toBe(2);
      expect(r.out).toMatch(/rs2 failed at 'a step that fails on rs2': the rollout stops here/);
      expect(recapLine(r.out, 'rs1')).toMatchObject({ failed: 0 });
      expect(recapLine(r.out, 'rs2')).toMatchObject({ failed: 1, rolled_back: 1 });
      expect(await page('rs1')).toBe('<h1>new rs1</h1>');
      expect(await page('rs2')).toBe(before.rs2);
      expect(await page('rs3')).toBe(before.rs3);
      expect(await on('rs3', 'cat /run/nginx.pid')).toBe(before.pid3);
      // the drain was made on the directors and stays: rs2 takes no traffic until someone looks at it
      for (const h of ['lb1', 'lb2']) {
        expect(await member(h, '10.77.2.1')).toMatchObject({ weight: 1 });
        expect(await member(h, '10.77.2.2')).toMatchObject({ weight: 0 });
        expect(await member(h, '10.77.2.3')).toMatchObject({ weight: 1 });
      }
      // and nothing else of the tables changed: with rs2 back at its weight they are as before
      const enable = file(
        'enable-rs2.yaml',
        '- hosts: directors\n  tasks:\n    - lvs_member: {vip: "{{lvs_vip}}", port: 80, real_server: 10.77.2.2, state: enabled, weight: 1}\n',
      );
      expect((await cli(enable, '-i', 'lab')).code).toBe(0);
      expect(await tables()).toEqual(tablesBefore);
    },
    LAB_CAP_MS,
  );
});
