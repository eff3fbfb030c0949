import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keepalived, type KeepalivedObserved } from '../../src/modules/keepalived.js';
import { keepalivedContext } from '../../src/lvs/keepalived-conf.js';
import { TemplateEngine } from '../../src/template/render.js';
import { FakeTransport } from '../../src/transport/fake.js';
import { moduleCtx } from '../../src/engine/module-run.js';

const repo = join(import.meta.dirname, '..', '..');
const tplFile = join(repo, 'templates/keepalived/keepalived.conf.hbs');
const hasKeepalived = spawnSync('sh', ['-c', 'command -v keepalived']).status === 0;
// keepalived -t checks that the interface exists: use one this machine has.
const iface = readdirSync('/sys/class/net').find((n) => n !== 'lo' && !n.startsWith('ifb')) ?? 'lo';

const inv = {
  groups: { realservers: ['rs1', 'rs2'] },
  hostvars: { rs1: { ansible_host: '192.168.3.128' }, rs2: { ansible_host: '192.168.3.120', lvs_weight: 3 } },
};
const scenarioA = (over: Record<string, unknown> = {}) => ({
  vrrp_instances: [
    {
      name: 'VI_1',
      state: 'MASTER',
      interface: iface,
      virtual_router_id: 51,
      priority: 100,
      auth_pass: '1111',
      virtual_ipaddress: [`192.168.3.110/32 dev ${iface}`],
    },
  ],
  virtual_servers: [
    {
      vip: '192.168.3.110',
      port: 80,
      lb_algo: 'rr',
      lb_kind: 'DR',
      check: { connect_timeout: 10, retry: 3, delay_before_retry: 3 },
      reals_from: { group: 'realservers' },
    },
  ],
  ...over,
});
const render = (args: unknown): string => {
  const p = keepalived.schema.parse(args);
  return new TemplateEngine().renderString(readFileSync(tplFile, 'utf8'), keepalivedContext(p, inv), { file: tplFile });
};
const keepalivedTest = (conf: string): { code: number | null; out: string } => {
  const f = join(mkdtempSync(join(tmpdir(), 'lvsrun-ka-')), 'keepalived.conf');
  writeFileSync(f, conf);
  const r = spawnSync('keepalived', ['-t', '-f', f], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
};

describe('keepalived arguments', () => {
  const err = (args: unknown): string => {
    const r = keepalived.schema.safeParse(args);
    return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  };
  it('accepts the reference scenario and refuses what keepalived would silently get wrong', () => {
    expect(err(scenarioA())).toBe('');
    const vi = scenarioA().vrrp_instances[0]!;
    expect(err(scenarioA({ vrrp_instances: [{ ...vi, auth_pass: 'longer-than-8' }] }))).toMatch(
      /auth_pass: keepalived uses only the first 8/,
    );
    expect(err(scenarioA({ vrrp_instances: [{ ...vi, nopreempt: true }] }))).toMatch(
      /nopreempt: nopreempt needs state BACKUP/,
    );
    expect(err(scenarioA({ vrrp_instances: [{ ...vi, track_script: ['chk_nginx'] }] }))).toMatch(
      /track_script 'chk_nginx' is not defined/,
    );
    expect(err(scenarioA({ vrrp_instances: [{ ...vi, virtual_router_id: 300 }] }))).toMatch(/virtual_router_id/);
    expect(err(scenarioA({ virtual_servers: [{ vip: '192.168.3.110', lb_kind: 'DR' }] }))).toMatch(
      /give vip and port, or fwmark/,
    );
    expect(err(scenarioA({ virtual_servers: [{ fwmark: 1, lb_kind: 'FULLNAT' }] }))).toMatch(
      /lb_kind must be DR, NAT or TUN/,
    );
    expect(err(scenarioA({ virtual_servers: [{ fwmark: 1, check: { type: 'HTTP_GET' } }] }))).toMatch(
      /HTTP_GET needs at least one url/,
    );
    // what keepalived -t reported as ignored or reset, refused up front instead
    expect(err(scenarioA({ vrrp_instances: [{ ...vi, state: 'BACKUP', nopreempt: true, preempt_delay: 5 }] }))).toMatch(
      /preempt_delay has no effect/,
    );
    expect(
      err(scenarioA({ virtual_servers: [{ fwmark: 1, real_servers: [{ address: '10.0.0.1', port: 80 }] }] })),
    ).toMatch(/real_servers.0.port: real servers of a fwmark service take no port/);
    expect(
      err(
        scenarioA({
          virtual_servers: [{ fwmark: 1, check: { type: 'MISC_CHECK', misc_path: '/bin/true', connect_port: 80 } }],
        }),
      ),
    ).toMatch(/MISC_CHECK has no connect_port/);
    expect(err({ vrrp_scripts: { chk: { script: 'say "hi"' } }, vrrp_instances: [] })).toMatch(/no double quotes/);
  });
  it("treats an empty string (a role's {{default x ''}}) as not set", () => {
    const vi = scenarioA().vrrp_instances[0]!;
    const p = keepalived.schema.parse(scenarioA({ vrrp_instances: [{ ...vi, auth_pass: '', preempt_delay: '' }] }));
    expect(p.vrrp_instances[0]!.auth_pass).toBeUndefined();
    expect(render(scenarioA({ vrrp_instances: [{ ...vi, auth_pass: '' }] }))).not.toContain('authentication');
  });
});

describe('keepalived.conf rendering', () => {
  it("unicast_peer_group: the group's other hosts are the peers, this host's address the source", () => {
    const vars = {
      inventory_hostname: 'lb2',
      groups: { directors: ['lb1', 'lb2', 'lb3'], realservers: [] },
      hostvars: {
        lb1: { ansible_host: '10.0.0.1' },
        lb2: { ansible_host: '10.0.0.2' },
        lb3: { ansible_host: '10.0.0.3' },
      },
    };
    const vi = { ...scenarioA().vrrp_instances[0]!, unicast_peer_group: 'directors' };
    const ctx = keepalivedContext(keepalived.schema.parse(scenarioA({ vrrp_instances: [vi] })), vars) as {
      vrrp_instances: Array<{ unicast_src_ip: string; unicast_peer: string[] }>;
    };
    expect(ctx.vrrp_instances[0]).toMatchObject({ unicast_src_ip: '10.0.0.2', unicast_peer: ['10.0.0.1', '10.0.0.3'] });
  });
  it("renders reference scenario A: real servers from the group, each with the virtual server's check on its port", () => {
    const c = render(scenarioA());
    expect(c).toContain(
      'virtual_server 192.168.3.110 80 {\n    delay_loop 6\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n',
    );
    expect(c).toContain(
      '    real_server 192.168.3.128 80 {\n        weight 1\n        TCP_CHECK {\n            connect_timeout 10\n            retry 3\n            delay_before_retry 3\n            connect_port 80\n        }\n    }',
    );
    expect(c).toContain('real_server 192.168.3.120 80 {\n        weight 3');
    expect(c).toContain('        auth_type PASS\n        auth_pass 1111\n');
    expect(c).not.toMatch(/^\s+router_id|nopreempt|persistence_timeout/m);
  });
  it('keeps a retry of 0 (a number, not a missing value)', () => {
    const vs = scenarioA().virtual_servers[0]!;
    expect(render(scenarioA({ virtual_servers: [{ ...vs, check: { retry: 0 } }] }))).toContain('retry 0');
  });
  it.runIf(hasKeepalived || process.env.CI)(
    'keepalived -t accepts the rendered files (scenario A, and every option the template writes)',
    () => {
      const full = render(
        scenarioA({
          global_defs: {
            router_id: 'LVS_01',
            enable_script_security: true,
            script_user: 'root',
            notification_email: ['ops@example.com'],
            notification_email_from: 'lb@example.com',
            smtp_server: '127.0.0.1',
          },
          vrrp_scripts: {
            chk_nginx: { script: '/usr/bin/pidof nginx', interval: 2, weight: -30, fall: 3, rise: 2, timeout: 2 },
          },
          vrrp_instances: [
            {
              name: 'VI_1',
              state: 'BACKUP',
              interface: iface,
              virtual_router_id: 52,
              priority: 90,
              nopreempt: 'yes',
              garp_master_delay: 1,
              auth_pass: 'pw',
              unicast_src_ip: '10.0.0.1',
              unicast_peer: ['10.0.0.2'],
              virtual_ipaddress: [`192.168.3.110/32 dev ${iface} label ${iface}:1`],
              track_script: ['chk_nginx'],
              notify_master: '/bin/true master',
            },
          ],
          virtual_servers: [
            {
              vip: '192.168.3.110',
              port: 443,
              lb_algo: 'wrr',
              lb_kind: 'NAT',
              persistence_timeout: 300,
              sorry_server: { address: '127.0.0.1', port: 8080 },
              check: { type: 'HTTP_GET', connect_timeout: 3, url: [{ path: '/health', status_code: 200 }] },
              reals_from: { group: 'realservers' },
            },
            {
              fwmark: 7,
              protocol: 'udp',
              lb_kind: 'TUN',
              real_servers: [
                {
                  address: '192.168.3.128',
                  weight: 2,
                  check: { type: 'MISC_CHECK', misc_path: '/bin/true', misc_timeout: 5 },
                },
              ],
            },
          ],
        }),
      );
      for (const conf of [render(scenarioA()), full]) {
        const t = keepalivedTest(conf);
        expect(t.code, `${t.out}\n${conf}`).toBe(0);
        // nothing written that keepalived ignores, resets or guesses
        expect(t.out).not.toMatch(/warning|ignor|reset|clearing|defaulting/i);
      }
      expect(full).toContain('virtual_server fwmark 7 {');
      expect(full).toContain('url {\n                path "/health"\n                status_code 200\n');
      // the same checker rejects a real mistake, so a pass above means something
      expect(
        keepalivedTest(render(scenarioA()).replace('lb_algo rr', 'lb_algo rr\n    bogus_keyword 1')).code,
      ).not.toBe(0);
    },
  );
});

const args = keepalived.schema.parse(scenarioA());
const fileOf = (content: string, mode = '0640') => ({
  exists: true,
  type: 'file' as const,
  mode,
  owner: 'root',
  group: 'root',
  content,
  b64: Buffer.from(content).toString('base64'),
});
const obs = (o: Partial<KeepalivedObserved>): KeepalivedObserved => ({
  file: fileOf('old\nauth_pass oldpass1\n'),
  want: 'new\n    auth_pass 1111\n',
  installed: true,
  canTest: true,
  checkMode: false,
  svc: { init: 'sysv', exists: true, active: true, enabled: true },
  ...o,
});
const whats = (s: Array<{ what?: string }>) => s.map((x) => x.what);

describe('keepalived plan', () => {
  it('a changed file is validated with keepalived -t, then applied by a reload; undo restores and reloads', () => {
    const plan = keepalived.plan(args, obs({}));
    expect(whats(plan.steps)).toEqual(['write /etc/keepalived/keepalived.conf', 'reload keepalived']);
    expect(plan.steps[0]!.cmd).toContain('keepalived -t -f');
    expect(plan.steps[0]!.cmd).toContain('chmod -- 0640 f');
    expect(whats(plan.undo)).toEqual(['write /etc/keepalived/keepalived.conf', 'reload keepalived']);
    expect(Buffer.from(plan.undo[0]!.stdin!, 'base64').toString()).toBe('old\nauth_pass oldpass1\n');
    expect(plan.result).toMatchObject({ reloaded: true, changed_config: true });
  });
  it('never shows auth_pass in a diff, before or after', () => {
    const d = keepalived.plan(args, obs({})).diff![0]!;
    expect(d.before + d.after).not.toMatch(/oldpass1|1111/);
    expect(d.after).toContain('auth_pass ********');
  });
  it('starts a stopped keepalived (undo stops it first) and does not reload what it just started', () => {
    const plan = keepalived.plan(
      args,
      obs({ file: { exists: false }, svc: { init: 'systemd', exists: true, active: false, enabled: false } }),
    );
    expect(whats(plan.steps)).toEqual(['write /etc/keepalived/keepalived.conf', 'start keepalived']);
    expect(plan.steps[1]!.cmd).toBe('systemctl start keepalived');
    expect(whats(plan.undo)).toEqual(['stop keepalived', 'remove /etc/keepalived/keepalived.conf']);
  });
  it('is a noop when the file matches and keepalived runs; fixes only the mode when only it differs', () => {
    expect(keepalived.plan(args, obs({ file: fileOf('same'), want: 'same' })).action).toBe('noop');
    const m = keepalived.plan(args, obs({ file: fileOf('same', '0644'), want: 'same' }));
    expect(m.steps.map((s) => s.cmd)).toEqual([
      expect.stringMatching(/^p=\/etc\/keepalived\/keepalived\.conf;[^]*chmod -- 0640 h/),
    ]);
    expect(m.diff).toBeUndefined();
  });
  it('writes without -t where keepalived has no --config-test', () => {
    expect(keepalived.plan(args, obs({ canTest: false })).steps[0]!.cmd).not.toContain('keepalived -t');
  });
  it('fails before changing anything when keepalived is not installed, but still plans in --check', () => {
    expect(keepalived.plan(args, obs({ installed: false })).fail).toMatch(/not installed/);
    const c = keepalived.plan(
      args,
      obs({ installed: false, checkMode: true, svc: { init: 'sysv', exists: false, active: false, enabled: false } }),
    );
    expect(c.fail).toBeUndefined();
    expect(c.summary).toMatch(/not validated/);
  });
  it('reads file, service and keepalived -t support in one round trip', async () => {
    const t = new FakeTransport('lb1').on(/keepalived --help/, {
      stdout:
        'absent\n1\n\n__lvsrun_probe_end__ 0\ninit=sysv\nexists=yes\nactive=inactive\nenabled=disabled\n\n__lvsrun_probe_end__ 0\ntest\n\n__lvsrun_probe_end__ 0\n',
    });
    const ctx = moduleCtx(t, { vars: inv, baseDirs: [repo] });
    const o = await keepalived.check(ctx, args);
    expect(t.calls).toHaveLength(1);
    expect(o).toMatchObject({
      installed: true,
      canTest: true,
      file: { exists: false, missingFrom: '/etc/keepalived' },
      svc: { active: false },
    });
    expect(o.want).toContain('real_server 192.168.3.120 80');
  });
});
