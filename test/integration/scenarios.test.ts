import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labDir } from '../../src/lab/paths.js';
import { cli } from './helpers.js';
import { useLab } from './lab-session.js';

// The two reference scenarios, rendered by the shipped playbooks from the example inventories with
// the lab's host addresses swapped in (the plans' own 192.168.x addresses are not reachable here).
const env = process.env;
const repo = join(import.meta.dirname, '..', '..');
const dir = labDir(env);
const L = useLab();
async function on(host: string, cmd: string, stdin?: string): Promise<{ code: number | null; out: string }> {
  const r = await L.exec(host, cmd, stdin);
  return { code: r.code, out: r.stdout + r.stderr };
}

function labCopy(example: string, swap: Record<string, string>): string {
  let text = readFileSync(join(repo, 'inventories/examples', example), 'utf8');
  for (const [a, b] of Object.entries(swap)) text = text.split(a).join(b);
  text = text.replace(
    '    ansible_user: root',
    `    ansible_user: root\n    ansible_ssh_private_key_file: ${join(dir, 'id_ed25519')}\n    lvsrun_known_hosts: ${join(dir, 'known_hosts')}`,
  );
  const f = join(dir, `example-${example}`);
  writeFileSync(f, text);
  return f;
}

type Diffs = Map<string, string>;
async function checkDiff(playbook: string, inv: string): Promise<Diffs> {
  const r = await cli(join(repo, playbook), '-i', inv, '--check', '--diff', '--json');
  expect(r.code, r.err).toBe(0);
  const j = JSON.parse(r.out) as { results: Array<{ host: string; diff?: Array<{ path: string; after: string }> }> };
  const out: Diffs = new Map();
  for (const res of j.results) for (const d of res.diff ?? []) out.set(`${res.host} ${d.path}`, d.after);
  return out;
}

describe('reference scenario A (DR behind a keepalived pair)', () => {
  const swap = {
    '192.168.3.130': '10.77.1.1',
    '192.168.3.94': '10.77.1.2',
    '192.168.3.128': '10.77.2.1',
    '192.168.3.120': '10.77.2.2',
    ens33: 'eth0',
  };
  it('the example inventory validates cleanly', async () => {
    const r = await cli(
      'validate',
      join(repo, 'playbooks/site.yaml'),
      '-i',
      join(repo, 'inventories/examples/scenario-a.yaml'),
    );
    expect(r.out).toMatch(/^0 error\(s\), 0 warning\(s\)/m);
  });
  it('--check --diff renders what the scenario describes, and keepalived -t accepts both files', async () => {
    const d = await checkDiff('playbooks/site.yaml', labCopy('scenario-a.yaml', swap));
    const lb1 = d.get('lb1 /etc/keepalived/keepalived.conf')!;
    const lb2 = d.get('lb2 /etc/keepalived/keepalived.conf')!;
    for (const want of [
      'vrrp_instance VI_1 {',
      'virtual_router_id 51',
      'advert_int 1',
      'auth_type PASS',
      '192.168.3.110/32 dev eth0',
      'virtual_server 192.168.3.110 80 {',
      'delay_loop 6',
      'lb_algo rr',
      'lb_kind DR',
      'protocol TCP',
      'real_server 10.77.2.1 80 {',
      'real_server 10.77.2.2 80 {',
      'connect_port 80',
    ]) {
      expect(lb1).toContain(want);
    }
    expect(lb1.match(/weight 1/g)).toHaveLength(2);
    expect(lb1).toMatch(/state MASTER\n.*\n.*\n\s+priority 100/);
    // the two files differ only in state and priority, as the scenario says (router_id defaults to the hostname)
    const differing = lb1
      .split('\n')
      .filter((l, i) => l !== lb2.split('\n')[i])
      .map((l) => l.trim().split(' ')[0]);
    expect(differing).toEqual(['state', 'priority']);
    expect(lb1).toContain('auth_pass ********');
    expect(lb1).not.toContain('lvs51pw');
    expect(d.get('lb1 sysctl net.ipv4.ip_forward (live)')).toBe('1\n');
    for (const f of [lb1, lb2]) {
      const t = await on('lb1', 'f=$(mktemp); cat > "$f"; keepalived -t -f "$f"; rc=$?; rm -f "$f"; exit $rc', f);
      expect(t.code, t.out).toBe(0);
    }
    for (const rs of ['rs1', 'rs2']) {
      for (const s of ['all.arp_ignore', 'lo.arp_ignore'])
        expect(d.get(`${rs} sysctl net.ipv4.conf.${s} (live)`)).toBe('1\n');
      for (const s of ['all.arp_announce', 'lo.arp_announce'])
        expect(d.get(`${rs} sysctl net.ipv4.conf.${s} (live)`)).toBe('2\n');
      expect(d.get(`${rs} lo addresses (live)`)).toBe('192.168.3.110/32 label lo:0\n');
      expect(d.get(`${rs} /etc/network/interfaces.d/lvsrun-lo-0`)).toContain('address 192.168.3.110/32');
      expect(d.get(`${rs} /var/www/html/index.html`)).toContain(rs);
    }
  });
});

describe('reference scenario B (NAT, one director)', () => {
  const swap = {
    '192.168.10.8': '10.77.1.1',
    '192.168.10.9': '10.77.2.1',
    '192.168.10.10': '10.77.2.2',
    'director:': 'lb1:',
  };
  it('the example inventory validates cleanly', async () => {
    const r = await cli(
      'validate',
      join(repo, 'playbooks/nat.yaml'),
      '-i',
      join(repo, 'inventories/examples/scenario-b.yaml'),
    );
    expect(r.out).toMatch(/^0 error\(s\), 0 warning\(s\)/m);
  });
  it("--check --diff renders the scenario's IPVS table, forwarding and the real servers' default route", async () => {
    const d = await checkDiff('playbooks/nat.yaml', labCopy('scenario-b.yaml', swap));
    const table =
      '-A -t 192.168.80.4:80 -s rr\n-a -t 192.168.80.4:80 -r 10.77.2.1:80 -m -w 1\n-a -t 192.168.80.4:80 -r 10.77.2.2:80 -m -w 1\n';
    expect(d.get('lb1 ipvs table (live)')).toBe(table);
    expect(d.get('lb1 /etc/ipvsadm.rules')).toBe(table);
    expect(d.get('lb1 sysctl net.ipv4.ip_forward (live)')).toBe('1\n');
    for (const rs of ['rs1', 'rs2']) expect(d.get(`${rs} route default`)).toBe('default via 10.77.1.1\n');
  });
  it('a real run without IPVS in the kernel fails clearly instead of pretending', async () => {
    const r = await cli(join(repo, 'playbooks/nat.yaml'), '-i', labCopy('scenario-b.yaml', swap), '--limit', 'lb1');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/IPVS is not available on this host/);
  });
});

describe('teardown.yaml', () => {
  it('takes the built cluster apart: services stopped, VIPs gone, sysctls back to 0, files removed', async () => {
    expect((await cli('playbooks/site.yaml', '-i', 'lab')).code).toBe(0);
    expect((await on('rs1', 'ip -o addr show dev lo')).out).toContain(`${L.lab.vip}/32`);
    const r = await cli('playbooks/teardown.yaml', '-i', 'lab');
    expect(r.code, r.out).toBe(0);
    for (const h of ['lb1', 'lb2', 'rs1', 'rs2']) {
      const s = (
        await on(
          h,
          `ip -o addr | grep -c ' ${L.lab.vip}/' ; pidof keepalived nginx || echo none; sysctl -n net.ipv4.ip_forward net.ipv4.conf.all.arp_ignore net.ipv4.conf.lo.arp_announce; ls /etc/sysctl.d/90-lvs.conf /etc/keepalived/keepalived.conf /var/www/html/index.html /etc/network/interfaces.d/lvsrun-lo-0 2>&1 | grep -c 'No such'`,
        )
      ).out
        .trim()
        .split('\n');
      expect(s, h).toEqual(['0', 'none', '0', '0', '0', '4']);
    }
    // a second teardown has nothing left to do
    expect((await cli('playbooks/teardown.yaml', '-i', 'lab')).out).not.toMatch(/changed: /);
  });
});
