import { rsWeight } from '../../src/modules/ipvs-weight.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIpvsSave, planEdits, renderRules } from '../../src/lvs/ipvs-table.js';
import { ipvs, type IpvsObserved } from '../../src/modules/ipvs.js';
import { persistFileFor, vip } from '../../src/modules/vip.js';
import { iptables } from '../../src/modules/iptables.js';
import { PlainReporter } from '../../src/report/plain.js';
import { unifiedDiff } from '../../src/report/diff.js';
import { Redactor } from '../../src/text/redact.js';

// Real `ipvsadm -S -n` output (ipvsadm 1.31, Debian 12 kernel 6.1, captured in the lab's VM mode after
// -A/-a commands for these services; the udp real server was added with `-x 100`). Note what the
// kernel and ipvsadm do: real servers come back newest first, and thresholds are not saved.
const LIVE = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'ipvs', 'debian12-ipvsadm-1.31.save'), 'utf8');

const args = (services: unknown[], own = false) => ipvs.schema.parse({ services, own_table: own, persist: false });
const obs = (text: string): IpvsObserved => ({
  available: true,
  live: parseIpvsSave(text),
  saved: text,
  family: 'debian',
  file: { exists: false },
  rulesFile: '/etc/ipvsadm.rules',
});
const cmds = (services: unknown[], own = false, live = LIVE) =>
  ipvs.plan(args(services, own), obs(live)).steps.map((s) => s.cmd);
const http = (
  over: Record<string, unknown> = {},
  reals: unknown[] = [{ addr: '192.168.3.128' }, { addr: '192.168.3.120' }],
) => ({ vip: '192.168.3.110', port: 80, scheduler: 'rr', reals, ...over });

describe('ipvs table', () => {
  it('parses every service kind and renders the same lines back', () => {
    const t = parseIpvsSave(LIVE);
    expect(t.map((s) => `${s.proto} ${s.addr}`)).toEqual([
      'tcp 192.168.3.110:80',
      'tcp 192.168.3.110:443',
      'udp 192.168.3.110:53',
      'fwmark 7',
    ]);
    expect(t[1]).toMatchObject({ scheduler: 'wlc', persistent: 300 });
    expect(t[2]!.reals[0]).toEqual({ addr: '10.0.0.5', port: 5353, forward: 'nat', weight: 1 });
    expect(t[3]!.reals[0]).toEqual({ addr: '192.168.3.128', port: 0, forward: 'dr', weight: 2 });
    expect(renderRules(t)).toBe(LIVE);
  });
  it('refuses a table with options it does not understand', () => {
    expect(() => parseIpvsSave('-A -t 1.2.3.4:80 -s rr --pe sip\n')).toThrow(/unsupported option '--pe'/);
  });
  it('plans nothing when the declared services are live as declared (undeclared services stay)', () => {
    expect(cmds([http()])).toEqual([]);
  });
  it('adds a missing service with its real servers', () => {
    expect(cmds([http()], false, '')).toEqual([
      'ipvsadm -A -t 192.168.3.110:80 -s rr',
      'ipvsadm -a -t 192.168.3.110:80 -r 192.168.3.128:80 -g -w 1',
      'ipvsadm -a -t 192.168.3.110:80 -r 192.168.3.120:80 -g -w 1',
    ]);
  });
  it('changes a scheduler in place with -E', () => {
    expect(cmds([http({ scheduler: 'wlc' })])).toEqual(['ipvsadm -E -t 192.168.3.110:80 -s wlc']);
  });
  it('changes a weight in place with -e (drain: weight 0)', () => {
    expect(cmds([http({}, [{ addr: '192.168.3.128', weight: 0 }, { addr: '192.168.3.120' }])])).toEqual([
      'ipvsadm -e -t 192.168.3.110:80 -r 192.168.3.128:80 -g -w 0',
    ]);
  });
  it('removes an undeclared real server of a declared service', () => {
    expect(cmds([http({}, [{ addr: '192.168.3.128' }])])).toEqual([
      'ipvsadm -d -t 192.168.3.110:80 -r 192.168.3.120:80',
    ]);
  });
  it('removes undeclared services only when it owns the table', () => {
    expect(cmds([http()], true)).toEqual([
      'ipvsadm -D -t 192.168.3.110:443',
      'ipvsadm -D -u 192.168.3.110:53',
      'ipvsadm -D -f 7',
    ]);
  });
  it('handles fwmark services and persistence changes', () => {
    expect(cmds([{ fwmark: 7, scheduler: 'sh', reals: [{ addr: '192.168.3.128', weight: 2 }] }])).toEqual([]);
    expect(
      cmds([
        { vip: '192.168.3.110', port: 443, scheduler: 'wlc', persistence: 600, reals: [{ addr: '192.168.3.128' }] },
      ]),
    ).toEqual(['ipvsadm -E -t 192.168.3.110:443 -s wlc -p 600']);
    expect(cmds([{ vip: '192.168.3.110', port: 443, scheduler: 'wlc', reals: [{ addr: '192.168.3.128' }] }])).toEqual([
      'ipvsadm -E -t 192.168.3.110:443 -s wlc',
    ]);
  });
  it("its undo restores the saved table exactly, and it persists to the distribution's rules file", () => {
    const p = ipvs.schema.parse({ services: [http({ scheduler: 'wlc' })] });
    const plan = ipvs.plan(p, { ...obs(LIVE), family: 'rhel', rulesFile: '/etc/sysconfig/ipvsadm' });
    expect(plan.undo.at(-1)).toMatchObject({ cmd: 'ipvsadm -C && ipvsadm -R', stdin: LIVE });
    expect(plan.diff!.map((d) => d.path)).toEqual(['ipvsadm commands', 'ipvs table (live)', '/etc/sysconfig/ipvsadm']);
    expect(plan.undo[0]!.cmd).toBe('rm -rf -- /etc/sysconfig/ipvsadm');
  });
  it('shows the ipvsadm commands it will run: in the summary (-v, --json msg) and as a diff (--diff, --json)', () => {
    const plan = ipvs.plan(args([http({ scheduler: 'wlc' }, [{ addr: '192.168.3.128', weight: 5 }])]), obs(LIVE));
    const run = plan.steps.map((s) => s.cmd);
    expect(run).toEqual([
      'ipvsadm -E -t 192.168.3.110:80 -s wlc',
      'ipvsadm -d -t 192.168.3.110:80 -r 192.168.3.120:80',
      'ipvsadm -e -t 192.168.3.110:80 -r 192.168.3.128:80 -g -w 5',
    ]);
    expect(plan.summary).toBe(`3 ipvsadm edit(s) (${run.join('; ')})`);
    expect(plan.diff![0]).toEqual({ path: 'ipvsadm commands', before: '', after: run.map((c) => `${c}\n`).join('') });
    const lines: string[] = [];
    const rep = new PlainReporter(
      { diff: unifiedDiff, verbose: 1, write: (s) => lines.push(s), color: false },
      new Redactor(),
    );
    rep.on({
      type: 'host:result',
      result: {
        play: 'p',
        task: 'ipvs',
        host: 'lb1',
        status: 'changed',
        msg: plan.summary,
        diff: plan.diff!,
        durationMs: 1,
      },
    } as never);
    const out = lines.join('');
    expect(out).toContain(`changed: [lb1] => 3 ipvsadm edit(s) (ipvsadm -E -t 192.168.3.110:80 -s wlc;`);
    expect(out).toContain('+ipvsadm -d -t 192.168.3.110:80 -r 192.168.3.120:80\n');
    // a plan without IPVS in the kernel (--check) names them too
    const dry = ipvs.plan(args([http()]), { ...obs(''), available: false, error: 'no ip_vs' });
    expect(dry.summary).toMatch(
      /^3 ipvsadm edit\(s\) \(ipvsadm -A -t 192\.168\.3\.110:80 -s rr; .*\) planned against an empty table/,
    );
  });
  it('scenario B: the NAT table as the scenario describes it', () => {
    const p = ipvs.schema.parse({
      services: [
        {
          vip: '192.168.80.4',
          port: 80,
          scheduler: 'rr',
          reals: [
            { addr: '192.168.10.9', forward: 'nat' },
            { addr: '192.168.10.10', forward: 'NAT' },
          ],
        },
      ],
    });
    const plan = ipvs.plan(p, obs(''));
    expect(plan.diff!.at(-1)!.after).toBe(
      '-A -t 192.168.80.4:80 -s rr\n-a -t 192.168.80.4:80 -r 192.168.10.9:80 -m -w 1\n-a -t 192.168.80.4:80 -r 192.168.10.10:80 -m -w 1\n',
    );
  });
  it('without IPVS in the kernel the plan is shown in check mode but cannot be applied', () => {
    const plan = ipvs.plan(args([http()]), { ...obs(''), available: false, error: "Can't initialize ipvs" });
    expect(plan.checkOnly).toMatch(/IPVS is not available/);
    expect(plan.steps.length).toBeGreaterThan(0);
  });
  it('rejects a real server forward it does not know, and a service with neither vip:port nor fwmark', () => {
    expect(() => ipvs.schema.parse({ services: [http({}, [{ addr: '1.2.3.4', forward: 'bridge' }])] })).toThrow(
      /forward must be dr, nat or tun/,
    );
    expect(() => ipvs.schema.parse({ services: [{ scheduler: 'rr' }] })).toThrow(/vip and port, or fwmark/);
  });
  it('thresholds are set but not compared: ipvsadm -S does not save them, so comparing would never converge', () => {
    expect(
      cmds([
        {
          protocol: 'udp',
          vip: '192.168.3.110',
          port: 53,
          scheduler: 'rr',
          reals: [{ addr: '10.0.0.5', port: 5353, forward: 'nat', upper: 100 }],
        },
      ]),
    ).toEqual([]);
  });
  it('planEdits never touches what is equal', () => {
    const t = parseIpvsSave(LIVE);
    expect(planEdits(t, t, true)).toEqual([]);
  });
});

describe('vip', () => {
  const p = vip.schema.parse({ address: '192.168.3.110' });
  it('adds the VIP on lo:0 as /32 and persists it (ifcfg on RHEL), with an undo for both', () => {
    const plan = vip.plan(p, {
      linkExists: true,
      hasAddr: false,
      family: 'rhel',
      file: { exists: false },
      persistFile: '/etc/sysconfig/network-scripts/ifcfg-lo:0',
    });
    expect(plan.steps[0]!.cmd).toBe('ip addr add 192.168.3.110/32 dev lo label lo:0');
    expect(Buffer.from(plan.steps[1]!.stdin!, 'base64').toString()).toBe(
      '# Managed by lvsrun\nDEVICE=lo:0\nIPADDR=192.168.3.110\nNETMASK=255.255.255.255\nONBOOT=yes\nNAME=lvs-vip\n',
    );
    expect(plan.undo.map((u) => u.cmd)).toEqual([
      'rm -rf -- /etc/sysconfig/network-scripts/ifcfg-lo:0',
      'ip addr del 192.168.3.110/32 dev lo',
    ]);
  });
  it('does nothing when the address is there and persisted', () => {
    const plan = vip.plan(p, {
      linkExists: true,
      hasAddr: true,
      family: 'debian',
      file: {
        exists: true,
        type: 'file',
        content: '# Managed by lvsrun\nauto lo:0\niface lo:0 inet static\n    address 192.168.3.110/32\n',
      },
      persistFile: '/etc/network/interfaces.d/lvsrun-lo-0',
    });
    expect(plan.action).toBe('noop');
  });
  it('needs create: for a missing interface (tunl0 for TUN)', () => {
    const t = vip.schema.parse({ address: '10.0.0.1', interface: 'tunl0' });
    expect(
      vip.plan(t, { linkExists: false, hasAddr: false, family: 'debian', file: { exists: false }, persistFile: 'x' })
        .fail,
    ).toMatch(/create: dummy/);
    const c = vip.schema.parse({ address: '10.0.0.1', interface: 'tunl0', create: 'ipip', persist: false });
    expect(
      vip
        .plan(c, { linkExists: false, hasAddr: false, family: 'debian', file: { exists: false }, persistFile: 'x' })
        .steps.map((s) => s.cmd),
    ).toEqual(['modprobe ipip && ip link set tunl0 up', 'ip addr add 10.0.0.1/32 dev tunl0 label tunl0']);
  });
  it('a VIP on a dummy interface survives a reboot: the persisted file creates the interface; the undo is exact', () => {
    const d = vip.schema.parse({ address: '10.20.0.10', interface: 'lvs0', create: 'dummy' });
    const missing = { linkExists: false, hasAddr: false, file: { exists: false } } as const;
    const deb = vip.plan(d, { ...missing, family: 'debian', persistFile: persistFileFor('debian', 'lvs0', 'dummy') });
    expect(Buffer.from(deb.steps.at(-1)!.stdin!, 'base64').toString()).toBe(
      '# Managed by lvsrun\nauto lvs0\niface lvs0 inet static\n' +
        '    pre-up ip link show dev lvs0 >/dev/null 2>&1 || ip link add lvs0 type dummy\n' +
        '    address 10.20.0.10/32\n    post-down ip link del lvs0\n',
    );
    // newest first: the file goes, then the address, then the interface lvsrun created
    expect(deb.undo.map((u) => u.cmd)).toEqual([
      'rm -rf -- /etc/network/interfaces.d/lvsrun-lvs0',
      'ip addr del 10.20.0.10/32 dev lvs0',
      'ip link del lvs0',
    ]);
    // RHEL: network-scripts cannot create a dummy; a NetworkManager keyfile (0600) does
    const file = persistFileFor('rhel', 'lvs0', 'dummy');
    expect(file).toBe('/etc/NetworkManager/system-connections/lvsrun-lvs0.nmconnection');
    const rh = vip.plan(d, { ...missing, family: 'rhel', persistFile: file });
    const put = rh.steps.at(-1)!;
    expect(put.cmd).toContain('0600');
    expect(Buffer.from(put.stdin!, 'base64').toString()).toBe(
      '# Managed by lvsrun\n[connection]\nid=lvsrun-lvs0\ntype=dummy\ninterface-name=lvs0\nautoconnect=true\n\n' +
        '[ipv4]\nmethod=manual\naddress1=10.20.0.10/32\n\n[ipv6]\nmethod=ignore\n',
    );
    // an older file of the same name is put back byte for byte, with its mode
    const old = '# hand-written\nauto lvs0\n';
    const again = vip.plan(d, {
      linkExists: true,
      linkUp: true,
      hasAddr: true,
      family: 'debian',
      file: { exists: true, type: 'file', content: old, mode: '0640', owner: 'root', group: 'adm' },
      persistFile: '/etc/network/interfaces.d/lvsrun-lvs0',
    });
    expect(again.undo).toHaveLength(1);
    expect(Buffer.from(again.undo[0]!.stdin!, 'base64').toString()).toBe(old);
    expect(again.undo[0]!.cmd).toContain('0640');
    // a label on the dummy: the parent is still created before the label's address, never deleted by it
    const l = vip.schema.parse({ address: '10.20.0.11', interface: 'lvs0', label: 'lvs0:1', create: 'dummy' });
    const text = Buffer.from(
      vip.plan(l, { ...missing, family: 'debian', persistFile: 'x' }).steps.at(-1)!.stdin!,
      'base64',
    ).toString();
    expect(text).toContain('iface lvs0:1 inet static\n    pre-up ip link show dev lvs0 >/dev/null 2>&1 ||');
    expect(text).not.toContain('post-down');
    // TUN: tunl0 exists once the ipip module is loaded
    const t = vip.schema.parse({ address: '10.0.0.1', interface: 'tunl0', create: 'ipip' });
    expect(
      Buffer.from(
        vip.plan(t, { ...missing, family: 'debian', persistFile: 'x' }).steps.at(-1)!.stdin!,
        'base64',
      ).toString(),
    ).toContain('iface tunl0 inet static\n    pre-up modprobe ipip\n');
  });
  it('brings up an interface that exists but is down (tunl0 after a rollback), and its undo sets it down again', () => {
    const c = vip.schema.parse({ address: '10.0.0.1', interface: 'tunl0', create: 'ipip', persist: false });
    const plan = vip.plan(c, {
      linkExists: true,
      linkUp: false,
      hasAddr: true,
      family: 'debian',
      file: { exists: false },
      persistFile: 'x',
    });
    expect(plan.steps.map((s) => s.cmd)).toEqual(['ip link set tunl0 up']);
    expect(plan.undo.map((s) => s.cmd)).toEqual(['ip link set tunl0 down']);
    expect(
      vip.plan(c, {
        linkExists: true,
        linkUp: true,
        hasAddr: true,
        family: 'debian',
        file: { exists: false },
        persistFile: 'x',
      }).action,
    ).toBe('noop');
  });
});

describe('iptables (NAT masquerade)', () => {
  const p = iptables.schema.parse({
    table: 'nat',
    chain: 'POSTROUTING',
    rule: '-s 10.77.2.0/24 ! -d 10.77.2.0/24 -j MASQUERADE',
  });
  it('adds a missing rule, and its undo deletes exactly that rule', () => {
    const plan = iptables.plan(p, { present: false });
    expect(plan.steps.map((s) => s.cmd)).toEqual([
      "iptables -w -t nat -A POSTROUTING -s 10.77.2.0/24 '!' -d 10.77.2.0/24 -j MASQUERADE",
    ]);
    expect(plan.undo.map((s) => s.cmd)).toEqual([
      "iptables -w -t nat -D POSTROUTING -s 10.77.2.0/24 '!' -d 10.77.2.0/24 -j MASQUERADE",
    ]);
  });
  it("leaves a rule that is already there alone (so no undo can delete someone else's rule)", () => {
    expect(iptables.plan(p, { present: true })).toMatchObject({ action: 'noop', undo: [] });
  });
});

describe('drain weight (drill module)', () => {
  it("sets one real server's weight in every live service it is in, with the service's own flags, and the undo puts each weight back", () => {
    const table = parseIpvsSave(
      '-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.1:80 -g -w 3\n-A --sctp-service 10.0.0.100:9 -s rr\n-a --sctp-service 10.0.0.100:9 -r 10.0.0.1:9 -i -w 1\n',
    );
    const plan = rsWeight.plan({ addr: '10.0.0.1', weight: 0 }, table);
    expect(plan.steps.map((s) => s.cmd)).toEqual([
      'ipvsadm -e -t 10.0.0.100:80 -r 10.0.0.1:80 -g -w 0',
      'ipvsadm -e --sctp-service 10.0.0.100:9 -r 10.0.0.1:9 -i -w 0',
    ]);
    expect(plan.undo.map((s) => s.cmd)).toEqual([
      'ipvsadm -e --sctp-service 10.0.0.100:9 -r 10.0.0.1:9 -i -w 1',
      'ipvsadm -e -t 10.0.0.100:80 -r 10.0.0.1:80 -g -w 3',
    ]);
  });
});
