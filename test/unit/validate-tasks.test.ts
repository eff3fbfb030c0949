import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import type { Finding } from '../../src/lvs/rules.js';
import { validateInventory } from '../../src/lvs/validate.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { TemplateEngine } from '../../src/template/render.js';

/*
 * The classic mistakes written as module arguments instead of the roles' lvs_* variables: validate
 * checks what the tasks would configure.
 */
const INV = `all:
  children:
    directors:
      hosts:
        lb1: {ansible_host: 10.70.0.11}
    realservers:
      hosts:
        rs1: {ansible_host: 10.70.0.21}
        rs2: {ansible_host: 10.70.0.22}
`;

function check(pb: string, inv = INV): { findings: Finding[]; file: string } {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-vt-'));
  writeFileSync(join(d, 'hosts.yaml'), inv);
  const file = join(d, 'pb.yaml');
  writeFileSync(file, pb);
  return {
    findings: validateInventory(loadInventory(join(d, 'hosts.yaml')), loadPlaybook(file), new TemplateEngine(), {}),
    file,
  };
}
const errs = (fs: Finding[]): string[] =>
  fs
    .filter((f) => f.severity !== 'info')
    .map((f) => `${f.severity}[${f.rule}] ${f.host} ${f.variable ?? ''} :${f.origin?.line ?? ''}`);

const ipvsPlay = (service: string) => `- hosts: directors
  tasks:
    - name: table
      ipvs:
        services:
          - ${service}
`;

describe('validate reads the ipvs tasks', () => {
  it('scheduler: roundrobin is refused at the task line; rr passes', () => {
    const bad = check(
      ipvsPlay('{vip: 10.70.0.100, port: 80, scheduler: roundrobin, reals_from: {group: realservers}}'),
    );
    expect(errs(bad.findings)).toContain('error[scheduler] lb1 ipvs services[0].scheduler :3');
    const ok = check(ipvsPlay('{vip: 10.70.0.100, port: 80, scheduler: rr, reals_from: {group: realservers}}'));
    expect(errs(ok.findings)).toEqual([]);
  });
  it('a DR or TUN real server on another port is port-remap; NAT may remap', () => {
    const dr = check(
      ipvsPlay('{vip: 10.70.0.100, port: 80, scheduler: rr, reals: [{addr: 10.70.0.21, port: 8080, forward: dr}]}'),
    );
    expect(errs(dr.findings)).toContain('error[port-remap] rs1 ipvs services[0].reals[0].port :3');
    const tun = check(
      ipvsPlay('{vip: 10.70.0.100, port: 80, scheduler: rr, reals: [{addr: 10.9.9.9, port: 8080, forward: ipip}]}'),
    );
    expect(errs(tun.findings)).toContain('error[port-remap] 10.9.9.9 ipvs services[0].reals[0].port :3');
    const nat = check(
      ipvsPlay('{vip: 10.70.0.100, port: 80, scheduler: rr, reals: [{addr: 10.9.9.9, port: 8080, forward: nat}]}'),
    );
    expect(errs(nat.findings)).toEqual([]);
  });
  it('a value from a variable is reported under the variable, where it was set', () => {
    const r = check(
      ipvsPlay('{vip: 10.70.0.100, port: 80, scheduler: "{{sched}}", reals_from: {group: realservers}}'),
      INV.replace('lb1: {ansible_host: 10.70.0.11}', 'lb1: {ansible_host: 10.70.0.11, sched: roundrobin}'),
    );
    expect(errs(r.findings)).toContain('error[scheduler] lb1 sched :5');
  });
});

describe('validate reads the keepalived virtual servers', () => {
  it('DR real_servers listed on another port are port-remap, in every virtual server', () => {
    const r = check(`- hosts: directors
  tasks:
    - keepalived:
        virtual_servers:
          - {vip: 10.70.0.100, port: 80, lb_algo: rr, lb_kind: DR, real_servers: [{address: 10.70.0.21, port: 80}]}
          - {vip: 10.70.0.100, port: 443, lb_algo: wrr, lb_kind: DR, real_servers: [{address: 10.70.0.22, port: 8443}]}
`);
    expect(errs(r.findings)).toEqual(['error[port-remap] rs2 keepalived virtual_servers[1].real_servers[0].port :3']);
  });
});

describe("validate reads the real servers' route, ifcfg and sysctl tasks", () => {
  const nat = (rsTasks: string) => `- hosts: directors
  tasks:
    - ipvs:
        services: [{vip: 10.70.0.100, port: 80, scheduler: rr, reals_from: {group: realservers, forward: nat}}]
- hosts: realservers
  tasks:
${rsTasks}`;
  const natInv = INV.replace('lb1: {ansible_host: 10.70.0.11}', 'lb1: {ansible_host: 10.70.0.11, lvs_dip: 10.70.0.1}');
  it('NAT: a default route that is not via the DIP is nat-gateway; via the DIP passes', () => {
    const bad = check(nat('    - route: {dest: default, via: 10.70.0.254}\n'), natInv);
    expect(errs(bad.findings).filter((f) => f.includes('nat-gateway'))).toEqual([
      'error[nat-gateway] rs1 route via :7',
      'error[nat-gateway] rs2 route via :7',
    ]);
    expect(errs(check(nat('    - route: {dest: default, via: 10.70.0.1}\n'), natInv).findings)).toEqual([]);
  });
  it('NAT: an ifcfg GATEWAY counts as the default route', () => {
    const r = check(nat('    - ifcfg: {device: eth0, settings: {IPADDR: 10.70.0.21, GATEWAY: 10.70.0.254}}\n'), natInv);
    expect(errs(r.findings)).toContain('error[nat-gateway] rs1 ifcfg settings.GATEWAY :7');
  });
  const dr = (rsTasks: string) => `- hosts: directors
  tasks:
    - ipvs:
        services: [{vip: 10.70.0.100, port: 80, scheduler: rr, reals_from: {group: realservers}}]
- hosts: realservers
  tasks:
    - vip: {address: 10.70.0.100}
${rsTasks}`;
  it('DR: a default route through the director is mode-mismatch', () => {
    const r = check(dr('    - route: {dest: default, via: 10.70.0.11}\n'));
    expect(errs(r.findings)).toContain('warn[mode-mismatch] rs1 route via :8');
  });
  it('DR: ARP set with sysctl tasks is checked as the kernel applies it (max of all and the interface)', () => {
    // the value comes from the task's own variable v: reported under it, at the task
    expect(errs(check(dr('    - sysctl: {name: net.ipv4.conf.all.arp_ignore, value: 0}\n')).findings)).toContain(
      'error[arp-settings] rs1 sysctl net.ipv4.conf.all.arp_ignore :8',
    );
    const sysctl = (all: number, lo: number, name = 'arp_ignore') =>
      `    - sysctl: {name: "net.ipv4.conf.{{item}}.${name}", value: "{{lookup v item}}"}
      loop: [all, lo]
      vars: {v: {all: ${all}, lo: ${lo}}}
`;
    expect(errs(check(dr(sysctl(0, 0))).findings)).toContain('error[arp-settings] rs1 v :8');
    // max(all, lo): either being 1 is enough
    expect(errs(check(dr(sysctl(1, 0))).findings)).toEqual([]);
    expect(errs(check(dr(sysctl(0, 1))).findings)).toEqual([]);
    expect(errs(check(dr(sysctl(1, 1, 'arp_announce'))).findings)).toContain('error[arp-settings] rs1 v :8');
  });
  it("the shipped playbooks' own tasks pass for DR, TUN, NAT and the teardown", () => {
    const repo = join(import.meta.dirname, '..', '..');
    const inv = `all:
  vars: {lvs_vip: 10.70.0.100, lvs_interface: eth0, lvs_dip: 10.70.0.1}
  children:
    directors:
      hosts:
        lb1: {ansible_host: 10.70.0.11, keepalived_state: MASTER, keepalived_priority: 150}
        lb2: {ansible_host: 10.70.0.12, keepalived_state: BACKUP, keepalived_priority: 100}
    realservers:
      vars: {lvs_gateway: 10.70.0.1}
      hosts:
        rs1: {ansible_host: 10.70.0.21}
        rs2: {ansible_host: 10.70.0.22}
`;
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-vt-'));
    writeFileSync(join(d, 'hosts.yaml'), inv);
    // teardown.yaml puts the ARP sysctls back to 0 while it removes the VIP: not a misconfigured real server
    for (const pb of ['site.yaml', 'tun.yaml', 'nat.yaml', 'teardown.yaml']) {
      const fs = validateInventory(
        loadInventory(join(d, 'hosts.yaml')),
        loadPlaybook(join(repo, 'playbooks', pb)),
        new TemplateEngine(),
        {},
      );
      // DR and TUN real servers with a gateway that is the director's DIP: the one warning they deserve
      expect(
        errs(fs).filter((f) => !f.startsWith('warn[mode-mismatch]')),
        pb,
      ).toEqual([]);
    }
  });
  it('a host whose tasks take its VIP away is leaving the service: its ARP settings are not checked', () => {
    const pb = `- hosts: realservers
  tasks:
    - vip: {address: 10.70.0.100, interface: lo, state: absent}
    - sysctl: {name: net.ipv4.conf.all.arp_ignore, value: 0}
`;
    expect(errs(check(pb).findings)).toEqual([]);
    // Adding the VIP back in the same playbook makes it a real server again.
    const back = `${pb}    - vip: {address: 10.70.0.100, interface: lo}\n`;
    expect(errs(check(back).findings).some((f) => f.startsWith('error[arp-settings] rs1'))).toBe(true);
  });
});
