import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../integration/helpers.js';

const repo = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-val-'));
// Hosts on an address nothing listens on: if lvsrun tried to connect, the exit would be 4, not 1.
const inv = (lb2: string): string => {
  const f = join(dir, `inv-${Math.random()}.yaml`);
  writeFileSync(
    f,
    `all:
  vars: {lvs_vip: 10.99.0.100, lvs_interface: eth0, ansible_host: 127.0.0.9, ansible_port: 1}
  children:
    directors:
      hosts:
        lb1: {keepalived_state: MASTER, keepalived_priority: 150}
        lb2: {${lb2}}
    realservers:
      hosts:
        rs1: {}
`,
  );
  return f;
};

describe('lvsrun PLAYBOOK validates the whole inventory first', () => {
  it('refuses to start on a validation error, naming host, variable and line, exit 1', async () => {
    const r = await cli(
      join(repo, 'playbooks/site.yaml'),
      '-i',
      inv('keepalived_state: MASTER, keepalived_priority: 100'),
    );
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /error\[one-master\] lb1 keepalived_state \(.*inv-.*\.yaml:6\): default\/VI_1 has 2 directors with state MASTER/,
    );
    expect(r.err).toMatch(/error\[E_VALIDATION\].*nothing was touched/);
    expect(r.out).not.toMatch(/PLAY/);
  });
  it('lvsrun validate prints the findings and exits 0 on a clean inventory, 1 on errors', async () => {
    expect(
      (
        await cli(
          'validate',
          join(repo, 'playbooks/site.yaml'),
          '-i',
          inv('keepalived_state: BACKUP, keepalived_priority: 100'),
        )
      ).code,
    ).toBe(0);
    const bad = await cli(
      'validate',
      join(repo, 'playbooks/site.yaml'),
      '-i',
      inv('keepalived_state: BACKUP, keepalived_priority: 100, lvs_advert_int: 2'),
    );
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(
      /error\[peer-mismatch\] lb2 lvs_advert_int .*advert_int differs between peers of default\/VI_1: lb2 has 2, lb1 has 1/,
    );
  });
});

describe("lvsrun validate reads keepalived tasks, not only the role's variables", () => {
  // Two plays write literal keepalived settings; the mistakes are in the playbook, not in variables.
  const pb = (lb2: string, extra = ''): string => {
    const f = join(dir, `pb-${Math.random()}.yaml`);
    const inst = (name: string, s: string) =>
      `{name: ${name}, interface: eth0, virtual_ipaddress: [10.99.0.100/32 dev eth0], ${s}}`;
    writeFileSync(
      f,
      `- hosts: lb1
  tasks:
    - keepalived:
        vrrp_instances:
          - ${inst('VI_1', 'state: MASTER, priority: "{{prio}}", virtual_router_id: 51')}${extra}
- hosts: lb2
  tasks:
    - keepalived:
        vrrp_instances:
          - ${inst('VI_1', lb2)}
`,
    );
    return f;
  };
  const plainInv = (): string => {
    const f = join(dir, `inv-plain-${Math.random()}.yaml`);
    writeFileSync(
      f,
      'all:\n  vars: {ansible_host: 127.0.0.9, ansible_port: 1}\n  hosts:\n    lb1: {prio: 80}\n    lb2: {}\n',
    );
    return f;
  };
  it("finds peer mismatches and priorities across plays, naming the task line or the variable's line", async () => {
    const r = await cli('validate', pb('state: BACKUP, priority: 90, virtual_router_id: 52'), '-i', plainInv());
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /error\[peer-mismatch\] lb2 keepalived vrrp_instances\[0\]\.virtual_router_id \(.*pb-.*\.yaml:8\): virtual_router_id differs between peers of default\/VI_1/,
    );
    // priority: "{{prio}}" points at the inventory line where prio is set
    expect(r.out).toMatch(
      /error\[master-priority\] lb1 prio \(.*inv-plain-.*\.yaml:4\): lb1 is the intended MASTER of default\/VI_1 but its priority 80 is below 90/,
    );
  });
  it('two instances on one host with one VRID on one interface collide; a clean pair passes', async () => {
    const clash = await cli(
      'validate',
      pb(
        'state: BACKUP, priority: 70, virtual_router_id: 51',
        `\n          - ${'{name: VI_2, interface: eth0, virtual_ipaddress: [10.99.0.101/32 dev eth0], state: MASTER, priority: 100, virtual_router_id: 51}'}`,
      ),
      '-i',
      plainInv(),
    );
    expect(clash.out).toMatch(
      /error\[vrid-collision\] lb1 .*VRID 51 on eth0 is used by default\/VI_2 and by default\/VI_1/,
    );
    expect(
      (await cli('validate', pb('state: BACKUP, priority: 70, virtual_router_id: 51'), '-i', plainInv())).code,
    ).toBe(0);
  });
});

describe("every task's arguments are checked for every host before the run", () => {
  it('a value wrong for one host only, or undefined there, stops the run with exit 1 naming host, task line and field', async () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-pre-'));
    writeFileSync(
      join(d, 'pb.yaml'),
      `- hosts: all
  tasks:
    - name: wait for the app
      wait_for: {host: 127.0.0.1, port: "{{app_port}}", timeout: 1}
    - name: write conf
      copy: {dest: "/etc/{{conf_name}}", content: x}
    - name: probe
      command: echo hi
      register: probe
    - name: uses what the run registers, unknown before it and so not an error
      copy: {dest: /tmp/p, content: "{{probe.stdout}}"}
`,
    );
    const invText = (h2: string): string =>
      `all:\n  vars: {ansible_host: 127.0.0.9, ansible_port: 1}\n  hosts:\n    h1: {app_port: 8080, conf_name: a.conf}\n    h2: {${h2}}\n`;
    writeFileSync(join(d, 'bad.yaml'), invText('app_port: http'));
    writeFileSync(join(d, 'good.yaml'), invText('app_port: 8081, conf_name: b.conf'));
    const r = await cli(join(d, 'pb.yaml'), '-i', join(d, 'bad.yaml'));
    expect(r.code).toBe(1); // the hosts are on a port nothing listens on: a connection attempt would exit 4
    expect(r.err).toMatch(
      /error\[task-args\] h2 wait_for\.port \(.*pb\.yaml:3\): task 'wait for the app': Expected number, received string \(is "http"\)/,
    );
    expect(r.err).toMatch(
      /error\[task-args\] h2 copy\.dest \(.*pb\.yaml:5\): task 'write conf': undefined variable 'conf_name'\n {2}hint: define conf_name in the inventory/,
    );
    // The temp folder's random name may itself hold 'h1': only the messages count.
    expect(r.err.split(d).join('')).not.toMatch(/h1|probe/);
    expect((await cli('validate', join(d, 'pb.yaml'), '-i', join(d, 'good.yaml'))).code).toBe(0);
  });
});

describe('validate findings never show a secret', () => {
  it('an auth_pass mismatch (templated, quoted) names the field, not the values, in text and --json', async () => {
    const f = inv(
      'keepalived_state: BACKUP, keepalived_priority: 100, lvs_auth_pass: "{{ lb2_vrrp }}", ' + 'lb2_vrrp: "pw\\"two"',
    );
    writeFileSync(f, readFileSync(f, 'utf8').replace('lb1: {', 'lb1: {lvs_auth_pass: pw-one, '));
    // Without a playbook: site.yaml's play vars would set one auth_pass for both.
    const args = ['-i', f];
    for (const r of [await cli('validate', ...args), await cli('validate', ...args, '--json')]) {
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/peer-mismatch/);
      expect(r.out).toMatch(/auth_pass differs between peers of default\/VI_1: lb2 and lb1 disagree/);
      expect(r.out + r.err).not.toMatch(/pw-one|pw\\?"two|pw\\\\"two/);
    }
  });
});
