import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp } from '../../src/lab/lab.js';
import { labDir } from '../../src/lab/paths.js';
import { cli, recapLine, waitFor } from './helpers.js';
import { useLab } from './lab-session.js';

const env = process.env;
const dir = labDir(env);
const fx = (p: string): string => join(import.meta.dirname, '..', 'fixtures', 'playbooks', p);
const nsNames = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('lvslab-'));
const labLinks = (): string[] =>
  execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /lvsl-|lvslab0/.test(l));

const s = useLab((lab) => {
  // lab down leaves nothing behind: no namespace, link, process or state folder
  expect(nsNames()).toEqual([]);
  expect(labLinks()).toEqual([]);
  for (const h of lab.hosts) expect(() => process.kill(h.pid, 0)).toThrow();
  expect(() => readFileSync(join(dir, 'state.json'))).toThrow();
  expect(readFileSync('/proc/mounts', 'utf8')).not.toContain('lvslab');
});
const on = async (host: string, cmd: string): Promise<string> => (await s.exec(host, cmd)).stdout.trim();

describe('the lab', () => {
  it("gives every host its own sshd, hostname and address, reachable through lvsrun's transport", async () => {
    for (const h of s.lab.hosts) {
      expect(await on(h.name, 'hostname')).toBe(h.name);
      expect(await on(h.name, 'ip -o -4 addr show dev eth0')).toContain(h.addr);
    }
    expect(nsNames()).toHaveLength(6); // 2 directors, 2 real servers, a client, the bastion
  });

  it('is idempotent: lab up twice changes nothing', async () => {
    const again = await labUp({ directors: 2, realservers: 2, clients: 1 }, env);
    expect(again.hosts.map((h) => h.pid)).toEqual(s.lab.hosts.map((h) => h.pid));
  });

  it('isolates files and net sysctls between hosts and from the machine', async () => {
    await on('lb1', 'echo secret-lb1 > /etc/lvsrun-isolation; sysctl -q -w net.ipv4.conf.all.arp_ignore=1');
    expect(await on('lb1', 'cat /etc/lvsrun-isolation; sysctl -n net.ipv4.conf.all.arp_ignore')).toBe('secret-lb1\n1');
    expect(await on('lb2', 'cat /etc/lvsrun-isolation 2>&1; sysctl -n net.ipv4.conf.all.arp_ignore')).toMatch(
      /No such file[\s\S]*\n0$/,
    );
    expect(() => readFileSync('/etc/lvsrun-isolation')).toThrow();
    await on('lb1', 'rm /etc/lvsrun-isolation; sysctl -q -w net.ipv4.conf.all.arp_ignore=0');
  });
});

describe('lvsrun against real hosts', () => {
  it('converges a playbook using every module, then a second run changes nothing', async () => {
    const first = await cli(fx('all-modules.yaml'), '-i', 'lab');
    expect(first.code, first.out + first.err).toBe(0);
    expect(recapLine(first.out, 'rs1')).toMatchObject({ failed: 0, unreachable: 0 });
    expect(recapLine(first.out, 'rs1').changed).toBeGreaterThanOrEqual(10);
    expect(await on('rs1', 'cat /srv/lvsrun-it/app.conf')).toContain('host=rs1');
    expect(await on('rs2', 'cat /srv/lvsrun-it/marker')).toBe('rs2 1');
    expect(
      await on(
        'rs1',
        'stat -c %a /srv/lvsrun-it; readlink /srv/lvsrun-it/current; sysctl -n net.ipv4.conf.all.arp_ignore',
      ),
    ).toBe('750\n/srv/lvsrun-it/app.conf\n1');
    const second = await cli(fx('all-modules.yaml'), '-i', 'lab');
    expect(second.code).toBe(0);
    for (const h of ['rs1', 'rs2']) expect(recapLine(second.out, h).changed).toBe(0);
  });

  it('--check changes nothing, and --diff shows a template change', async () => {
    const before = await on('rs1', 'cat /srv/lvsrun-it/app.conf');
    const r = await cli(
      fx('all-modules.yaml'),
      '-i',
      'lab',
      '--check',
      '--diff',
      '-e',
      'greeting=bonjour',
      '--detailed-exitcode',
    );
    expect(r.code).toBe(2);
    expect(r.out).toContain('-greeting=hello');
    expect(r.out).toContain('+greeting=bonjour');
    expect(await on('rs1', 'cat /srv/lvsrun-it/app.conf')).toBe(before);
  });

  it('a failing task fails only its host, which is rolled back to its exact state', async () => {
    const snap = 'cat /etc/lvsrun-rollback-test 2>&1; sysctl -n net.ipv4.conf.all.arp_announce; ls /etc/sysctl.d/';
    const before = { rs1: await on('rs1', snap), rs2: await on('rs2', snap) };
    const r = await cli(fx('fail-rs2.yaml'), '-i', 'lab');
    expect(r.code).toBe(2);
    expect(recapLine(r.out, 'rs2')).toMatchObject({ failed: 1, rolled_back: 1 });
    expect(recapLine(r.out, 'rs1')).toMatchObject({ failed: 0, changed: 2 });
    expect(await on('rs2', snap)).toBe(before.rs2);
    expect(await on('rs1', snap)).not.toBe(before.rs1);
    await on(
      'rs1',
      'rm -f /etc/lvsrun-rollback-test /etc/sysctl.d/95-rollback.conf; sysctl -q -w net.ipv4.conf.all.arp_announce=0',
    );
  });

  it('reports an unreachable host and finishes the others', async () => {
    const inv = readFileSync(join(dir, 'inventory.yaml'), 'utf8').replace(
      'rs2: {ansible_host: 10.77.2.2}',
      'rs2: {ansible_host: 10.77.2.2, ansible_port: 2}',
    );
    const f = join(mkdtempSync(join(tmpdir(), 'lvsrun-it-')), 'inv.yaml');
    writeFileSync(f, inv);
    const r = await cli(fx('all-modules.yaml'), '-i', f);
    expect(r.code).toBe(4);
    expect(recapLine(r.out, 'rs2').unreachable).toBe(1);
    expect(recapLine(r.out, 'rs1')).toMatchObject({ failed: 0, unreachable: 0 });
  });

  it('refuses an unknown host key, and a changed one', async () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-kh-'));
    writeFileSync(join(d, 'empty'), '');
    const base = readFileSync(join(dir, 'inventory.yaml'), 'utf8');
    writeFileSync(
      join(d, 'inv.yaml'),
      base.replace(/lvsrun_known_hosts: .*/, `lvsrun_known_hosts: ${join(d, 'empty')}`),
    );
    const r = await cli(fx('all-modules.yaml'), '-i', join(d, 'inv.yaml'), '--limit', 'rs1');
    expect(r.code).toBe(4);
    expect(r.out).toMatch(/E_HOSTKEY.*host key for 10\.77\.2\.1:22 is unknown/);
    const wrong = readFileSync(join(dir, 'known_hosts'), 'utf8')
      .replace(/^10\.77\.2\.1 .*$/m, (l) => l.replace('10.77.2.1', 'x'))
      .replace(/^10\.77\.2\.2 /m, '10.77.2.1 ');
    writeFileSync(join(d, 'wrong'), wrong);
    writeFileSync(
      join(d, 'inv2.yaml'),
      base.replace(/lvsrun_known_hosts: .*/, `lvsrun_known_hosts: ${join(d, 'wrong')}`),
    );
    const r2 = await cli(fx('all-modules.yaml'), '-i', join(d, 'inv2.yaml'), '--limit', 'rs1');
    expect(r2.out).toMatch(/HOST KEY CHANGED/);
  });

  it('rejects bad input with exit 1 before touching any host', async () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-bad-'));
    writeFileSync(join(d, 'pb.yaml'), '- hosts: all\n  tasks:\n    - copy: {dest: /tmp/x, contnet: y}\n');
    const r = await cli(join(d, 'pb.yaml'), '-i', 'lab');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/pb\.yaml:3:\d+ .*unknown argument 'contnet'/);
    expect(r.err).toContain("did you mean 'content'?");
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('the shipped DR cluster', () => {
  it('builds with site.yaml, re-runs with changed=0, and lb1 holds the VIP', async () => {
    const r = await cli('playbooks/site.yaml', '-i', 'lab');
    expect(r.code, r.out + r.err).toBe(0);
    const again = await cli('playbooks/site.yaml', '-i', 'lab');
    for (const h of ['lb1', 'lb2', 'rs1', 'rs2']) expect(recapLine(again.out, h).changed).toBe(0);
    expect(await on('rs1', 'ip -o addr show dev lo')).toContain('10.77.0.100/32');
    expect(await on('rs2', 'sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.lo.arp_announce')).toBe('1\n2');
    expect(await on('client1', 'curl -s --max-time 3 http://10.77.2.2/')).toContain('<h1>rs2</h1>');
    await waitFor(
      async () => (await on('lb1', 'ip -o -4 addr show dev eth0')).includes('10.77.0.100/32'),
      s.bound(10000),
    );
    expect(await on('lb2', 'ip -o -4 addr show dev eth0')).not.toContain('10.77.0.100');
  });

  it('VRRP fails over: keepalived stopped on lb1 (service module), the VIP moves to lb2, and comes back', async () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-fo-'));
    writeFileSync(join(d, 'stop.yaml'), '- hosts: lb1\n  tasks:\n    - service: {name: keepalived, state: stopped}\n');
    writeFileSync(join(d, 'start.yaml'), '- hosts: lb1\n  tasks:\n    - service: {name: keepalived, state: started}\n');
    const t0 = Date.now();
    expect((await cli(join(d, 'stop.yaml'), '-i', 'lab')).code).toBe(0);
    expect(await on('lb1', 'pidof keepalived || echo none')).toBe('none');
    await waitFor(
      async () => (await on('lb2', 'ip -o -4 addr show dev eth0')).includes('10.77.0.100/32'),
      s.bound(10000),
    );
    expect(Date.now() - t0).toBeLessThan(s.bound(10000));
    expect((await cli(join(d, 'start.yaml'), '-i', 'lab')).code).toBe(0);
    await waitFor(
      async () => (await on('lb1', 'ip -o -4 addr show dev eth0')).includes('10.77.0.100/32'),
      s.bound(15000),
    );
  });
});
