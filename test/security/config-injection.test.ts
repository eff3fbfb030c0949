import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ifcfgText } from '../../src/lvs/ifcfg-text.js';
import { cli } from '../integration/helpers.js';

/*
 * Values written into config files (keepalived.conf, ifcfg) and values that reach a command as
 * options are refused before any host is touched: exit 1, naming the playbook line and the field.
 * The hosts point at a port nothing listens on: had lvsrun tried to connect, the exit would be 4.
 */
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-inj-'));
let n = 0;
const write = (name: string, text: string): string => {
  const f = join(dir, `${name}-${n++}.yaml`);
  writeFileSync(f, text);
  return f;
};
const inventory = (rsHost = '10.0.0.5'): string =>
  write(
    'inv',
    `all:
  vars: {ansible_host: 127.0.0.9, ansible_port: 1}
  children:
    directors:
      hosts:
        lb1: {}
    realservers:
      hosts:
        rs1: {ansible_host: ${JSON.stringify(rsHost)}}
`,
  );
/** A one-task playbook on the directors; the task's YAML starts on line 3. */
const playbook = (task: string, hosts = 'directors'): string =>
  write(
    'pb',
    `- hosts: ${hosts}
  tasks:
${task}`,
  );
const run = (task: string, inv = inventory(), hosts = 'directors') => {
  const pb = playbook(task, hosts);
  return cli(pb, '-i', inv).then((r) => ({ ...r, pb }));
};
/** Exit 1 before any play starts, the error naming the playbook, a line and the field. */
const expectRefused = (r: Awaited<ReturnType<typeof run>>, field: RegExp, why = ''): void => {
  expect(r.code, why).toBe(1);
  expect(r.err, why).toMatch(new RegExp(`${r.pb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+`));
  expect(r.err, why).toMatch(field);
  expect(r.out, why).not.toMatch(/PLAY/);
};
const instance = (extra: string): string => `    - name: vrrp
      keepalived:
        vrrp_instances:
          - name: VI_1
            state: MASTER
            interface: eth0
            virtual_router_id: 51
            priority: 100
            virtual_ipaddress: [10.0.0.100/32]
${extra}`;

describe('config-file injection is refused before any host is touched (item 3)', () => {
  it('a unicast_peer with a newline and a notify_master script', async () => {
    const hostile = '10.0.0.2\\n    }\\n    notify_master \\"/tmp/x\\"\\n    unicast_peer {';
    // Written in the playbook: refused when it is loaded, at the value's line.
    expectRefused(
      await run(instance(`            unicast_peer: ["${hostile}"]\n`)),
      /:12:\d+ \(.*keepalived\.vrrp_instances\[0\]\.unicast_peer\[0\]\).*an IP address/,
    );
    // From an inventory variable: refused by the pre-run check of every host, at the task's line.
    const inv = write(
      'inv',
      `all:\n  vars: {ansible_port: 1, ansible_host: 127.0.0.9, peer: "${hostile}"}\n  hosts: {lb1: {}}\n`,
    );
    const r = await run(instance(`            unicast_peer: ["{{ peer }}"]\n`), inv, 'all');
    expectRefused(r, /keepalived\.vrrp_instances\.0\.unicast_peer\.0.*an IP address/);
    expect(r.err).toContain(`${r.pb}:3`);
  });

  it('an ansible_host that reals_from writes into keepalived.conf', async () => {
    const hostile = '10.0.0.5 80 {\n    }\n}\nglobal_defs {\n    script_user root\n';
    const r = await run(
      `    - keepalived:
        virtual_servers:
          - {vip: 10.0.0.100, port: 80, reals_from: {group: realservers}}
`,
      inventory(hostile),
    );
    expectRefused(r, /keepalived\.virtual_servers\.0\.reals_from\.group.*host rs1 of group 'realservers'/);
    expect(r.err).toContain(`${r.pb}:3`);
  });

  it('a smtp_server, an e-mail address and a virtual_server vip with a newline or brace', async () => {
    for (const field of [
      'global_defs: {smtp_server: "127.0.0.1\\nnotify_master /tmp/x"}',
      'global_defs: {notification_email: ["ops@example.com }\\nvrrp_script x {"]}',
      'virtual_servers: [{vip: "10.0.0.1 80 {", port: 80}]',
    ]) {
      const r = await run(`    - keepalived:
        ${field}
        vrrp_instances:
          - {name: VI_1, state: BACKUP, interface: eth0, virtual_router_id: 5, priority: 9, virtual_ipaddress: 10.0.0.1}
`);
      const named = /keepalived\.(global_defs\.(smtp_server|notification_email\[0\])|virtual_servers\[0\]\.vip)\)/;
      expectRefused(r, named, field);
    }
  });

  it('an ifcfg setting name with a newline (a command in a file the network scripts source)', async () => {
    const r = await run(`    - ifcfg:
        device: eth1
        dir: /nonexistent
        settings: {"ONBOOT=yes\\ntouch /tmp/lvsrun-canary\\nX": 1}
`);
    expectRefused(r, /:6:\d+ \(.*ifcfg\.settings\.ONBOOT=yes.*a variable name/s);
    expect(() => ifcfgText('eth1', { 'A\ntouch /tmp/x': 1 })).toThrow(/not a variable name/);
    expect(() => ifcfgText('eth1', { IPADDR: '1\ntouch /tmp/x' })).toThrow(/not one line/);
  });
});

describe('values that would be read as options are refused (item 5)', () => {
  it('a package name that apt-get would take as -o (a Pre-Invoke command)', async () => {
    const r = await run(`    - package: {name: ["keepalived", "-oDPkg::Pre-Invoke::=touch /tmp/lvsrun-canary"]}
`);
    expectRefused(r, /:3:\d+ \(.*package\.name\[1\]\).*no leading -/);
  });

  it('iptables: a chain with a leading dash, a --modprobe, a clustered -M, a command', async () => {
    for (const [args, field] of [
      ['{chain: "-F", rule: "-j ACCEPT"}', 'iptables.chain'],
      ['{chain: INPUT, rule: "-j ACCEPT --modprobe=/tmp/x"}', 'iptables.rule'],
      ['{chain: INPUT, rule: "-p tcp --modp=/tmp/x -j ACCEPT"}', 'iptables.rule'],
      ['{chain: INPUT, rule: "-vM/tmp/x -j ACCEPT"}', 'iptables.rule'],
      ['{chain: INPUT, rule: "-j ACCEPT -F"}', 'iptables.rule'],
    ] as const) {
      const r = await run(`    - iptables: ${args}\n`);
      expectRefused(r, new RegExp(`\\.${field.replace('.', '\\.')}\\)`), args);
    }
  });

  it('route, vip and service values with a leading dash', async () => {
    for (const [args, field] of [
      ['route: {dest: "-batch", dev: eth0}', 'route.dest'],
      ['route: {dest: 10.0.0.0/8, dev: "-force"}', 'route.dev'],
      ['vip: {address: 10.0.0.100, interface: "-all"}', 'vip.interface'],
      ['service: {name: "--root=/tmp", state: started}', 'service.name'],
    ] as const) {
      const r = await run(`    - ${args}\n`);
      expectRefused(r, new RegExp(`\\.${field.replace('.', '\\.')}\\)`), args);
    }
  });
});
