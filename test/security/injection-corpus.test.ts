import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTaskArgs } from '../../src/engine/task-args.js';
import { LvsrunError } from '../../src/errors.js';
import { MODULES } from '../../src/modules/registry.js';
import { isControllerModule, type ModuleCtx, type Plan } from '../../src/modules/types.js';
import { evalCondition } from '../../src/playbook/when.js';
import type { Task } from '../../src/playbook/types.js';
import { TemplateEngine } from '../../src/template/render.js';
import type { ShellCmd } from '../../src/transport/shell.js';

/*
 * Every string field of every module's arguments, with hostile payloads. Each case is either
 * refused as bad input (a typed LvsrunError or a schema refusal, never a crash), or its commands
 * (probes, steps and undo) are run by /bin/sh in a scratch folder with stub executables first on
 * PATH (ip, iptables, sysctl, apt-get, systemctl, ... only log their argv) and every file path
 * under that folder; then no canary file may exist. keepalived.conf must also keep the shape of
 * the benign rendering (no line or block added), and ifcfg files are sourced by sh.
 */
const S = mkdtempSync(join(tmpdir(), 'lvsrun-corpus-'));
const STUBS = join(S, '.stubs');
const CANARY = join(S, 'CANARY');
afterAll(() => rmSync(S, { recursive: true, force: true }));
mkdirSync(STUBS);
for (const t of [
  'sysctl',
  'ipvsadm',
  'apt-get',
  'apt',
  'dpkg-query',
  'rpm',
  'dnf',
  'yum',
  'iptables',
  'ip',
  'keepalived',
  'systemctl',
  'service',
  'update-rc.d',
  'modprobe',
  'pidof',
  'sleep',
  'nginx',
  'chown',
  'chgrp',
  'sudo',
  'su',
]) {
  writeFileSync(join(STUBS, t), `#!/bin/sh\nprintf '%s\\n' "${t} $*" >> "${S}/argv.log"\nexit 0\n`);
  chmodSync(join(STUBS, t), 0o755);
}

const C = CANARY;
const PAYLOADS: string[] = [
  `'; touch ${C}; '`,
  `"; touch ${C}; "`,
  `$(touch ${C})`,
  `\`touch ${C}\``,
  `;touch ${C}`,
  `|| touch ${C} &`,
  `\ntouch ${C}\n`,
  `x\n}\nvrrp_script x {\n    script "touch ${C}"\n}\n`,
  `"\n    notify_master "touch ${C}`,
  `-oDPkg::Pre-Invoke::=touch ${C}`,
  `--modprobe=touch ${C}`,
  '--',
  '-rf',
  'a\0b',
  'A'.repeat(200 * 1024),
  '{{',
  '{ # !',
  '__proto__',
  'toString',
  '\\',
];

const inv = {
  groups: { rs: ['rs1'], lbs: ['lb1', 'lb2'] },
  hostvars: {
    rs1: { ansible_host: '10.0.0.5' },
    lb1: { ansible_host: '10.0.0.11' },
    lb2: { ansible_host: '10.0.0.12' },
  },
};

/** Benign arguments per module, every path inside S. */
const BASE: Record<string, Record<string, unknown>> = {
  command: { cmd: 'true', chdir: S, creates: `${S}/nx1`, removes: S, stdin: 'in', undo: 'true' },
  'command(argv)': { argv: ['true', 'a'], chdir: S },
  shell: { cmd: 'true', chdir: S, executable: '/bin/sh', stdin: 'in' },
  copy: { dest: `${S}/copy.txt`, content: 'hello\n', mode: '0644', owner: 'root', group: 'root' },
  template: { src: 'x.hbs', dest: `${S}/tpl.txt`, mode: '0644' },
  file: { path: `${S}/dir`, state: 'directory', owner: 'root', group: 'root' },
  lineinfile: { path: `${S}/l.conf`, regexp: '^a=', line: 'a=1', create: true, insertafter: 'EOF' },
  sysctl: { name: 'net.ipv4.ip_forward', value: '1', sysctl_file: `${S}/sysctl.conf` },
  package: { name: ['keepalived', 'ipvsadm'] },
  service: { name: 'nginx', state: 'started', enabled: true },
  stat: { path: `${S}/s` },
  wait_for: { host: '127.0.0.1', port: 1, timeout: 0 },
  'wait_for(path)': { path: `${S}/w`, state: 'absent', timeout: 0 },
  assert: { that: ['1 == 1'], fail_msg: 'bad', success_msg: 'ok' },
  debug: { msg: 'hello' },
  ipvs: {
    services: [
      {
        vip: '10.0.0.100',
        port: 80,
        scheduler: 'rr',
        persistence: 60,
        netmask: '255.255.255.0',
        reals: [{ addr: '10.0.0.6', port: 80, forward: 'nat' }],
        reals_from: { group: 'rs', forward: 'dr' },
      },
    ],
    rules_file: `${S}/ipvs.rules`,
  },
  lvs_member: {
    vip: '10.0.0.100',
    port: 80,
    protocol: 'tcp',
    real_server: '10.0.0.6',
    real_port: 80,
    state: 'drained',
    timeout: 0,
    manager: 'auto',
    keepalived_conf: `${S}/lvs-member.conf`,
    service: 'keepalived',
  },
  vip: { address: '10.0.0.100', interface: 'lo', label: 'lo:0' },
  ifcfg: { device: 'eth1', dir: S, settings: { IPADDR: '10.0.0.1', NAME: 'vip one' } },
  route: { dest: '10.1.0.0/16', via: '10.0.0.1', dev: 'eth0' },
  iptables: { chain: 'INPUT', rule: '-p tcp -s 10.0.0.0/8 -j ACCEPT' },
  keepalived: {
    dest: `${S}/keepalived.conf`,
    service: 'keepalived',
    global_defs: {
      router_id: 'lb1',
      script_user: 'root',
      notification_email: ['ops@example.com'],
      notification_email_from: 'lb@example.com',
      smtp_server: '10.0.0.25 25',
      enable_script_security: 'yes',
      smtp_connect_timeout: '30',
      vrrp_skip_check_adv_addr: 'true',
      vrrp_garp_interval: '0.001',
      vrrp_gna_interval: '0.000001',
      default_interface: 'eth0',
      vrrp_mcast_group4: '224.0.0.18',
      vrrp_mcast_group6: 'ff02::12',
      vrrp_startup_delay: '5.5',
      vrrp_priority: '-10',
      vrrp_version: '2',
      vrrp_lower_prio_no_advert: 'false',
      max_auto_priority: '10',
      vrrp_strict: 'no',
    },
    vrrp_scripts: { chk: { script: '/usr/bin/pgrep nginx', user: 'root' } },
    vrrp_instances: [
      {
        name: 'VI_1',
        state: 'BACKUP',
        interface: 'eth0',
        virtual_router_id: 51,
        priority: 100,
        auth_pass: 'secret',
        virtual_ipaddress: ['10.0.0.100/32 dev eth0 label eth0:1'],
        track_script: ['chk'],
        track_interface: ['eth1'],
        unicast_src_ip: '10.0.0.11',
        unicast_peer: ['10.0.0.12'],
        unicast_peer_group: 'lbs',
        notify_master: '/etc/keepalived/master.sh',
        notify_backup: '/etc/keepalived/backup.sh',
        notify_fault: '/bin/true',
      },
    ],
    virtual_servers: [
      {
        vip: '10.0.0.100',
        port: 80,
        protocol: 'TCP',
        lb_kind: 'NAT',
        lb_algo: 'rr',
        sorry_server: { address: '10.0.0.9', port: 80 },
        check: { type: 'HTTP_GET', url: [{ path: '/health', digest: '0123456789abcdef0123456789abcdef' }] },
        real_servers: [{ address: '10.0.0.7', port: 80 }],
        reals_from: { group: 'rs' },
      },
      { fwmark: 5, check: { type: 'MISC_CHECK', misc_path: '/usr/local/bin/check' } },
    ],
  },
};
/** Fields that are commands by design (the user's program, run as written): not data to inject into. */
const CODE = new Set([
  'command:cmd',
  'command:undo',
  'command(argv):argv.0',
  'shell:cmd',
  'shell:undo',
  'shell:executable',
  'copy:validate',
  'assert:that.0',
]);

/** Maps whose keys are written out too (setting names, script names). */
const KEYED = new Set(['ifcfg:settings', 'keepalived:vrrp_scripts']);
/** Inventory values the module writes out: ansible_host of a reals_from / unicast_peer_group member. */
const VAR_FIELDS: Record<string, string[]> = { ipvs: ['rs1'], keepalived: ['rs1', 'lb2'] };

type Path = Array<string | number>;
interface Field {
  path: Path;
  key?: boolean;
  hostvar?: string;
}
function fields(v: unknown, path: Path, mod: string, out: Field[] = []): Field[] {
  if (typeof v === 'string') out.push({ path });
  else if (Array.isArray(v)) v.forEach((x, i) => fields(x, [...path, i], mod, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (KEYED.has(`${mod}:${path.join('.')}`)) out.push({ path: [...path, k], key: true });
      fields(x, [...path, k], mod, out);
    }
  }
  return out;
}
function substitute(args: unknown, f: Field, value: string): unknown {
  const copy = structuredClone(args) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = copy;
  for (const k of f.path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  const last = f.path[f.path.length - 1]!;
  if (f.key) {
    const entries = Object.entries(cur).map(([k, x]) => (k === last ? [value, x] : [k, x]));
    for (const k of Object.keys(cur)) delete cur[k];
    // defineProperty: a key such as __proto__ becomes an own key, as YAML parsing makes it
    for (const [k, x] of entries) {
      Object.defineProperty(cur, k as string, { value: x, enumerable: true, writable: true, configurable: true });
    }
  } else cur[last] = value;
  return copy;
}

/** Observed state forced to the branch that changes most (every step and undo planned). */
const FORCE: Record<string, (o: any) => any> = {
  service: (o) => ({ ...o, init: 'systemd', exists: true, active: false, enabled: false }),
  keepalived: (o) => ({
    ...o,
    installed: true,
    canTest: true,
    svc: { init: 'systemd', exists: true, active: true, enabled: true },
  }),
  vip: (o) => ({
    ...o,
    linkExists: true,
    linkUp: false,
    hasAddr: false,
    family: 'rhel',
    persistFile: `${S}/ifcfg-vip`,
  }),
  ipvs: (o) => ({ ...o, available: true, live: [], saved: '' }),
  // keepalived runs and declares the server: the file is rewritten and keepalived reloaded
  lvs_member: (o) => ({
    ...o,
    error: undefined,
    real: { addr: '10.0.0.6', port: 80, forward: 'dr', weight: 3, active: 1, inactive: 0, upper: 0, lower: 0 },
    keepalived: { init: 'systemd', exists: true, active: true, enabled: true },
    conf: {
      exists: true,
      type: 'file',
      content: 'virtual_server 10.0.0.100 80 {\n    real_server 10.0.0.6 80 {\n        weight 3\n    }\n}\n',
    },
    canTest: true,
  }),
};
const FACTS: Record<string, unknown> = { pkg_mgr: 'apt', os_family: 'debian' };
const templates = new TemplateEngine();
const PROBE_END = '__lvsrun_probe_end__';
const repo = join(import.meta.dirname, '..', '..');

interface Cmd {
  cmd: string;
  stdin?: string;
  write?: boolean;
}
interface Outcome {
  refused?: string;
  crashed?: string;
  cmds: Cmd[];
  plan?: Plan;
  want?: string;
}

async function runCase(modName: string, args: unknown, vars: Record<string, unknown>): Promise<Outcome> {
  const key = modName.replace(/\(.*\)$/, '');
  const mod = MODULES.get(key)!;
  const task = {
    name: 't',
    moduleKey: key,
    module: key,
    args,
    loopVar: 'item',
    notify: [],
    tags: [],
    ignoreErrors: false,
    noLog: false,
    baseDirs: [S],
    where: { file: 'corpus.yaml', line: 1 },
  } as Task;
  const cmds: Cmd[] = [];
  try {
    const parsed = parseTaskArgs(mod, task, vars, templates);
    if (!parsed.ok) return { refused: `${parsed.path}: ${parsed.message}`, cmds };
    if (isControllerModule(mod)) {
      // assert and debug run on the controller: their conditions go to the safe evaluator, no command is run.
      const where = { file: 'corpus.yaml', line: 1 };
      mod.controller(parsed.data, { vars, holds: (c, field) => evalCondition(c, vars, { ...where, field }) });
      return { cmds };
    }
    const ctx: ModuleCtx = {
      host: 'lb1',
      vars,
      check: false,
      exec: async (cmd: ShellCmd, o) => {
        cmds.push({ cmd, ...(o?.stdin !== undefined ? { stdin: String(o.stdin) } : {}) });
        // Every probe answers "absent" (a file, a package, a route): the plan then changes the most.
        const parts = cmd.split(PROBE_END).length - 1;
        const stdout = parts ? `absent\n${PROBE_END} 0\n`.repeat(parts) : 'absent\n';
        // except the saved IPVS table, which is empty
        const out = cmd.includes('ipvsadm -S') ? stdout.replace(/^absent/, '') : stdout;
        return { code: 0, signal: null, stdout: out, stderr: '', durationMs: 0 };
      },
      readLocal: (p) => {
        const [path, text] = p.startsWith('keepalived/')
          ? [join(repo, 'templates', p), readFileSync(join(repo, 'templates', p), 'utf8')]
          : [join(S, 'x.hbs'), 'host {{inventory_hostname}}\n'];
        return { path, text, bytes: Buffer.from(text) };
      },
      render: (text, where, data) => templates.renderString(text, data ?? vars, { file: where.file }),
      fact: async <T>(k: string, load: () => Promise<T>) => (k in FACTS ? (FACTS[k] as T) : load()),
    };
    const observed = (FORCE[key] ?? ((o: unknown) => o))(await mod.check(ctx, parsed.data));
    const plan = mod.plan(parsed.data, observed);
    for (const s of [...plan.steps, ...plan.undo]) {
      cmds.push({ cmd: s.cmd, write: true, ...(s.stdin !== undefined ? { stdin: String(s.stdin) } : {}) });
    }
    return { cmds, plan, ...(key === 'keepalived' ? { want: (observed as { want: string }).want } : {}) };
  } catch (e) {
    if (e instanceof LvsrunError) return { refused: e.message, cmds: [] };
    return { crashed: `${(e as Error).name}: ${(e as Error).message.slice(0, 120)}`, cmds: [] };
  }
}

/**
 * Each case's commands, each in a file of its own (checked for syntax, then run by sh inside S with
 * the stubs first on PATH), all cases in one sh run; after each case, the canary is looked for.
 * Returns the problems found, by case index.
 */
async function execute(batch: Cmd[][]): Promise<Array<{ n: number; line: string }>> {
  const dir = mkdtempSync(join(S, 'run-'));
  // One syntax check for all commands (each in a subshell); per case only if that fails.
  const wrapped = (cmds: Cmd[]): string => cmds.map((c) => `(\n${c.cmd}\n)\n`).join('');
  writeFileSync(join(dir, 'all.syntax'), batch.map(wrapped).join(''));
  const syntaxOk = spawnSync('/bin/sh', ['-n', join(dir, 'all.syntax')]).status === 0;
  const shards: string[][] = [[], []];
  batch.forEach((cmds, n) => {
    const lines = shards[n % 2]!;
    if (!syntaxOk) {
      writeFileSync(join(dir, `${n}.syntax`), wrapped(cmds));
      lines.push(`sh -n "${dir}/${n}.syntax" 2>/dev/null || echo "${n} syntax error in its commands"`);
    }
    // Each command sourced in a subshell (a fork, no exec), from the sandbox folder.
    cmds.forEach((c, i) => {
      writeFileSync(join(dir, `${n}-${i}.sh`), c.cmd);
      writeFileSync(join(dir, `${n}-${i}.in`), c.stdin ?? '');
      lines.push(`(cd "${S}" && . "${dir}/${n}-${i}.sh") < "${dir}/${n}-${i}.in" >/dev/null 2>&1`);
    });
    lines.push(
      `for f in "${S}"/ifcfg-*; do [ -f "$f" ] && (. "$f") >/dev/null 2>&1; done`,
      `[ -e "${CANARY}" ] && { echo "${n} CANARY created"; rm -f -- "${CANARY}"; }`,
    );
  });
  // Two shards run side by side; a canary is caught either way (the case named is the shard's last).
  const runs = shards.map((lines, k) => {
    writeFileSync(join(dir, `shard${k}.sh`), `${lines.join('\n')}\ntrue\n`);
    return new Promise<string>((resolve, reject) => {
      const env = { PATH: `${STUBS}:/usr/bin:/bin`, HOME: S, LC_ALL: 'C' };
      const child = spawn('/bin/sh', [join(dir, `shard${k}.sh`)], { env });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`sandbox shard ${k} exited ${code}`))));
    });
  });
  const outs = await Promise.all(runs);
  rmSync(dir, { recursive: true, force: true });
  return outs
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ n: Number(l.split(' ')[0]), line: l.slice(l.indexOf(' ') + 1) }));
}

/** Where a command or file names an absolute path outside S that lvsrun's own code does not use. */
const ALLOWED = [
  S,
  '/dev/null',
  '/dev/tcp/',
  '/bin/sh',
  '/bin/true',
  '/etc/init.d/',
  '/run/',
  '/usr/sbin/',
  '/etc/rc[2345].d/',
  '/etc/redhat-release',
  '/etc/os-release',
  '/etc/keepalived/',
  '/usr/bin/',
  '/usr/local/bin/',
  '/health',
  '/proc/',
];
const SYSTEM_PATH = /(?<![\w.$}-])\/(etc|usr|var|lib|boot|root|home|opt|srv|sys|proc|tmp|bin|sbin)\b[^\s'"]*/g;
const stray = (cmd: string): string | undefined =>
  [...cmd.matchAll(SYSTEM_PATH)].map((m) => m[0]).find((p) => !ALLOWED.some((a) => p.startsWith(a)));

/** keepalived.conf shape: per line, the indentation and first word; quotes stay balanced. */
const shape = (conf: string): string[] =>
  conf.split('\n').map((l) => {
    const w = l.trim().split(/\s+/);
    // A line of one word is a list entry (a peer, an e-mail address) or a flag: only its place counts.
    const first = w.length > 1 || w[0] === '}' ? w[0] : '1';
    return `${/^\s*/.exec(l)![0].length}:${first}:${(l.match(/"/g) ?? []).length % 2}`;
  });

describe('injection corpus: every module field × hostile payloads', () => {
  const cases: Array<{ mod: string; field: Field; value: string; label: string }> = [];
  for (const [mod, args] of Object.entries(BASE)) {
    const fs = [...fields(args, [], mod), ...(VAR_FIELDS[mod] ?? []).map((h): Field => ({ path: [], hostvar: h }))];
    for (const f of fs) {
      const fname = f.hostvar ? `hostvars.${f.hostvar}.ansible_host` : `${f.path.join('.')}${f.key ? ' (key)' : ''}`;
      if (CODE.has(`${mod}:${fname}`)) continue;
      const benign = f.hostvar
        ? (inv.hostvars as Record<string, { ansible_host: string }>)[f.hostvar]!.ansible_host
        : f.key
          ? String(f.path[f.path.length - 1])
          : String(f.path.reduce<any>((v, k) => v[k], args));
      for (const p of PAYLOADS) {
        for (const value of [p, benign + p]) cases.push({ mod, field: f, value, label: `${mod} ${fname}` });
      }
    }
  }

  it(`has cases for every module (${Object.keys(BASE).length} argument sets)`, () => {
    const covered = new Set(cases.map((c) => c.mod.replace(/\(.*\)$/, '')));
    expect([...new Set(MODULES.values())].map((m) => m.name).filter((n) => !covered.has(n))).toEqual([]);
    expect(cases.length).toBeGreaterThan(2000);
  });

  it('the benign arguments are accepted and plan steps, whose commands run cleanly in the sandbox', async () => {
    for (const [mod, args] of Object.entries(BASE)) {
      const o = await runCase(mod, args, { ...inv, inventory_hostname: 'lb1' });
      expect(o.refused ?? o.crashed, mod).toBeUndefined();
      expect(o.cmds.length, mod).toBeGreaterThan(mod === 'assert' || mod === 'debug' ? -1 : 0);
      expect(await execute([o.cmds]), mod).toEqual([]);
    }
    expect(existsSync(CANARY)).toBe(false);
  });

  it('each hostile case is refused with a typed error, or adds no canary and no keepalived.conf line', async () => {
    const problems: string[] = [];
    const baseline = (await runCase('keepalived', BASE.keepalived, { ...inv, inventory_hostname: 'lb1' })).want!;
    const ran: Array<{ where: string; cmds: Cmd[] }> = [];
    const crashes: string[] = [];
    for (const c of cases) {
      const vars = { ...structuredClone(inv), inventory_hostname: 'lb1' } as Record<string, any>;
      let args: unknown = BASE[c.mod];
      if (c.field.hostvar) vars.hostvars[c.field.hostvar].ansible_host = c.value;
      else args = substitute(args, c.field, c.value);
      const o = await runCase(c.mod, args, vars);
      const where = `${c.label} = ${JSON.stringify(c.value.slice(0, 60))}`;
      if (o.crashed !== undefined) {
        crashes.push(`${where}: ${o.crashed}`);
        continue;
      }
      if (o.refused !== undefined) continue;
      // Probes only read; a step or undo that names a path outside the sandbox is not run.
      const outside = o.cmds
        .filter((x) => x.write)
        .map((x) => stray(x.cmd))
        .find(Boolean);
      if (outside) {
        problems.push(`${where}: a command names ${outside}, outside the sandbox: not run`);
        continue;
      }
      if (o.want !== undefined && shape(o.want).join('\n') !== shape(baseline).join('\n')) {
        const [a, b] = [o.want.split('\n'), baseline.split('\n')];
        const i = shape(o.want).findIndex((l, k) => l !== shape(baseline)[k]);
        problems.push(
          `${where}: keepalived.conf changed shape at line ${i + 1}: ${JSON.stringify(a[i])}` +
            ` for ${JSON.stringify(b[i])}`,
        );
      }
      ran.push({ where, cmds: o.cmds });
    }
    for (const p of await execute(ran.map((r) => r.cmds))) problems.push(`${ran[p.n]!.where}: ${p.line}`);
    const accepted = ran.length;
    expect(problems).toEqual([]);
    expect(crashes).toEqual([]);
    expect(accepted).toBeGreaterThan(0);
  });
});
