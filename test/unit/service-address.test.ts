import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { groupReals, groupRealsProblem } from '../../src/lvs/group-reals.js';
import { keepalivedContext } from '../../src/lvs/keepalived-conf.js';
import { validateInventory } from '../../src/lvs/validate.js';
import { keepalived } from '../../src/modules/keepalived.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { TemplateEngine } from '../../src/template/render.js';

/*
 * Hosts managed over one network (ansible_host, for SSH) and serving on another
 * (lvs_service_address): IPVS, keepalived and validate use the service address.
 */
const vars = {
  inventory_hostname: 'lb1',
  groups: { directors: ['lb1', 'lb2'], realservers: ['rs1', 'rs2', 'rs3'] },
  hostvars: {
    lb1: { ansible_host: '172.16.0.11', lvs_service_address: '10.50.0.11' },
    lb2: { ansible_host: '172.16.0.12', lvs_service_address: '10.50.0.12' },
    rs1: { ansible_host: '172.16.0.21', lvs_service_address: '10.50.0.21' },
    rs2: { ansible_host: '172.16.0.22', lvs_service_address: '10.50.0.22', lvs_weight: 3 },
    // without a service address: its ansible_host, as before
    rs3: { ansible_host: '10.50.0.23' },
  },
};

describe('lvs_service_address', () => {
  it('reals_from (ipvs and keepalived) and unicast_peer_group use it, else ansible_host', () => {
    expect(groupReals(vars, 'realservers').map((r) => `${r.addr} w${r.weight}`)).toEqual([
      '10.50.0.21 w1',
      '10.50.0.22 w3',
      '10.50.0.23 w1',
    ]);
    const args = keepalived.schema.parse({
      vrrp_instances: [
        {
          name: 'VI_1',
          state: 'MASTER',
          interface: 'eth1',
          virtual_router_id: 51,
          priority: 100,
          virtual_ipaddress: ['10.50.0.100/32 dev eth1'],
          unicast_peer_group: 'directors',
        },
      ],
      virtual_servers: [{ vip: '10.50.0.100', port: 80, reals_from: { group: 'realservers' } }],
    });
    const ctx = keepalivedContext(args, vars) as {
      vrrp_instances: Array<{ unicast_src_ip: string; unicast_peer: string[] }>;
      virtual_servers: Array<{ real_servers: Array<{ address: string }> }>;
    };
    expect(ctx.vrrp_instances[0]).toMatchObject({ unicast_src_ip: '10.50.0.11', unicast_peer: ['10.50.0.12'] });
    expect(ctx.virtual_servers[0]!.real_servers.map((r) => r.address)).toEqual([
      '10.50.0.21',
      '10.50.0.22',
      '10.50.0.23',
    ]);
  });
  it('a service address that is not an IP address is refused, naming the variable', () => {
    const bad = {
      ...vars,
      hostvars: { ...vars.hostvars, rs1: { ansible_host: '172.16.0.21', lvs_service_address: 'x; y' } },
    };
    expect(groupRealsProblem(bad, 'realservers')).toMatch(/rs1 .* has lvs_service_address "x; y"/);
  });
  it('validate checks the service addresses: two real servers serving on one address are duplicates', () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-svc-'));
    const inv = (rs2: string) => `all:
  vars: {lvs_vip: 10.50.0.100, lvs_interface: eth1}
  children:
    directors:
      hosts:
        lb1: {ansible_host: 172.16.0.11, lvs_service_address: 10.50.0.11, keepalived_state: MASTER, keepalived_priority: 150}
        lb2: {ansible_host: 172.16.0.12, lvs_service_address: 10.50.0.12, keepalived_state: BACKUP, keepalived_priority: 100}
    realservers:
      hosts:
        rs1: {ansible_host: 172.16.0.21, lvs_service_address: 10.50.0.21}
        rs2: {ansible_host: 172.16.0.22, lvs_service_address: ${rs2}}
`;
    const site = loadPlaybook(join(import.meta.dirname, '..', '..', 'playbooks', 'site.yaml'));
    const check = (rs2: string) => {
      writeFileSync(join(d, 'hosts.yaml'), inv(rs2));
      return validateInventory(loadInventory(join(d, 'hosts.yaml')), site, new TemplateEngine(), {});
    };
    expect(check('10.50.0.22').filter((f) => f.severity !== 'info')).toEqual([]);
    const dup = check('10.50.0.21').find((f) => f.rule === 'duplicate-rs');
    expect(dup).toMatchObject({ variable: 'lvs_service_address' });
    expect(dup?.message).toContain('10.50.0.21');
  });
});
