import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import { labDir } from '../../src/lab/paths.js';
import { labVmPids } from '../../src/lab/vm.js';
import { cli, waitFor } from './helpers.js';
import { LAB_CAP_MS, useLab } from './lab-session.js';

/*
 * The cluster layouts of test/clusters that need a real kernel, applied in a VM lab: every director
 * and real server is a QEMU guest (IPVS on the directors; a dummy interface or ipip on the real
 * servers: this machine's kernel has neither). Each layout is copied as written, with only its
 * addresses mapped onto the lab's (the playbook stays outside the repository's playbooks/), then
 * validated, applied, applied again (nothing changes), sent traffic through its VIP (the answers name
 * the real servers), and rolled back: every host it touched is then as it was before, state for state.
 * One lab for all four: a VM boot is the dearest thing here.
 */
const env = process.env;
const L = useLab(
  () => {
    expect(labVmPids(labDir(env))).toEqual([]);
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toMatch(/lvst-/);
  },
  { vm: 'all' },
);
const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout.trim();
const must = async (host: string, cmd: string): Promise<string> => {
  const r = await L.exec(host, cmd);
  expect(r.code, `${host}: ${cmd}\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout.trim();
};
/** A bound in whole seconds: what it takes on an idle machine, scaled by the lab's measured pace. */
const secs = (idleMs: number): string => String(Math.ceil(L.bound(idleMs) / 1000));
const root = join(import.meta.dirname, '..', 'clusters');

/** The layout's folder copied into the lab's, each address replaced by the lab's; returns the copy's path. */
function labCopy(layout: string, addrs: Record<string, string>): string {
  const dir = join(labDir(env), 'clusters', layout);
  cpSync(join(root, layout), dir, { recursive: true });
  const used = new Set<string>();
  const map = (f: string): void => {
    let text = readFileSync(f, 'utf8');
    for (const [from, to] of Object.entries(addrs)) {
      const re = new RegExp(`(?<![\\d.])${from.replace(/[./]/g, '\\$&')}(?![\\d])`, 'g');
      if (re.test(text)) used.add(from);
      text = text.replace(re, to);
    }
    writeFileSync(f, text);
  };
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e) && e !== 'broken.yaml') map(p);
    }
  };
  walk(dir);
  const all = join(dir, 'inventory', 'group_vars', 'all.yml');
  expect(existsSync(all)).toBe(false);
  mkdirSync(join(dir, 'inventory', 'group_vars'), { recursive: true });
  const lab = labDir(env);
  writeFileSync(
    all,
    `ansible_user: root\nansible_ssh_private_key_file: ${join(lab, 'id_ed25519')}\n` +
      `lvsrun_known_hosts: ${join(lab, 'known_hosts')}\n`,
  );
  // a mapping that matches nothing means the layout changed under the test
  expect(Object.keys(addrs).filter((a) => !used.has(a))).toEqual([]);
  return dir;
}

interface Summary {
  run_id: string;
  recap: Record<string, { changed: number; failed: number }>;
  results: Array<{ host: string; task: string; status: string; msg?: string }>;
}
async function apply(dir: string): Promise<Summary> {
  const r = await cli(join(dir, 'site.yaml'), '-i', join(dir, 'inventory'), '--json');
  expect(r.code, r.err + r.out.slice(0, 3000)).toBe(0);
  const s = JSON.parse(r.out) as Summary;
  expect(Object.values(s.recap).every((c) => c.failed === 0)).toBe(true);
  return s;
}
const changed = (s: Summary): string[] =>
  s.results.filter((r) => r.status === 'changed').map((r) => `${r.host} ${r.task}`);

/**
 * What a layout can change on a host, as one text: links and addresses, routes, the IPVS table, the
 * sysctls the layouts set, the files they write, the daemons they start. tunl0 is left out: the ipip
 * module that brings it cannot be unloaded while the host runs, so a rollback sets it down instead.
 */
const SNAPSHOT = `modprobe ip_vs 2>/dev/null
ip -o link show; echo; ip -o addr show; echo; ip route show; echo
test -e /proc/net/ip_vs && ipvsadm -S -n
cd /proc/sys/net/ipv4 && grep -r . ip_forward vs/expire_nodest_conn conf/*/arp_ignore conf/*/arp_announce \\
  conf/*/rp_filter conf/*/send_redirects 2>/dev/null
md5sum /etc/sysctl.conf /etc/sysctl.d/* /etc/network/interfaces /etc/network/interfaces.d/* /etc/keepalived/* \\
  /etc/default/keepalived /etc/ipvsadm.rules /var/www/html/* 2>/dev/null
for p in keepalived nginx; do pidof $p >/dev/null && echo "$p running"; done
true`;
/** Few processes in the guest (each costs there): the interface indexes and address lifetimes go here. */
const normalise = (out: string): string =>
  out
    .split('\n')
    .map((l) => l.replace(/^\d+: ([^:@\s]+)(@\S+)?:? <([^>]*)>.*/, '$1 <$3>').replace(/^\d+: /, ''))
    .map((l) => l.replace(/\s+valid_lft.*/, '').replace(/\\$/, ''))
    .filter((l) => !/^tunl0\b|^conf\/tunl0\//.test(l))
    .join('\n');
async function snapshot(hosts: string[]): Promise<Record<string, string>> {
  return Object.fromEntries(
    await Promise.all(hosts.map(async (h) => [h, normalise(await must(h, SNAPSHOT))] as const)),
  );
}

/** A web server for a layout that deploys none: busybox httpd on `port`, its page naming the host. */
async function serve(host: string, port: number): Promise<() => Promise<void>> {
  const d = `/run/lvs-fixture-${port}`;
  const pid = await must(
    host,
    `mkdir -p ${d} && echo '<h1>${host}</h1>' > ${d}/index.html && ` +
      `{ busybox httpd -f -p ${port} -h ${d} </dev/null >/dev/null 2>&1 & echo $!; }`,
  );
  await waitFor(async () => (await on(host, `ss -Hltn 'sport = :${port}'`)) !== '', L.bound(2_000));
  return async () => {
    await must(host, `kill ${pid}; rm -rf ${d}`);
  };
}

/**
 * Requests from client1 (`curl` with the given source addresses, `n` each); the hosts that answered,
 * in order. A request left unanswered (a TCG guest stalled by the load on the machine) is asked
 * again, up to three times: what is tested is where the answers come from.
 */
async function requests(url: string, sources: string[], n: number): Promise<string[]> {
  const out = await on(
    'client1',
    `for s in ${sources.join(' ')}; do for i in $(seq ${n}); do r=none; for t in 1 2 3; do ` +
      `r=$(curl -s --max-time ${secs(3_000)} --interface $s ${url} | grep -o '<h1>[a-z0-9]*</h1>') && break; ` +
      `r=none; done; echo "$r"; done; done`,
  );
  return out.split('\n').map((l) => l.replace(/<\/?h1>/g, ''));
}
const ipvs = async (h: string): Promise<string> => on(h, 'ipvsadm -S -n');
/** A layout whose test fails part-way is rolled back all the same, so the next layout starts clean. */
function undoIfFailed(runId: string, dir: string): void {
  onTestFailed(async () => {
    await cli('rollback', runId, '-i', join(dir, 'inventory'));
  }, LAB_CAP_MS);
}
/** keepalived's health checks add each real server on its own timer: true once all of them are in. */
const hasReals = (table: string, ...reals: string[]): boolean =>
  reals.every((r) => table.split('\n').some((l) => l.startsWith('-a ') && l.includes(` -r ${r}:`)));
/** The directors holding `vip` on `dev`. */
async function holders(vip: string, dev: string): Promise<string[]> {
  const out: string[] = [];
  for (const h of ['lb1', 'lb2']) if ((await on(h, `ip -o addr show dev ${dev}`)).includes(` ${vip}/`)) out.push(h);
  return out;
}

describe('cluster layouts in a VM lab (real IPVS, dummy and ipip)', () => {
  it(
    'nat-router: a NAT director behind a router forwards its VIP to the real servers, which answer through it',
    async () => {
      const dir = labCopy('nat-router', {
        '192.168.50.100': '10.78.0.100',
        '192.168.50.11': '10.77.1.1',
        '192.168.50.1': '10.77.3.1',
        '10.30.0.0/24': '10.77.2.0/24',
        '10.30.0.1': '10.77.1.1',
        '10.30.0.21': '10.77.2.1',
        '10.30.0.22': '10.77.2.2',
      });
      const hosts = ['lb1', 'rs1', 'rs2', 'client1'];
      const before = await snapshot(hosts);
      expect((await cli('validate', join(dir, 'site.yaml'), '-i', join(dir, 'inventory'))).code).toBe(0);
      const first = await apply(dir);
      undoIfFailed(first.run_id, dir);
      expect(changed(await apply(dir))).toEqual([]);
      expect(await ipvs('lb1')).toBe(
        [
          '-A -t 10.78.0.100:80 -s wlc',
          '-a -t 10.78.0.100:80 -r 10.77.2.1:80 -m -w 1',
          '-a -t 10.78.0.100:80 -r 10.77.2.2:80 -m -w 1',
          '-A -t 10.78.0.100:443 -s sh -p 300',
          '-a -t 10.78.0.100:443 -r 10.77.2.1:443 -m -w 1',
          '-a -t 10.78.0.100:443 -r 10.77.2.2:443 -m -w 1',
        ].join('\n'),
      );
      expect(await on('rs1', 'ip route show default')).toBe('default via 10.77.1.1 dev eth0');
      expect(await on('client1', 'ip route show 10.77.2.0/24')).toBe('10.77.2.0/24 via 10.77.1.1 dev eth0');
      // the router (client1, gw1 in the layout) on the client side's network sends to the VIP
      const stop = [await serve('rs1', 80), await serve('rs2', 80)];
      await must('client1', 'ip addr add 10.78.0.1/24 dev eth0');
      const seen = await requests('http://10.78.0.100/', ['10.78.0.1'], 6);
      await must('client1', 'ip addr del 10.78.0.1/24 dev eth0');
      for (const s of stop) await s();
      expect(seen.filter((x) => x !== 'none')).toHaveLength(6);
      expect(new Set(seen)).toEqual(new Set(['rs1', 'rs2']));
      const back = await cli('rollback', first.run_id, '-i', join(dir, 'inventory'));
      expect(back.code, back.out + back.err).toBe(0);
      expect(await snapshot(hosts)).toEqual(before);
    },
    LAB_CAP_MS,
  );

  it(
    'dr-dummy-unicast: unicast VRRP, the VIP on a dummy interface that its persisted file recreates from scratch',
    async () => {
      const dir = labCopy('dr-dummy-unicast', {
        '10.20.0.100': '10.77.0.100',
        '10.20.0.11': '10.77.1.1',
        '10.20.0.12': '10.77.1.2',
        '10.20.0.21': '10.77.2.1',
        '10.20.0.22': '10.77.2.2',
      });
      const hosts = ['lb1', 'lb2', 'rs1', 'rs2'];
      const before = await snapshot(hosts);
      expect((await cli('validate', join(dir, 'site.yaml'), '-i', join(dir, 'inventory'))).code).toBe(0);
      // the layout deploys nginx but no page of its own: one that names the host
      for (const rs of ['rs1', 'rs2']) await must(rs, `echo '<h1>${rs}</h1>' > /var/www/html/index.html`);
      const first = await apply(dir);
      undoIfFailed(first.run_id, dir);
      expect(changed(await apply(dir))).toEqual([]);
      expect(await on('lb1', 'grep -A2 unicast_peer /etc/keepalived/keepalived.conf')).toMatch(
        /unicast_peer \{\s+10\.77\.1\.2\s/,
      );
      await waitFor(async () => (await holders(L.lab.vip, 'eth0')).length === 1, L.bound(20_000));
      await waitFor(async () => hasReals(await ipvs('lb1'), '10.77.2.1', '10.77.2.2'), L.bound(30_000));
      expect(await on('rs1', 'ip -o -4 addr show dev lvs0')).toContain(`inet ${L.lab.vip}/32`);
      let seen = await requests(`http://${L.lab.vip}/`, ['10.77.3.1'], 6);
      expect(seen).toHaveLength(6);
      expect(new Set(seen)).toEqual(new Set(['rs1', 'rs2']));

      // A reboot, as far as the interface goes: lvs0 gone, then the boot's network bring-up (ifupdown's
      // `ifup -a`, from the persisted stanza) and udev's per-interface sysctls (systemd-sysctl --prefix).
      await must('rs1', 'test -f /etc/network/interfaces.d/lvsrun-lvs0');
      await must('rs1', 'ip link del lvs0');
      expect(await on('rs1', 'ip -o link show dev lvs0 || echo gone')).toBe('gone');
      await must('rs1', 'ifup -a && /lib/systemd/systemd-sysctl --prefix=/net/ipv4/conf/lvs0');
      expect(await on('rs1', 'ip -o -4 addr show dev lvs0')).toContain(`inet ${L.lab.vip}/32`);
      expect(await on('rs1', 'ip -o link show dev lvs0')).toMatch(/<[^>]*\bUP\b/);
      expect(await on('rs1', 'sysctl -n net.ipv4.conf.lvs0.arp_ignore net.ipv4.conf.lvs0.arp_announce')).toBe('1\n2');
      seen = await requests(`http://${L.lab.vip}/`, ['10.77.3.1'], 4);
      expect(new Set(seen)).toEqual(new Set(['rs1', 'rs2']));
      await must('rs1', 'rm -rf /run/network');

      const back = await cli('rollback', first.run_id, '-i', join(dir, 'inventory'));
      expect(back.code, back.out + back.err).toBe(0);
      for (const rs of ['rs1', 'rs2']) await must(rs, 'rm /var/www/html/index.html');
      expect(await snapshot(hosts)).toEqual(before);
    },
    LAB_CAP_MS,
  );

  it(
    'tun-pair: the pair tunnels to the real servers, whose answers bypass the director',
    async () => {
      const dir = labCopy('tun-pair', {
        '10.50.0.100': '10.77.0.100',
        '10.50.0.11': '10.77.1.1',
        '10.50.0.12': '10.77.1.2',
        '10.50.1.21': '10.77.2.1',
        '10.50.2.22': '10.77.2.2',
      });
      const hosts = ['lb1', 'lb2', 'rs1', 'rs2'];
      const before = await snapshot(hosts);
      expect((await cli('validate', join(dir, 'site.yaml'), '-i', join(dir, 'inventory'))).code).toBe(0);
      const first = await apply(dir);
      undoIfFailed(first.run_id, dir);
      expect(changed(await apply(dir))).toEqual([]);
      await waitFor(async () => (await holders(L.lab.vip, 'eth0')).length === 1, L.bound(20_000));
      const master = (await holders(L.lab.vip, 'eth0'))[0]!;
      await waitFor(async () => hasReals(await ipvs(master), '10.77.2.1', '10.77.2.2'), L.bound(30_000));
      expect(await ipvs(master)).toContain(`-a -t ${L.lab.vip}:80 -r 10.77.2.1:80 -i -w 1`);
      const rx = async (h: string): Promise<number> =>
        Number(await on(h, 'cat /sys/class/net/tunl0/statistics/rx_packets'));
      const rx0 = [await rx('rs1'), await rx('rs2')];
      const seen = await requests(`http://${L.lab.vip}/`, ['10.77.3.1'], 6);
      expect(seen).toHaveLength(6);
      expect(new Set(seen)).toEqual(new Set(['rs1', 'rs2']));
      // the requests arrived encapsulated, on tunl0
      expect(await rx('rs1')).toBeGreaterThan(rx0[0]!);
      expect(await rx('rs2')).toBeGreaterThan(rx0[1]!);
      const back = await cli('rollback', first.run_id, '-i', join(dir, 'inventory'));
      expect(back.code, back.out + back.err).toBe(0);
      expect(await snapshot(hosts)).toEqual(before);
      for (const rs of ['rs1', 'rs2']) expect(await on(rs, 'ip -o link show dev tunl0')).not.toMatch(/<[^>]*\bUP\b/);
    },
    LAB_CAP_MS,
  );

  it(
    'mgmt-net: managed over eth0, serving on eth1: VRRP, IPVS and the traffic use the service addresses only',
    async () => {
      // SSH (ansible_host) on the lab's first segment, the service network on its second (eth1, 10.79/16)
      const dir = labCopy('mgmt-net', {
        '172.20.0.100': '10.79.0.100',
        '10.200.0.11': '10.77.1.1',
        '10.200.0.12': '10.77.1.2',
        '10.200.0.21': '10.77.2.1',
        '10.200.0.22': '10.77.2.2',
        '172.20.0.11': '10.79.1.1',
        '172.20.0.12': '10.79.1.2',
        '172.20.0.21': '10.79.2.1',
        '172.20.0.22': '10.79.2.2',
      });
      const hosts = ['lb1', 'lb2', 'rs1', 'rs2'];
      const before = await snapshot(hosts);
      expect((await cli('validate', join(dir, 'site.yaml'), '-i', join(dir, 'inventory'))).code).toBe(0);
      const stop = [await serve('rs1', 443), await serve('rs2', 443)];
      const first = await apply(dir);
      undoIfFailed(first.run_id, dir);
      expect(changed(await apply(dir))).toEqual([]);
      const conf = await must('lb1', 'cat /etc/keepalived/keepalived.conf');
      expect(conf).toMatch(/unicast_src_ip 10\.79\.1\.1\b/);
      expect(conf).toMatch(/unicast_peer \{\s+10\.79\.1\.2\s/);
      expect(conf).toMatch(/real_server 10\.79\.2\.1 443/);
      expect(conf).not.toMatch(/10\.77\./);
      await waitFor(async () => (await holders('10.79.0.100', 'eth1')).length === 1, L.bound(20_000));
      expect(await holders('10.79.0.100', 'eth0')).toEqual([]);
      const master = (await holders('10.79.0.100', 'eth1'))[0]!;
      expect(master).toBe('lb1');
      await waitFor(async () => hasReals(await ipvs('lb1'), '10.79.2.1', '10.79.2.2'), L.bound(30_000));
      // the health checks add the real servers in whichever order they answer
      expect((await ipvs('lb1')).split('\n').sort()).toEqual([
        '-A -t 10.79.0.100:443 -s sh -p 600',
        '-a -t 10.79.0.100:443 -r 10.79.2.1:443 -g -w 1',
        '-a -t 10.79.0.100:443 -r 10.79.2.2:443 -g -w 1',
      ]);
      // clients on the service network only: several source addresses (sh hashes them), twice each
      const srcs = ['10.79.3.1', '10.79.3.11', '10.79.3.12', '10.79.3.13', '10.79.3.14', '10.79.3.15'];
      await must(
        'client1',
        srcs
          .slice(1)
          .map((a) => `ip addr add ${a}/16 dev eth1`)
          .join(' && '),
      );
      const rx0 = [Number(await on('rs1', 'cat /sys/class/net/eth1/statistics/rx_packets'))];
      const seen = await requests('http://10.79.0.100:443/', srcs, 2);
      await must(
        'client1',
        srcs
          .slice(1)
          .map((a) => `ip addr del ${a}/16 dev eth1`)
          .join(' && '),
      );
      for (const s of stop) await s();
      expect(seen.filter((x) => x !== 'none')).toHaveLength(12);
      expect(new Set(seen)).toEqual(new Set(['rs1', 'rs2']));
      // persistence: each source's two requests went to the same real server
      for (let i = 0; i < seen.length; i += 2) expect(seen[i + 1]).toBe(seen[i]);
      expect(Number(await on('rs1', 'cat /sys/class/net/eth1/statistics/rx_packets'))).toBeGreaterThan(rx0[0]!);
      const back = await cli('rollback', first.run_id, '-i', join(dir, 'inventory'));
      expect(back.code, back.out + back.err).toBe(0);
      expect(await snapshot(hosts)).toEqual(before);
    },
    LAB_CAP_MS,
  );
});
