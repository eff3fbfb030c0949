import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillResult } from '../../src/drills/timeline.js';
import { labDir } from '../../src/lab/paths.js';
import { labVmPids } from '../../src/lab/vm.js';
import { cli, recapLine, waitFor } from './helpers.js';
import { LAB_CAP_MS, useLab } from './lab-session.js';

// VM mode: the directors are QEMU guests running Debian's kernel, so IPVS is real; the real
// servers and the client are namespace hosts on the same bridge.
const env = process.env;
const L = useLab(
  () => {
    // no guest, tap or state left behind
    expect(labVmPids(labDir(env))).toEqual([]);
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/lvst-/);
  },
  { vm: 'directors' },
);
const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout.trim();
/** A drill's own bound, in whole seconds: what it takes on an idle machine, scaled by the lab's measured pace. */
const secs = (idleMs: number): string => String(Math.ceil(L.bound(idleMs) / 1000));

describe('VM mode (real IPVS)', () => {
  it(
    "runs the directors as guests with the Debian kernel, reachable through lvsrun's transport",
    async () => {
      expect(L.lab.hosts.filter((h) => h.kind === 'vm').map((h) => h.name)).toEqual(['lb1', 'lb2']);
      expect(await on('lb1', 'hostname; uname -r; modprobe ip_vs && test -e /proc/net/ip_vs && echo ipvs')).toMatch(
        /^lb1\n\S+-amd64\nipvs$/,
      );
      expect(await on('rs1', 'test -e /proc/net/ip_vs && echo ipvs || echo none')).toBe('none');
      // bash sources root's .bashrc for every command sshd runs: a guest starts with an empty one
      expect(await on('lb1', 'wc -c < /root/.bashrc')).toBe('0');
    },
    LAB_CAP_MS,
  );

  it(
    'site.yaml builds the DR cluster, the second run changes nothing, and keepalived programs the real IPVS table',
    async () => {
      const first = await cli('playbooks/site.yaml', '-i', 'lab');
      expect(first.code, first.out + first.err).toBe(0);
      const second = await cli('playbooks/site.yaml', '-i', 'lab');
      for (const h of ['lb1', 'lb2', 'rs1', 'rs2'])
        expect(recapLine(second.out, h)).toMatchObject({ changed: 0, failed: 0 });
      const table = async (): Promise<string> => on('lb1', 'ipvsadm -S -n');
      // keepalived's health checks add the real servers a few seconds after it starts (idle machine)
      await waitFor(async () => (await table()).includes('10.77.2.2'), L.bound(30_000));
      expect(await table()).toBe(
        `-A -t ${L.lab.vip}:80 -s rr\n-a -t ${L.lab.vip}:80 -r 10.77.2.1:80 -g -w 1\n-a -t ${L.lab.vip}:80 -r 10.77.2.2:80 -g -w 1`,
      );
    },
    LAB_CAP_MS,
  );

  it(
    "a client's requests to the VIP alternate between the real servers (LVS-DR through the guest's kernel)",
    async () => {
      const out = await on(
        'client1',
        `for i in 1 2 3 4 5 6; do curl -s --max-time ${secs(3_000)} http://${L.lab.vip}/ | grep -o '<h1>[a-z0-9]*</h1>'; done`,
      );
      const seen = out.split('\n').map((l) => l.replace(/<\/?h1>/g, ''));
      expect(seen).toHaveLength(6);
      expect(new Set(seen)).toEqual(new Set(['rs1', 'rs2']));
      for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
    },
    LAB_CAP_MS,
  );

  it(
    'the ipvs module edits the live table minimally and its undo restores it exactly',
    async () => {
      const before = await on('lb1', 'ipvsadm -S -n');
      const pb = join(labDir(env), 'ipvs-edit.yaml');
      execFileSync('sh', ['-c', `cat > ${pb}`], {
        input: `- hosts: lb1\n  tasks:\n    - ipvs:\n        persist: false\n        services:\n          - {vip: ${L.lab.vip}, port: 80, scheduler: wrr, reals: [{addr: 10.77.2.1, weight: 3}, {addr: 10.77.2.2, weight: 1}]}\n    - command: /bin/false\n`,
      });
      const r = await cli(pb, '-i', 'lab', '--json');
      expect(r.code).toBe(2); // the failing second task rolls the host back
      const res = (JSON.parse(r.out) as { results: Array<{ task: string; status: string; msg?: string }> }).results;
      // two edits in place: the scheduler (-E) and rs1's weight (-e); rs2 was already right
      expect(res.find((x) => x.task === 'ipvs')).toMatchObject({ status: 'changed' });
      expect(res.find((x) => x.task === 'ipvs')!.msg).toMatch(
        /^2 ipvsadm edit\(s\) \(ipvsadm -E -t \S+ -s wrr; ipvsadm -e /,
      );
      expect(await on('lb1', 'ipvsadm -S -n')).toBe(before);
    },
    LAB_CAP_MS,
  );

  it(
    'a failover drill with an HTTP probe through real IPVS measures the move and restores the pair',
    async () => {
      const res = await cli('drill', 'failover', '-i', 'lab', '--probe', 'http', '--json', '--max-wait', secs(20_000));
      const r = JSON.parse(res.out) as DrillResult;
      expect(res.code, r.verdict).toBe(0);
      expect(r.events.map((e) => e.event)).toEqual(expect.arrayContaining(['vip-moved', 'vip-returned']));
      expect(r.probes.some((p) => p.ok)).toBe(true);
    },
    LAB_CAP_MS,
  );

  it(
    "drain: rs1's weight goes to 0 on every director and back, and it takes traffic again",
    async () => {
      const res = await cli('drill', 'drain', 'rs1', '-i', 'lab', '--json', '--run', 'echo maintenance');
      const r = JSON.parse(res.out) as DrillResult;
      expect(res.code, r.verdict).toBe(0);
      expect(r.events.map((e) => `${e.event}${e.host ? ` ${e.host}` : ''}`)).toEqual(
        expect.arrayContaining([
          'weight-0 lb1',
          'weight-0 lb2',
          'drained rs1',
          'maintenance rs1',
          'weight-restored',
          'traffic-back rs1',
        ]),
      );
      expect(r.metrics.failed_probes).toBe(0); // draining never dropped a request
      expect(await on('lb1', 'ipvsadm -S -n')).toContain('-r 10.77.2.1:80 -g -w 1');
    },
    LAB_CAP_MS,
  );

  it(
    'rs-down: the health checker removes rs2 when nginx stops and re-adds it after; no request fails while it is out',
    async () => {
      const res = await cli('drill', 'rs-down', 'rs2', '-i', 'lab', '--json', '--timeout', secs(45_000));
      const r = JSON.parse(res.out) as DrillResult;
      expect(res.code, r.verdict).toBe(0);
      expect(r.events.map((e) => e.event)).toEqual(
        expect.arrayContaining(['service-stopped', 'removed', 'service-started', 'readded']),
      );
      expect(r.metrics.removed_s).toBeGreaterThan(0);
      expect(r.metrics.failed_probes_while_out).toBe(0);
      expect(await on('lb1', 'ipvsadm -S -n')).toContain('-r 10.77.2.2:80');
      expect(await on('rs2', 'pidof nginx >/dev/null && echo running')).toBe('running');
    },
    LAB_CAP_MS,
  );

  it(
    'nat.yaml in VM mode: lb2 NATs a client subnet to the real servers with the weights honoured; rollback undoes it',
    async () => {
      // NAT needs the client outside the real servers' subnet: 10.78.0.0/24 on the same bridge,
      // the VIP on lb2's public side, the real servers' default route via lb2.
      const dir = labDir(env);
      const inv = join(dir, 'nat-inventory.yaml');
      execFileSync('sh', ['-c', `cat > ${inv}`], {
        input: `all:
  vars: {ansible_user: root, ansible_ssh_private_key_file: ${join(dir, 'id_ed25519')}, lvsrun_known_hosts: ${join(dir, 'known_hosts')}, lvs_vip: 10.78.0.100, lvs_vip_prefix: 24, lvs_dip: 10.77.1.2, lvs_scheduler: wrr, lvs_rs_subnet: 10.77.2.0/24}
  children:
    directors:
      hosts:
        lb2: {ansible_host: 10.77.1.2}
    realservers:
      hosts:
        rs1: {ansible_host: 10.77.2.1, lvs_gateway: 10.77.1.2, lvs_weight: 2}
        rs2: {ansible_host: 10.77.2.2, lvs_gateway: 10.77.1.2, lvs_weight: 1}
`,
      });
      const r = await cli('playbooks/nat.yaml', '-i', inv);
      expect(r.code, r.out + r.err).toBe(0);
      expect(await on('lb2', 'ipvsadm -S -n')).toContain(
        '-A -t 10.78.0.100:80 -s wrr\n-a -t 10.78.0.100:80 -r 10.77.2.1:80 -m -w 2\n-a -t 10.78.0.100:80 -r 10.77.2.2:80 -m -w 1',
      );
      expect(await on('lb2', 'iptables -t nat -S POSTROUTING')).toContain(
        '-A POSTROUTING -s 10.77.2.0/24 ! -d 10.77.2.0/24 -j MASQUERADE',
      );
      await on('client1', 'ip addr add 10.78.0.1/24 dev eth0');
      const out = await on(
        'client1',
        `for i in 1 2 3 4 5 6; do curl -s --max-time ${secs(3_000)} --interface 10.78.0.1 http://10.78.0.100/ | grep -o '<h1>[a-z0-9]*</h1>'; done`,
      );
      const seen = out.split('\n').map((l) => l.replace(/<\/?h1>/g, ''));
      expect(seen.filter((x) => x === 'rs1')).toHaveLength(4);
      expect(seen.filter((x) => x === 'rs2')).toHaveLength(2);
      await on('client1', 'ip addr del 10.78.0.1/24 dev eth0');
      const id = /run (\S+) finished/.exec(r.out)![1]!;
      expect((await cli('rollback', id, '-i', inv)).code).toBe(0);
      expect(await on('lb2', 'ipvsadm -S -n')).not.toContain('10.78.0.100');
      expect(await on('rs1', 'ip route show default')).toBe('');
      expect(await on('lb2', 'iptables -t nat -S POSTROUTING')).not.toContain('MASQUERADE');
    },
    LAB_CAP_MS,
  );
});
