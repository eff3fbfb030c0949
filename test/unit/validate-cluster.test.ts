import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { validateInventory } from '../../src/lvs/validate.js';
import type { Finding } from '../../src/lvs/rules.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { TemplateEngine } from '../../src/template/render.js';

/* Clusters written from docs/lvs.md, validated with the shipped playbooks. */
const repo = join(import.meta.dirname, '..', '..');
const site = loadPlaybook(join(repo, 'playbooks/site.yaml'));

/** An inventory folder: hosts.yaml and, per group, group_vars/GROUP.yml. */
function invDir(hosts: string, groupVars: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-cl-'));
  writeFileSync(join(d, 'hosts.yaml'), hosts);
  mkdirSync(join(d, 'group_vars'));
  for (const [g, text] of Object.entries(groupVars)) writeFileSync(join(d, 'group_vars', `${g}.yml`), text);
  return d;
}
const HOSTS = `all:
  vars: {lvs_vip: 10.99.0.100, lvs_interface: eth0}
  children:
    directors:
      hosts:
        lb1: {ansible_host: 10.99.0.11, keepalived_state: MASTER, keepalived_priority: 150}
        lb2: {ansible_host: 10.99.0.12, keepalived_state: BACKUP, keepalived_priority: 100}
    realservers:
      hosts:
        rs1: {ansible_host: 10.99.0.21}
        rs2: {ansible_host: 10.99.0.22}
`;
const run = (d: string, pb = site, extra: Record<string, unknown> = {}): Finding[] =>
  validateInventory(loadInventory(d), pb, new TemplateEngine(), extra);
const line = (f: Finding): string =>
  `${f.severity}[${f.rule}] ${f.host} ${f.variable ?? ''} ${f.origin?.file ?? ''}:${f.origin?.line ?? ''}`;

describe('the shipped playbooks leave the inventory in charge (defaults are role defaults)', () => {
  it("group_vars/directors.yml's lvs_vrid and a 9-character auth_pass are what validate checks", () => {
    const d = invDir(HOSTS, { directors: 'lvs_vrid: 300\nlvs_auth_pass: ninechars\n' });
    const fs = run(d).filter((f) => f.severity === 'error');
    expect(fs.map((f) => f.rule)).toContain('auth-pass-length');
    expect(fs.find((f) => f.rule === 'task-args' || f.rule === 'vrid-range')).toBeDefined();
    const auth = fs.find((f) => f.rule === 'auth-pass-length')!;
    expect(auth.origin?.file).toMatch(/group_vars\/directors\.yml$/);
  });
  it("the inventory's VRID is the one the role writes (a VRID shared with another cluster is seen)", () => {
    const other = HOSTS.replace(
      '    realservers:',
      `    other:
      hosts:
        lb9: {ansible_host: 10.99.0.19, keepalived_state: MASTER, keepalived_priority: 150, lvs_vrid: 60,
              lvs_cluster: b, lvs_vip: 10.99.0.200}
    realservers:`,
    );
    const d = invDir(other, { directors: 'lvs_vrid: 60\n' });
    expect(run(d).map(line)).toContainEqual(expect.stringMatching(/^error\[vrid-collision\]/));
    // and with the role's default VRID (51) there is no collision with 60
    expect(run(invDir(other)).map((f) => f.rule)).not.toContain('vrid-collision');
  });
  it('site.yaml, tun.yaml and nat.yaml set no play vars that shadow the inventory', () => {
    for (const f of ['site.yaml', 'tun.yaml', 'nat.yaml']) {
      for (const play of loadPlaybook(join(repo, 'playbooks', f)).plays) {
        const method = ['lvs_method', 'lvs_use_keepalived', 'lvs_vip_interface'];
        expect(
          Object.keys(play.vars).filter((k) => !method.includes(k)),
          `${f} ${play.name}`,
        ).toEqual([]);
      }
    }
  });
});

describe('real servers are not VRRP peers because of a variable in all: vars', () => {
  const withAll = (v: string): string => invDir(HOSTS.replace('lvs_interface: eth0}', `lvs_interface: eth0, ${v}}`));
  it('lvs_vrid in all: vars: no priority tie between a real server and a director', () => {
    const fs = run(withAll('lvs_vrid: 51'));
    expect(fs.filter((f) => /rs\d/.test(f.host) || /rs\d/.test(f.message)).map(line)).toEqual([]);
    expect(fs.filter((f) => f.severity !== 'info').map(line)).toEqual([]);
  });
  it('a bad VRID in all: vars is reported for the directors only', () => {
    // without the playbook: the variables alone decide who is a director
    const fs = validateInventory(loadInventory(withAll('lvs_vrid: 300')), undefined, new TemplateEngine()).filter(
      (f) => f.severity === 'error',
    );
    expect(fs.map((f) => `${f.rule} ${f.host}`).sort()).toEqual(['vrid-range lb1', 'vrid-range lb2']);
  });
});

describe('cross-host rules on what the role would write', () => {
  it('one VIP claimed by two clusters with different VRIDs is an error; a duplicate router_id a warning', () => {
    const hosts = HOSTS.replace(
      '    realservers:',
      `    other:
      hosts:
        lb9: {ansible_host: 10.99.0.19, keepalived_state: MASTER, keepalived_priority: 150, lvs_vrid: 60,
              lvs_cluster: b}
    realservers:`,
    )
      .replace('keepalived_priority: 100}', 'keepalived_priority: 100, lvs_router_id: LB}')
      .replace('keepalived_priority: 150}', 'keepalived_priority: 150, lvs_router_id: LB}');
    const fs = run(invDir(hosts)).map(line);
    expect(fs).toContainEqual(expect.stringMatching(/^error\[vip-split\] lb9 lvs_vrid .*hosts\.yaml:/));
    expect(fs).toContainEqual(expect.stringMatching(/^warn\[router-id-duplicate\] lb2 lvs_router_id .*hosts\.yaml:/));
    // distinct router_ids and one VRID per VIP: neither rule fires
    expect(run(invDir(HOSTS)).map((f) => f.rule)).not.toContain('vip-split');
  });
});

describe('findings point where the value was set', () => {
  it('a value given with -e is reported at -e, not at the inventory line it overrides', () => {
    const d = invDir(HOSTS, { directors: 'lvs_auth_pass: goodpw\n' });
    expect(run(d).filter((f) => f.severity === 'error')).toEqual([]);
    const fs = run(d, site, { lvs_auth_pass: 'ninechars' }).filter((f) => f.rule === 'auth-pass-length');
    expect(fs.length).toBeGreaterThan(0);
    for (const f of fs) expect(f).toMatchObject({ variable: 'lvs_auth_pass', origin: { file: '-e' } });
  });
  it('-e keepalived_state applies to every host but makes no host outside directors a VRRP peer', () => {
    const d = invDir(
      HOSTS.replace(
        '    realservers:',
        '    clients:\n      hosts:\n        c1: {ansible_host: 10.99.0.31}\n    realservers:',
      ),
      { directors: 'lvs_auth_pass: goodpw\n' },
    );
    const fs = run(d, site, { keepalived_state: 'BACKUP', lvs_nopreempt: true });
    expect(fs.filter((f) => f.host === 'c1')).toEqual([]);
    expect(fs.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('a {{#if}}…{{else}}… value is reported at the task, not under a variable named else', () => {
    const d = invDir(HOSTS);
    const pb = join(mkdtempSync(join(tmpdir(), 'lvsrun-pb-')), 'pb.yaml');
    writeFileSync(
      pb,
      `- hosts: directors
  tasks:
    - keepalived:
        vrrp_instances:
          - name: VI_1
            state: "{{keepalived_state}}"
            interface: eth0
            virtual_router_id: 51
            priority: "{{#if (eq keepalived_state 'MASTER')}}150{{else}}150{{/if}}"
            virtual_ipaddress: [10.99.0.100/32 dev eth0]
`,
    );
    const tie = run(d, loadPlaybook(pb)).find((f) => f.rule === 'priority-tie')!;
    expect(tie.variable).not.toBe('else');
    expect(tie).toMatchObject({ variable: 'keepalived vrrp_instances[0].priority', origin: { file: pb, line: 3 } });
  });
});

describe("a value from a role default is reported at the role's defaults file", () => {
  it("the role's VRID 51 colliding with another cluster points at defaults/main.yaml", () => {
    const hosts = HOSTS.replace(
      '  children:\n',
      `  children:
    other:
      hosts:
        lb9: {ansible_host: 10.99.0.19, keepalived_state: MASTER, keepalived_priority: 150, lvs_vrid: 51,
              lvs_cluster: b, lvs_vip: 10.99.0.200}
`,
    );
    const f = run(invDir(hosts)).find((x) => x.rule === 'vrid-collision')!;
    expect(f).toMatchObject({ variable: 'lvs_vrid' });
    expect(f.origin?.file).toMatch(/playbooks\/roles\/lvs_director\/defaults\/main\.yaml$/);
  });
});
