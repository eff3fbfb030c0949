import { describe, expect, it } from 'vitest';
import { moduleCtx } from '../../src/engine/module-run.js';
import { IpvsListError, MAX_LISTING, parseIpvsList } from '../../src/lvs/ipvs-list.js';
import { findRealWeight, withWeight } from '../../src/lvs/keepalived-weight.js';
import { lvsMember, type MemberObserved } from '../../src/modules/lvs-member.js';
import { lookupModule } from '../../src/modules/registry.js';
import type { Plan } from '../../src/modules/types.js';
import { FakeTransport } from '../../src/transport/fake.js';
import type { ExecResult } from '../../src/transport/types.js';

// `ipvsadm -L -n -t 10.77.0.100:80` and its --thresholds form as ipvsadm 1.31 prints them on the
// lab's Debian kernel (trailing blanks included: ipvsadm pads the counter columns).
const LIST = (w1 = 1, a1 = 0, w2 = 1): string =>
  'Prot LocalAddress:Port Scheduler Flags\n' +
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
  'TCP  10.77.0.100:80 rr\n' +
  `  -> 10.77.2.1:80                 Route   ${w1}      ${a1}          0         \n` +
  `  -> 10.77.2.2:80                 Route   ${w2}      0          0         \n`;
const THRESH =
  'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n' +
  '  -> RemoteAddress:Port\n' +
  'TCP  10.77.0.100:80 rr\n' +
  '  -> 10.77.2.1:80                 100        10         0          0         \n' +
  '  -> 10.77.2.2:80                 0          0          0          0         \n';
// The lab's keepalived.conf as the keepalived module writes it (auth_pass shortened).
const CONF = `# Managed by lvsrun (keepalived module): do not edit by hand.
global_defs {
    enable_script_security
}

vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    authentication {
        auth_type PASS
        auth_pass pw
    }
    virtual_ipaddress {
        10.77.0.100/32 dev eth0
    }
}

virtual_server 10.77.0.100 80 {
    delay_loop 6
    lb_algo rr
    lb_kind DR
    protocol TCP

    real_server 10.77.2.1 80 {
        weight 3
        TCP_CHECK {
            connect_timeout 3
            connect_port 80
        }
    }

    real_server 10.77.2.2 80 {
        weight 1
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`;

const args = (a: Record<string, unknown>) =>
  lvsMember.schema.parse({ vip: '10.77.0.100', port: 80, real_server: '10.77.2.1', timeout: 5, ...a });

describe('ipvsadm -L -n listings', () => {
  it('reads the plain and the --thresholds listing, trailing blanks and all', () => {
    expect(parseIpvsList(`IP Virtual Server version 1.2.1 (size=4096)\n${LIST(0, 7)}`)).toEqual([
      {
        proto: 'tcp',
        addr: '10.77.0.100:80',
        reals: [
          { addr: '10.77.2.1', port: 80, forward: 'dr', weight: 0, active: 7, inactive: 0 },
          { addr: '10.77.2.2', port: 80, forward: 'dr', weight: 1, active: 0, inactive: 0 },
        ],
      },
    ]);
    expect(parseIpvsList(THRESH)[0]!.reals[0]).toEqual({
      addr: '10.77.2.1',
      port: 80,
      upper: 100,
      lower: 10,
      active: 0,
      inactive: 0,
    });
    const more = parseIpvsList(
      'FWM  7 wlc persistent 300\n  -> 10.77.2.1:0 Masq 2 0 0\nTCP  [2001:db8::1]:443 rr\n  -> [2001:db8::5]:443 Tunnel 1 3 4\n',
    );
    expect(more.map((s) => [s.proto, s.addr, s.reals[0]!.addr, s.reals[0]!.forward])).toEqual([
      ['fwmark', '7', '10.77.2.1', 'nat'],
      ['tcp', '[2001:db8::1]:443', '2001:db8::5', 'tun'],
    ]);
  });

  it.each([
    ['binary', `${LIST()}\u0000\u0001\u00ff`, /a byte ipvsadm does not print/],
    ['a NUL inside a counter', LIST().replace('Route   1      0', 'Route   1\u00000'), /a byte ipvsadm does not print/],
    ['text that is not a listing', `${LIST()}Connection refused\n`, /line 6: not a line of ipvsadm -L -n/],
    ['a counter that is not a number', LIST().replace('Route   1      0', 'Route   1      x'), /line 4/],
    ['a real server listed twice', `${LIST()}  -> 10.77.2.1:80 Route 9 0 0\n`, /listed twice/],
    ['a real server before any service', '  -> 10.77.2.1:80 Route 1 0 0\n', /before any service/],
    ['a port past 65535', LIST().replace('10.77.2.1:80 ', '10.77.2.1:99999 '), /real server address/],
    ['a weight past 65535', LIST().replace('Route   1      0', 'Route   999999 0'), /line 4/],
    ['a service address without a port', 'TCP  10.77.0.100 rr\n', /cannot read the service/],
    ['a newline-split line', LIST().replace('Route   1      0          0', 'Route   1\n      0          0'), /line/],
  ])('refuses %s', (_what, text, msg) => {
    expect(() => parseIpvsList(text)).toThrow(IpvsListError);
    expect(() => parseIpvsList(text)).toThrow(msg);
  });

  it('refuses a huge listing at once, without reading it line by line', () => {
    const huge = LIST() + 'x'.repeat(MAX_LISTING);
    const t0 = performance.now();
    expect(() => parseIpvsList(huge)).toThrow(/not ipvsadm output/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("a real server's weight in keepalived.conf", () => {
  const svc = { protocol: 'tcp', vip: '10.77.0.100', port: 80 };
  it('finds the weight of the one real server and changes only that number', () => {
    const r = findRealWeight(CONF, svc, { addr: '10.77.2.1', port: 80 });
    expect(r).toMatchObject({ ok: true, site: { weight: 3, line: 26, insert: false } });
    if (!r.ok) return;
    const out = withWeight(CONF, r.site, 0);
    expect(out).toBe(CONF.replace('weight 3', 'weight 0'));
    const back = findRealWeight(out, svc, { addr: '10.77.2.1', port: 80 });
    expect(back.ok && withWeight(out, back.site, 3)).toBe(CONF);
  });
  it('writes a weight after the block brace when the real server has none (keepalived: 1)', () => {
    const conf = CONF.replace('        weight 1\n', '');
    const r = findRealWeight(conf, svc, { addr: '10.77.2.2', port: 80 });
    expect(r).toMatchObject({ ok: true, site: { weight: undefined, insert: true } });
    if (r.ok)
      expect(withWeight(conf, r.site, 0)).toContain(
        '    real_server 10.77.2.2 80 {\n        weight 0\n        TCP_CHECK',
      );
  });
  it('is not fooled by comments, quoted braces or a weight inside the check block', () => {
    const conf = CONF.replace(
      '    protocol TCP\n',
      '    protocol TCP\n# real_server 10.77.2.1 80 { weight 9 }\n' +
        '    ! real_server 10.77.2.1 80 {\n    notify_up "/bin/x { real_server 10.77.2.1 80 { weight 5"\n',
    ).replace('            connect_port 80\n', '            connect_port 80\n            weight 7\n');
    const r = findRealWeight(conf, svc, { addr: '10.77.2.1', port: 80 });
    expect(r).toMatchObject({ ok: true, site: { weight: 3 } });
  });
  it.each([
    [
      'a real server declared twice',
      CONF.replace('real_server 10.77.2.2 80', 'real_server 10.77.2.1 80'),
      /declared twice/,
    ],
    [
      'a missing real server',
      CONF.replace('real_server 10.77.2.1 80', 'real_server 10.77.2.9 80'),
      /no real_server 10\.77\.2\.1 80/,
    ],
    [
      'a weight that is not a number',
      CONF.replace('weight 3', 'weight {{x}}'),
      /line 26: the weight .* is not a number/,
    ],
    [
      'a service in an included file',
      CONF.replace('virtual_server 10.77.0.100 80', 'virtual_server 10.77.0.9 80') +
        'include /etc/keepalived/vs/*.conf\n',
      /includes others/,
    ],
    [
      'a UDP service of that address',
      CONF.replace('protocol TCP', 'protocol UDP'),
      /no virtual_server 10\.77\.0\.100 80/,
    ],
  ])('refuses %s', (_what, conf, msg) => {
    const r = findRealWeight(conf, svc, { addr: '10.77.2.1', port: 80 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(msg);
  });
});

describe('lvs_member arguments', () => {
  it('is registered as a module and refuses what it cannot do', () => {
    expect(lookupModule('lvs_member')).toBe(lvsMember);
    expect(lookupModule('lvsrun.lvs_member')).toBe(lvsMember);
    const bad = (a: Record<string, unknown>) => lvsMember.schema.safeParse({ real_server: '10.77.2.1', ...a });
    expect(bad({ vip: '10.77.0.100', port: 80 }).error?.issues[0]?.message).toMatch(/give weight: N, or state/);
    expect(bad({ vip: '10.77.0.100', weight: 1 }).error?.issues[0]?.message).toMatch(/give vip and port, or fwmark/);
    expect(bad({ fwmark: 7, state: 'drained', weight: 2 }).success).toBe(false);
    expect(bad({ fwmark: 7, state: 'enabled', weight: 0 }).success).toBe(false);
    expect(bad({ fwmark: 7, weight: 1, real_server: '10.77.2.1\nipvsadm -C' }).success).toBe(false);
    expect(bad({ fwmark: 7, weight: 1, real_server: '-C' }).success).toBe(false);
    expect(bad({ fwmark: 7, weight: 1, keepalived_conf: 'x\u0000' }).success).toBe(false);
    expect(bad({ fwmark: 7, weight: 1, service: '-keepalived' }).success).toBe(false);
    expect(bad({ fwmark: 7, weight: 1, __proto__: { x: 1 } }).success).toBe(true);
    expect(bad({ fwmark: 7, weight: 1, constructor: 1 }).success).toBe(false);
  });
});

/**
 * A director as a recording fake: a live table, keepalived.conf and keepalived, changed by the
 * commands the module sends (ipvsadm -e, the file write, a reload), so plans, results and undos
 * are checked against the state they leave.
 */
function director(o: { keepalived: boolean; weight?: number; active?: number; listing?: (s: string) => string }) {
  const st = { weight: o.weight ?? 3, active: o.active ?? 0, conf: CONF, upper: 100, lower: 10 };
  const probeEnd = (code = 0) => `\n__lvsrun_probe_end__ ${code}\n`;
  const listing = () => (o.listing ?? ((s: string) => s))(LIST(st.weight, st.active));
  const t = new FakeTransport('lb1')
    .on(/__lvsrun_probe_end__/, () => ({
      stdout:
        listing() +
        probeEnd() +
        THRESH +
        probeEnd() +
        `regular file|640|root|root|${st.conf.length}\n${Buffer.from(st.conf).toString('base64')}\n` +
        probeEnd() +
        `init=sysv\nexists=yes\nactive=${o.keepalived ? 'active' : 'inactive'}\nenabled=enabled\n` +
        probeEnd() +
        'test\n' +
        probeEnd(),
    }))
    .on(/^ipvsadm -e /, (cmd) => {
      expect(cmd).toMatch(/ -g -w \d+ -x 100 -y 10$/); // forwarding and thresholds kept
      st.weight = Number(/-w (\d+)/.exec(cmd)![1]);
      return {};
    })
    .on(/base64 -d > f/, (_c, stdin) => {
      st.conf = Buffer.from(stdin!, 'base64').toString();
      return {};
    })
    .on(/\/etc\/init\.d\/keepalived reload/, () => {
      const r = findRealWeight(st.conf, { vip: '10.77.0.100', port: 80 }, { addr: '10.77.2.1', port: 80 });
      if (r.ok) st.weight = r.site.weight ?? 1;
      return {};
    })
    .on(/__lvsrun_member_wait/, () => {
      // Connections end while the module waits (one a poll); a weight of 0 lets no new one in.
      const late = st.active > 2;
      st.active = late ? st.active : 0;
      return { stdout: `__lvsrun_member_wait ms=1250 late=${late ? 1 : 0}\n${listing()}` };
    });
  return { t, st };
}

function ctxFor(t: FakeTransport) {
  return moduleCtx(t);
}

async function run(t: FakeTransport, a: Record<string, unknown>) {
  const p = args(a);
  const o = await lvsMember.check(ctxFor(t), p);
  const plan = lvsMember.plan(p, o);
  const execs: ExecResult[] = [];
  for (const s of plan.steps) execs.push(await t.exec(s.cmd, s.stdin !== undefined ? { stdin: s.stdin } : {}));
  return { o, plan, result: plan.fail ? undefined : lvsMember.result!(p, o, plan, execs) };
}
async function undo(t: FakeTransport, plan: Plan): Promise<void> {
  for (const s of plan.undo) {
    const r = await t.exec(s.cmd, s.stdin !== undefined ? { stdin: s.stdin } : {});
    expect(r.code).toBe(0);
  }
}

describe('lvs_member on an ipvsadm-managed director', () => {
  it('drains: weight 0 with ipvsadm -e (forwarding and thresholds kept), waits for ActiveConn 0; undo restores 3', async () => {
    const { t, st } = director({ keepalived: false, active: 2 });
    const { plan, result } = await run(t, { state: 'drained' });
    expect(t.calls).toHaveLength(3); // one read, the edit, the wait
    expect(plan.steps.map((s) => s.cmd.split('\n')[0])).toEqual([
      'ipvsadm -e -t 10.77.0.100:80 -r 10.77.2.1:80 -g -w 0 -x 100 -y 10',
      'end=$(( $(date +%s) + 5 )); t0=$(date +%s%N); late=0',
    ]);
    expect(result).toMatchObject({
      previous_weight: 3,
      weight: 0,
      active_conns: 0,
      waited_s: 1.25,
      manager: 'ipvsadm',
    });
    expect(result).not.toHaveProperty('failed');
    expect(st).toMatchObject({ weight: 0, active: 0, conf: CONF });
    await undo(t, plan);
    expect(st.weight).toBe(3);
  });
  it('fails when connections stay past the timeout (the undo is there to put the weight back)', async () => {
    const { t, st } = director({ keepalived: false, active: 9 });
    const { plan, result } = await run(t, { state: 'drained' });
    expect(result).toMatchObject({ failed: true, stderr: expect.stringMatching(/still has 9 active connection/) });
    await undo(t, plan);
    expect(st.weight).toBe(3);
  });
  it('sets a weight and changes nothing when it is already so', async () => {
    const { t, st } = director({ keepalived: false, weight: 0 });
    const { plan, result } = await run(t, { state: 'enabled', weight: 3 });
    expect(plan.action).toBe('update');
    expect(result).toMatchObject({ previous_weight: 0, weight: 3 });
    const again = await run(t, { weight: 3 });
    expect(again.plan).toMatchObject({ action: 'noop', steps: [], undo: [] });
    expect(st.weight).toBe(3);
  });
  it('drained, already at weight 0 with connections: only waits (no change, no undo)', async () => {
    const { t } = director({ keepalived: false, weight: 0, active: 1 });
    const { plan, result } = await run(t, { state: 'drained' });
    expect(plan.action).toBe('noop');
    expect(plan.steps).toHaveLength(1);
    expect(plan.undo).toEqual([]);
    expect(result).toMatchObject({ previous_weight: 0, active_conns: 0 });
  });
});

describe('lvs_member on a keepalived-managed director', () => {
  it('changes the weight in keepalived.conf (checked with keepalived -t) and reloads; the undo puts the bytes back', async () => {
    const { t, st } = director({ keepalived: true, active: 1 });
    const { plan, result } = await run(t, { state: 'drained' });
    expect(plan.steps.map((s) => s.what)).toEqual([
      'write /etc/keepalived/keepalived.conf',
      'reload keepalived',
      'wait for 10.77.2.1:80 at weight 0 with no active connection',
    ]);
    expect(plan.steps[0]!.cmd).toContain('keepalived -t -f');
    expect(st.conf).toBe(CONF.replace('weight 3', 'weight 0'));
    expect(result).toMatchObject({ previous_weight: 3, weight: 0, manager: 'keepalived' });
    expect(JSON.stringify(plan.diff)).not.toContain('auth_pass');
    await undo(t, plan);
    expect(st.conf).toBe(CONF);
    expect(st.weight).toBe(3);
    expect(plan.undo.map((s) => s.what)).toEqual([
      'write /etc/keepalived/keepalived.conf',
      'reload keepalived',
      'wait for 10.77.2.1:80 at weight 3',
    ]);
  });
  it('a live weight set by hand (ipvsadm) is made durable through the file, and the undo puts both back', async () => {
    const { t, st } = director({ keepalived: true, weight: 0 });
    const { plan } = await run(t, { state: 'drained' });
    expect(plan.action).toBe('update');
    expect(st.conf).toBe(CONF.replace('weight 3', 'weight 0'));
    await undo(t, plan);
    expect(st).toMatchObject({ conf: CONF, weight: 0 });
  });
  it('refuses a keepalived.conf it cannot edit safely, before changing anything', async () => {
    const { t, st } = director({ keepalived: true });
    st.conf = CONF.replace('real_server 10.77.2.2 80', 'real_server 10.77.2.1 80');
    const { plan } = await run(t, { state: 'drained' });
    expect(plan.fail).toMatch(/keepalived\.conf: real_server 10\.77\.2\.1 80 is declared twice/);
    expect(plan.steps).toEqual([]);
  });
});

describe('lvs_member reads the live table strictly', () => {
  it.each([
    ['huge', (s: string) => s + 'y'.repeat(MAX_LISTING + 1), /not ipvsadm output/],
    ['binary', (s: string) => `${s}\u0000\u00ff\u0007`, /a byte ipvsadm does not print/],
    ['a line added by a newline', (s: string) => `${s}  -> 10.77.2.1:80 Route 0 0 0\n`, /listed twice/],
    [
      'no such real server',
      (s: string) => s.replace(/.*10\.77\.2\.1:80.*\n/, ''),
      /10\.77\.2\.1:80 in tcp 10\.77\.0\.100:80 is not in the live table/,
    ],
  ])('fails cleanly on %s output, changing nothing', async (_w, listing, msg) => {
    const { t, st } = director({ keepalived: false, listing });
    const { plan } = await run(t, { state: 'drained' });
    expect(plan.fail).toMatch(msg);
    expect(plan.steps).toEqual([]);
    expect(st.weight).toBe(3);
  });
  it('a missing virtual service is named', () => {
    const o: MemberObserved = {
      error: 'No such service',
      keepalived: { init: 'sysv', exists: true, active: false, enabled: false },
      conf: { exists: false },
      canTest: false,
    };
    expect(lvsMember.plan(args({ state: 'drained' }), o).fail).toBe(
      'no virtual service tcp 10.77.0.100:80 on this director',
    );
  });
  it('a wait whose listing went bad fails the task', () => {
    const p = args({ state: 'drained' });
    const o: MemberObserved = {
      real: { addr: '10.77.2.1', port: 80, forward: 'dr', weight: 3, active: 0, inactive: 0, upper: 0, lower: 0 },
      keepalived: { init: 'sysv', exists: false, active: false, enabled: false },
      conf: { exists: false },
      canTest: false,
    };
    const plan = lvsMember.plan(p, o);
    const ex = (stdout: string): ExecResult => ({ code: 0, signal: null, stdout, stderr: '', durationMs: 0 });
    const r = lvsMember.result!(p, o, plan, [ex(''), ex('__lvsrun_member_wait ms=5 late=0\n\u0000garbage\n')]);
    expect(r).toMatchObject({ failed: true, stderr: expect.stringMatching(/ipvsadm -L -n: line 1/) });
    expect(lvsMember.result!(p, o, plan, [ex(''), ex('nothing')])).toMatchObject({ failed: true });
    // taken out of the table by the health checker while it drained: drained (nothing reaches it)
    const gone = ex(`__lvsrun_member_wait ms=5 late=0\n${LIST().replace(/.*10\.77\.2\.1:80.*\n/, '')}`);
    expect(lvsMember.result!(p, o, plan, [ex(''), gone])).toMatchObject({ listed: false, active_conns: 0 });
    expect(lvsMember.result!(p, o, plan, [ex(''), gone])).not.toHaveProperty('failed');
    const q = args({ weight: 2 });
    expect(lvsMember.result!(q, o, lvsMember.plan(q, o), [ex(''), gone])).toMatchObject({
      failed: true,
      stderr: expect.stringMatching(/is not in the live table/),
    });
  });
  it('refuses to guess when keepalived runs and its keepalived.conf could not be read', () => {
    const o: MemberObserved = {
      real: { addr: '10.77.2.1', port: 80, forward: 'dr', weight: 3, active: 0, inactive: 0, upper: 0, lower: 0 },
      keepalived: { init: 'sysv', exists: true, active: true, enabled: true },
      conf: { exists: true, type: 'file', sha256: 'ab' },
      canTest: true,
    };
    expect(lvsMember.plan(args({ state: 'drained' }), o).fail).toMatch(/could not be read .* over 4 MiB/);
    expect(lvsMember.plan(args({ state: 'drained', manager: 'ipvsadm' }), o).steps[0]!.cmd).toMatch(/^ipvsadm -e/);
  });
});
