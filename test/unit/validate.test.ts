import { describe, expect, it } from 'vitest';
import { buildModel, type HostInput } from '../../src/lvs/model.js';
import { validateModel } from '../../src/lvs/rules.js';

// A healthy DR pair (scenario A) and two real servers; each case mutates it to break one rule.
type Vars = Record<string, unknown>;
const lb = (name: string, v: Vars): HostInput => ({
  name,
  groups: ['directors'],
  vars: {
    lvs_vrid: 51,
    lvs_vip: '192.168.3.110',
    lvs_interface: 'ens33',
    lvs_advert_int: 1,
    lvs_auth_pass: 'lvs51pw',
    lvs_port: 80,
    lvs_scheduler: 'rr',
    lvs_method: 'DR',
    ...v,
  },
  origins: { lvs_vrid: { file: 'inv.yaml', line: 7 } },
});
const rs = (name: string, addr: string, v: Vars = {}): HostInput => ({
  name,
  groups: ['realservers'],
  vars: { ansible_host: addr, ...v },
  origins: {},
});
function topo(m: { lb1?: Vars; lb2?: Vars; rs1?: Vars; rs2?: Vars; extra?: HostInput[] } = {}): HostInput[] {
  return [
    lb('lb1', { keepalived_state: 'MASTER', keepalived_priority: 100, ...m.lb1 }),
    lb('lb2', { keepalived_state: 'BACKUP', keepalived_priority: 90, ...m.lb2 }),
    rs('rs1', '192.168.3.128', m.rs1),
    rs('rs2', '192.168.3.120', m.rs2),
    ...(m.extra ?? []),
  ];
}
const rules = (hosts: HostInput[]): string[] =>
  validateModel(buildModel(hosts))
    .filter((f) => f.severity !== 'info')
    .map((f) => `${f.severity}:${f.rule}`);

describe('validate: the healthy reference topology passes', () => {
  it('scenario A has no error or warning', () => expect(rules(topo())).toEqual([]));
  it('a NAT cluster with gateways set to the DIP passes', () => {
    const nat = topo({
      lb1: { lvs_method: 'NAT', lvs_dip: '192.168.10.8' },
      lb2: { lvs_method: 'NAT', lvs_dip: '192.168.10.8' },
      rs1: { lvs_gateway: '192.168.10.8' },
      rs2: { lvs_gateway: '192.168.10.8' },
    });
    expect(rules(nat)).toEqual([]);
  });
});

const cases: Array<[string, Parameters<typeof topo>[0], string]> = [
  ['VRID out of range', { lb1: { lvs_vrid: 256 }, lb2: { lvs_vrid: 256 } }, 'error:vrid-range'],
  ['priority out of range', { lb1: { keepalived_priority: 300 } }, 'error:priority-range'],
  ['bad state', { lb2: { keepalived_state: 'SLAVE' } }, 'error:state-value'],
  ['fractional advert_int', { lb1: { lvs_advert_int: 0.5 }, lb2: { lvs_advert_int: 0.5 } }, 'error:advert-int'],
  [
    'auth_pass longer than 8',
    { lb1: { lvs_auth_pass: 'muchtoolong' }, lb2: { lvs_auth_pass: 'muchtoolong' } },
    'error:auth-pass-length',
  ],
  [
    'nopreempt with state MASTER',
    { lb1: { lvs_nopreempt: true }, lb2: { lvs_nopreempt: true } },
    'error:nopreempt-master',
  ],
  [
    'nopreempt with priority 255',
    {
      lb1: { lvs_nopreempt: true, keepalived_state: 'BACKUP', keepalived_priority: 255 },
      lb2: { lvs_nopreempt: true },
    },
    'error:nopreempt-owner',
  ],
  [
    'preempt_delay with nopreempt',
    { lb1: { keepalived_state: 'BACKUP', lvs_nopreempt: true, lvs_preempt_delay: 30 }, lb2: { lvs_nopreempt: true } },
    'error:preempt-delay-nopreempt',
  ],
  ['preempt_delay out of range', { lb1: { lvs_preempt_delay: 5000 } }, 'error:preempt-delay-range'],
  [
    'unknown scheduler',
    { lb1: { lvs_scheduler: 'roundrobin' }, lb2: { lvs_scheduler: 'roundrobin' } },
    'error:scheduler',
  ],
  ['unknown method', { lb1: { lvs_method: 'bridge' }, lb2: { lvs_method: 'bridge' } }, 'error:method'],
  ['undefined track_script', { lb1: { lvs_track_scripts: ['chk_nginx'] } }, 'error:track-script-undefined'],
  ['track weight out of range', { lb1: { lvs_vrrp_scripts: { chk: { weight: 300 } } } }, 'error:track-weight'],
  [
    'tracking weight on an address owner',
    { lb1: { keepalived_priority: 255, lvs_vrrp_scripts: { chk: { weight: -20 } } } },
    'error:track-weight-owner',
  ],
  ['VRID mismatch between peers', { lb2: { lvs_vrid: 52 } }, 'error:peer-mismatch'],
  ['VIP mismatch between peers', { lb2: { lvs_vip: '192.168.3.111' } }, 'error:peer-mismatch'],
  ['advert_int mismatch between peers', { lb2: { lvs_advert_int: 2 } }, 'error:peer-mismatch'],
  ['auth mismatch between peers', { lb2: { lvs_auth_pass: 'other' } }, 'error:peer-mismatch'],
  ['two MASTERs', { lb2: { keepalived_state: 'MASTER' } }, 'error:one-master'],
  ['no MASTER', { lb1: { keepalived_state: 'BACKUP' } }, 'error:one-master'],
  ['MASTER below a BACKUP', { lb1: { keepalived_priority: 80 } }, 'error:master-priority'],
  ['equal priorities', { lb2: { keepalived_priority: 100 } }, 'warn:priority-tie'],
  [
    'VRID collision with another cluster',
    {
      extra: [
        lb('lb3', { lvs_cluster: 'b', lvs_vip: '192.168.3.200', keepalived_state: 'MASTER', keepalived_priority: 100 }),
      ],
    },
    'error:vrid-collision',
  ],
  [
    'one VIP in two instances with different VRIDs (split brain)',
    { extra: [lb('lb3', { lvs_cluster: 'b', lvs_vrid: 52, keepalived_state: 'MASTER', keepalived_priority: 100 })] },
    'error:vip-split',
  ],
  [
    'the same router_id on two directors',
    { lb1: { lvs_router_id: 'LVS_01' }, lb2: { lvs_router_id: 'LVS_01' } },
    'warn:router-id-duplicate',
  ],
  ['DR port remapping', { rs1: { lvs_rs_port: 8080 } }, 'error:port-remap'],
  ['weight out of range', { rs2: { lvs_weight: 70000 } }, 'error:weight-range'],
  ['duplicate real server', { extra: [rs('rs3', '192.168.3.128')] }, 'error:duplicate-rs'],
  ['DR real server with arp_ignore 0', { rs1: { lvs_arp_ignore: 0 } }, 'error:arp-settings'],
  [
    'NAT real server without gateway',
    {
      lb1: { lvs_method: 'NAT', lvs_dip: '192.168.10.8' },
      lb2: { lvs_method: 'NAT', lvs_dip: '192.168.10.8' },
      rs1: { lvs_gateway: '192.168.10.8' },
    },
    'error:nat-gateway',
  ],
  [
    'NAT real server via the wrong gateway',
    {
      lb1: { lvs_method: 'NAT', lvs_dip: '192.168.10.8' },
      lb2: { lvs_method: 'NAT', lvs_dip: '192.168.10.8' },
      rs1: { lvs_gateway: '192.168.10.8' },
      rs2: { lvs_gateway: '192.168.10.1' },
    },
    'error:nat-gateway',
  ],
  [
    'DR real server routed through the director',
    { lb1: { lvs_dip: '192.168.3.1' }, lb2: { lvs_dip: '192.168.3.1' }, rs1: { lvs_gateway: '192.168.3.1' } },
    'warn:mode-mismatch',
  ],
  [
    'TUN real server with strict rp_filter',
    { lb1: { lvs_method: 'TUN' }, lb2: { lvs_method: 'TUN' }, rs1: { lvs_rp_filter: 1 } },
    'error:tun-rp-filter',
  ],
];

describe('validate: every rule fails its broken case', () => {
  for (const [name, m, want] of cases) it(`${name} → ${want}`, () => expect(rules(topo(m))).toContain(want));
});

describe('validate: findings name the host, the variable and where it was set', () => {
  it('points at the inventory line', () => {
    const f = validateModel(buildModel(topo({ lb1: { lvs_vrid: 300 }, lb2: { lvs_vrid: 300 } }))).find(
      (x) => x.rule === 'vrid-range' && x.host === 'lb1',
    )!;
    expect(f).toMatchObject({
      severity: 'error',
      host: 'lb1',
      variable: 'lvs_vrid',
      origin: { file: 'inv.yaml', line: 7 },
    });
    expect(f.hint).toMatch(/1 & 255/);
  });
  it('a second cluster with its own VRID and a nopreempt BACKUP pair is fine', () => {
    // its own VIP too: the same VIP under another VRID is a split brain (vip-split)
    const own = {
      lvs_cluster: 'b',
      lvs_vrid: 52,
      lvs_vip: '192.168.3.200',
      keepalived_state: 'BACKUP',
      lvs_nopreempt: true,
    };
    const b = [lb('lb3', { ...own, keepalived_priority: 100 }), lb('lb4', { ...own, keepalived_priority: 90 })];
    expect(rules(topo({ extra: b }))).toEqual([]);
  });
});

describe('validate: unicast VRRP (from keepalived tasks)', () => {
  // lb1 10.0.0.1, lb2 10.0.0.2 (their ansible_host); instance settings as a keepalived task gives them.
  const v = (value: unknown, name: string) => ({ value, var: `keepalived ${name}` });
  const inst = (vrid: number, state: string, prio: number, peers?: string[], src?: string) => ({
    instance: 'VI_1',
    vrid: v(vrid, 'virtual_router_id'),
    state: v(state, 'state'),
    priority: v(prio, 'priority'),
    iface: v('eth0', 'interface'),
    vip: v('10.0.0.100', 'vip'),
    ...(peers ? { unicastPeers: v(peers, 'unicast_peer') } : {}),
    ...(src ? { unicastSrc: v(src, 'unicast_src_ip') } : {}),
  });
  const host = (name: string, addr: string, cluster = 'a'): HostInput => ({
    name,
    groups: ['directors'],
    vars: { ansible_host: addr, lvs_cluster: cluster },
    origins: {},
  });
  const hosts = [
    host('lb1', '10.0.0.1'),
    host('lb2', '10.0.0.2'),
    host('lb3', '10.0.0.3', 'b'),
    host('lb4', '10.0.0.4', 'b'),
  ];
  const check = (t: Record<string, ReturnType<typeof inst>>): string[] =>
    validateModel(
      buildModel(
        hosts.filter((h) => h.name in t),
        new Map(Object.entries(t).map(([h, i]) => [h, [i]])),
      ),
    )
      .filter((f) => f.severity !== 'info')
      .map((f) => `${f.rule} ${f.host}`);
  it('a pair that lists each other passes (unicast_src_ip or the host address)', () => {
    expect(
      check({ lb1: inst(51, 'MASTER', 100, ['10.0.0.2']), lb2: inst(51, 'BACKUP', 90, ['10.0.9.1'], '10.0.0.2') }),
    ).toEqual(['unicast-peers lb2']);
    expect(
      check({ lb1: inst(51, 'MASTER', 100, ['10.0.0.2'], '10.0.0.1'), lb2: inst(51, 'BACKUP', 90, ['10.0.0.1']) }),
    ).toEqual([]);
  });
  it('a peer still on multicast is an error', () => {
    expect(check({ lb1: inst(51, 'MASTER', 100, ['10.0.0.2']), lb2: inst(51, 'BACKUP', 90) })).toEqual([
      'unicast-mixed lb2',
    ]);
  });
  it('one VRID in two clusters: a collision on multicast or with shared peers, none between disjoint unicast pairs', () => {
    const pairA = { lb1: inst(51, 'MASTER', 100, ['10.0.0.2']), lb2: inst(51, 'BACKUP', 90, ['10.0.0.1']) };
    expect(
      check({ ...pairA, lb3: inst(51, 'MASTER', 100, ['10.0.0.4']), lb4: inst(51, 'BACKUP', 90, ['10.0.0.3']) }),
    ).toEqual([]);
    expect(
      check({
        lb1: inst(51, 'MASTER', 100),
        lb2: inst(51, 'BACKUP', 90),
        lb3: inst(51, 'MASTER', 100),
        lb4: inst(51, 'BACKUP', 90),
      }),
    ).toContain('vrid-collision lb3');
    expect(
      check({
        ...pairA,
        lb3: inst(51, 'MASTER', 100, ['10.0.0.4', '10.0.0.2']),
        lb4: inst(51, 'BACKUP', 90, ['10.0.0.3']),
      }),
    ).toContain('vrid-collision lb3');
  });
});
