import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { keepalived } from '../../src/modules/keepalived.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { LvsrunError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { validateInventory } from '../../src/lvs/validate.js';
import type { ModuleCtx } from '../../src/modules/types.js';
import { keepalivedContext } from '../../src/lvs/keepalived-conf.js';
import { TemplateEngine } from '../../src/template/render.js';
import type { ShellCmd } from '../../src/transport/shell.js';

/*
 * keepalived 2.x refuses a configuration that runs scripts without script security (exit 6,
 * "SECURITY VIOLATION") unless a keepalived_script user exists. The docs' example and the role's
 * output are rendered and given to the real `keepalived -t`.
 */
const repo = join(import.meta.dirname, '..', '..');
const tplFile = join(repo, 'templates/keepalived/keepalived.conf.hbs');
const hasKeepalived = spawnSync('sh', ['-c', 'command -v keepalived']).status === 0;
const iface = readdirSync('/sys/class/net').find((n) => n !== 'lo' && !n.startsWith('ifb')) ?? 'lo';
const noScriptUser = spawnSync('id', ['keepalived_script']).status !== 0;
const inv = { groups: { realservers: ['rs1'] }, hostvars: { rs1: { ansible_host: '192.168.3.128' } } };
const templates = new TemplateEngine();

const render = (args: unknown): string => {
  const p = keepalived.schema.parse(args);
  return templates.renderString(readFileSync(tplFile, 'utf8'), keepalivedContext(p, inv), { file: tplFile });
};
const keepalivedTest = (conf: string): { code: number | null; out: string } => {
  const f = join(mkdtempSync(join(tmpdir(), 'lvsrun-ka-')), 'keepalived.conf');
  writeFileSync(f, conf);
  const r = spawnSync('keepalived', ['-t', '-f', f], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
};

/** The keepalived example of docs/modules.md, as a user copies it (with this machine's interface). */
function docsExample(): Record<string, unknown> {
  const md = readFileSync(join(repo, 'docs/modules.md'), 'utf8');
  const block = /```yaml\n( *- keepalived:[^]*?)\n *```/.exec(md)![1]!;
  const yaml = block.replaceAll('eth0', iface).replace('"{{vrrp_pass}}"', 'secret');
  const task = parse(yaml)[0] as Record<string, unknown>;
  return task.keepalived as Record<string, unknown>;
}

/** The lvs_director role's keepalived task, rendered with its defaults and a director's variables. */
function roleArgs(over: Record<string, unknown> = {}): unknown {
  const role = (f: string): unknown => parse(readFileSync(join(repo, 'playbooks/roles/lvs_director', f), 'utf8'));
  const tasks = role('tasks/main.yaml') as Array<Record<string, unknown>>;
  const defaults = role('defaults/main.yaml') as Record<string, unknown>;
  const task = tasks.find((t) => t.keepalived)!;
  const vars = {
    ...defaults,
    ...inv,
    inventory_hostname: 'lb1',
    keepalived_state: 'MASTER',
    keepalived_priority: 100,
    lvs_vip: '192.168.3.110',
    lvs_interface: iface,
    lvs_auth_pass: 'lvs51pw',
    lvs_vrrp_scripts: { chk_nginx: { script: '/usr/bin/pidof nginx', interval: 2, weight: -30 } },
    lvs_track_scripts: ['chk_nginx'],
    ...over,
  };
  return templates.renderValue(task.keepalived, vars, { field: 'keepalived' });
}

describe('vrrp_script on keepalived 2.x', () => {
  it('the module writes script security and a script user when the file runs scripts; both can be set', () => {
    const c = render(docsExample());
    expect(c).toMatch(/^ {4}enable_script_security$/m);
    expect(c).toMatch(/^ {4}script_user root$/m);
    const off = render({ ...docsExample(), global_defs: { enable_script_security: false } });
    expect(off).not.toMatch(/enable_script_security|script_user/);
    expect(render({ ...docsExample(), global_defs: { script_user: 'keepalived_script' } })).toMatch(
      /script_user keepalived_script$/m,
    );
    const role = render(roleArgs({ lvs_script_user: 'lvscheck' }));
    expect(role).toMatch(/^ {4}enable_script_security$/m);
    expect(role).toMatch(/^ {4}script_user lvscheck$/m);
    expect(render(roleArgs({ lvs_script_security: false }))).not.toMatch(/enable_script_security/);
  });

  it.runIf(hasKeepalived)("keepalived -t accepts the docs' chk_nginx example and the role's output", () => {
    for (const conf of [render(docsExample()), render(roleArgs())]) {
      const t = keepalivedTest(conf);
      expect(t.out).not.toMatch(/SECURITY VIOLATION/);
      expect(t.code, `${t.out}\n${conf}`).toBe(0);
    }
    // without script security the same checker refuses it here (no keepalived_script user)
    if (noScriptUser) {
      const t = keepalivedTest(render({ ...docsExample(), global_defs: { enable_script_security: false } }));
      expect(t.code).toBe(6);
      expect(t.out).toMatch(/SECURITY VIOLATION/);
    }
  });

  const refusalTest = '--check reports what keepalived -t refuses, from a throwaway file it removes';
  it.runIf(hasKeepalived && noScriptUser)(refusalTest, async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'lvsrun-kcheck-'));
    const probes: string[] = [];
    const ctx = (check: boolean): ModuleCtx => ({
      host: 'lb1',
      vars: inv,
      check,
      exec: async (cmd: ShellCmd, o) => {
        probes.push(cmd);
        // the probe of the live file answers "absent"; keepalived -t runs for real
        const r = spawnSync('/bin/sh', ['-c', cmd], {
          input: o?.stdin ?? '',
          encoding: 'utf8',
          env: { ...process.env, TMPDIR: scratch },
        });
        return { code: r.status, signal: null, stdout: r.stdout, stderr: r.stderr, durationMs: 0 };
      },
      readLocal: () => ({ path: tplFile, text: readFileSync(tplFile, 'utf8'), bytes: readFileSync(tplFile) }),
      render: (text, where, data) => templates.renderString(text, data ?? inv, { file: where.file }),
      fact: async <T>(_k: string, load: () => Promise<T>) => load(),
    });
    const dest = join(scratch, 'live', 'keepalived.conf');
    const bad = keepalived.schema.parse({
      ...docsExample(),
      dest,
      start: false,
      global_defs: { enable_script_security: false },
    });
    const o = await keepalived.check(ctx(true), bad);
    expect(o.refused).toMatch(/exit 6: .*SECURITY VIOLATION/);
    expect(keepalived.plan(bad, o).fail).toMatch(/keepalived -t refuses the new .*SECURITY VIOLATION/);
    // the private folder of the test is gone, and nothing was written where the file goes
    expect(readdirSync(scratch)).toEqual([]);
    const good = keepalived.schema.parse({ ...docsExample(), dest, start: false });
    const g = await keepalived.check(ctx(true), good);
    expect(g.refused).toBeUndefined();
    expect(keepalived.plan(good, g).fail).toBeUndefined();
    // a real run leaves the test to the write step: no extra round trip
    const n = probes.length;
    await keepalived.check(ctx(false), bad);
    expect(probes.length).toBe(n + 1);
    expect(readdirSync(scratch)).toEqual([]);
  });
});

describe("keepalived global_defs: keepalived.conf(5)'s common keys, typed", () => {
  const common = {
    router_id: 'lb1',
    enable_script_security: true,
    script_user: 'root',
    smtp_connect_timeout: 30,
    vrrp_skip_check_adv_addr: true,
    vrrp_garp_interval: 0.001,
    vrrp_gna_interval: '0.000001',
    vrrp_garp_master_delay: 5,
    vrrp_garp_master_refresh: 60,
    vrrp_lower_prio_no_advert: false,
    vrrp_version: 2,
    vrrp_mcast_group4: '224.0.0.18',
    vrrp_startup_delay: 5.5,
    vrrp_priority: -10,
    max_auto_priority: 10,
    dynamic_interfaces: 'yes',
    vrrp_strict: false,
  };
  const base = (g: Record<string, unknown>) => ({ ...docsExample(), global_defs: g });
  it('accepts and writes them; a flag set to false is left out', () => {
    const c = render(base(common));
    for (const line of [
      'smtp_connect_timeout 30',
      'vrrp_skip_check_adv_addr',
      'vrrp_garp_interval 0.001',
      'vrrp_gna_interval 0.000001',
      'vrrp_lower_prio_no_advert false',
      'vrrp_priority -10',
      'dynamic_interfaces',
    ]) {
      expect(c).toMatch(new RegExp(`^ {4}${line}$`, 'm'));
    }
    expect(c).not.toMatch(/vrrp_strict/);
  });
  it.runIf(hasKeepalived)('keepalived -t accepts what they write', () => {
    const t = keepalivedTest(render(base(common)));
    expect(t.code, t.out).toBe(0);
    expect(t.out).not.toMatch(/unknown keyword|invalid/i);
  });
  it("refuses values keepalived refuses, and values that are not of the key's type", () => {
    const err = (g: Record<string, unknown>): string => {
      const r = keepalived.schema.safeParse(base(g));
      return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(err({ vrrp_garp_interval: 0 })).toMatch(/global_defs.vrrp_garp_interval: .*keepalived 2.2 refuses 0/);
    expect(err({ smtp_connect_timeout: '30\n}\nvrrp_script x {' })).toMatch(/smtp_connect_timeout/);
    expect(err({ vrrp_skip_check_adv_addr: 'maybe' })).toMatch(/vrrp_skip_check_adv_addr/);
    expect(err({ vrrp_mcast_group4: 'ff02::12' })).toMatch(/vrrp_mcast_group4/);
    expect(err({ script_user: 'root root' })).toMatch(/script_user/);
  });
  it.runIf(hasKeepalived)('keepalived itself refuses vrrp_garp_interval 0 (what the schema says up front)', () => {
    const conf = render(base({ vrrp_garp_interval: 1 })).replace('vrrp_garp_interval 1', 'vrrp_garp_interval 0');
    const t = keepalivedTest(conf);
    expect(t.code).not.toBe(0);
  });
});

describe('a playbook with a wrong global_defs key or value is refused at load, before any host', () => {
  const load = (globalDefs: string): LvsrunError => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-gd-'));
    writeFileSync(
      join(d, 'pb.yaml'),
      `- hosts: all\n  tasks:\n    - keepalived:\n        global_defs: ${globalDefs}\n` +
        '        vrrp_instances: [{name: VI_1, state: MASTER, interface: eth0, virtual_router_id: 1, priority: 100, ' +
        'virtual_ipaddress: [10.0.0.1]}]\n',
    );
    try {
      loadPlaybook(join(d, 'pb.yaml'));
    } catch (e) {
      if (e instanceof LvsrunError) return e;
      throw e;
    }
    throw new Error('loaded');
  };
  it("the hint lists the keys global_defs accepts, not the module's arguments", () => {
    const e = load('{smtp_timeout: 30}');
    expect(e.message).toMatch(/unknown key in global_defs 'smtp_timeout'/);
    expect(e.hint).toMatch(/global_defs keys are: .*smtp_connect_timeout.*vrrp_gna_interval/);
    expect(e.hint).not.toMatch(/vrrp_instances/);
    expect(load('{vrrp_garp_intervall: 1}').hint).toMatch(/did you mean 'vrrp_garp_interval'/);
  });
  it('vrrp_garp_interval 0 is refused with the reason', () => {
    expect(load('{vrrp_garp_interval: 0}').message).toMatch(/vrrp_garp_interval.*keepalived 2.2 refuses 0/);
  });
});

describe('lvsrun validate says before the run that keepalived 2.2 refuses vrrp_garp_interval 0', () => {
  it('a templated value from the inventory is a task-args error naming the reason', () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-garp-'));
    writeFileSync(
      join(d, 'pb.yaml'),
      `- hosts: directors
  tasks:
    - keepalived:
        global_defs: {vrrp_garp_interval: "{{garp}}"}
        vrrp_instances: [{name: VI_1, state: MASTER, interface: eth0, virtual_router_id: 1, priority: 100,
                          virtual_ipaddress: [10.0.0.1]}]
`,
    );
    writeFileSync(join(d, 'inv.yaml'), 'all:\n  children:\n    directors:\n      hosts:\n        lb1: {garp: 0}\n');
    const fs = validateInventory(loadInventory(join(d, 'inv.yaml')), loadPlaybook(join(d, 'pb.yaml')), templates);
    expect(fs.find((f) => f.rule === 'task-args')).toMatchObject({
      host: 'lb1',
      severity: 'error',
      message: expect.stringMatching(/vrrp_garp_interval must be above 0: keepalived 2.2 refuses 0/),
    });
  });
});
