import { hostVars, type InventoryMagic } from '../engine/vars.js';
import { selectHosts } from '../inventory/select.js';
import type { Inventory, Origin } from '../inventory/types.js';
import type { Playbook, Task } from '../playbook/types.js';
import { evalCondition, wholeWhen } from '../playbook/when.js';
import type { TemplateEngine } from '../template/render.js';
import { loopItems, withItem } from '../engine/task-args.js';
import { FORWARD } from './ipvs-table.js';
import { unicastFromGroup } from './keepalived-conf.js';
import type { TaskInstance, TaskReal, Val } from './model.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * What each host's `keepalived` and `ipvs` tasks would configure, rendered with that host's
 * variables: `lvsrun validate` checks these across hosts whatever way they were written (the
 * role's variables or literal values in a playbook). A keepalived vrrp_instance is a VRRP peer
 * carrying its first virtual server; every other virtual server, and each service of an `ipvs`
 * task, is checked as a director without VRRP. A value that is a variable reference keeps the
 * variable's name and where it was set; a literal points at the task.
 */
export function directorsFromTasks(
  inv: Inventory,
  pb: Playbook | undefined,
  templates: TemplateEngine,
  extraVars: Obj,
  magic: InventoryMagic,
  origins: (host: string) => Record<string, Origin>,
): Map<string, TaskInstance[]> {
  const out = new Map<string, TaskInstance[]>();
  forEachTask(inv, pb, templates, extraVars, magic, ['keepalived', 'ipvs'], (host, task, raw, args, vars) => {
    const v = valuer(task, origins(host), vars);
    const found = task.module === 'ipvs' ? ipvsServices(raw, args, v) : instances(raw, args, v, vars);
    if (found.length) out.set(host, [...(out.get(host) ?? []), ...found]);
  });
  return out;
}

/**
 * Calls `fn` with the rendered arguments of every task of these modules, for every host a play
 * targets, once per loop item; a task whose `when` is false for the host is left out, one that
 * needs a value only a run can know (a registered result) is checked where it can be.
 */
export function forEachTask(
  inv: Inventory,
  pb: Playbook | undefined,
  templates: TemplateEngine,
  extraVars: Obj,
  magic: InventoryMagic,
  modules: readonly string[],
  fn: (host: string, task: Task, raw: Obj, args: Obj, vars: Obj) => void,
): void {
  for (const play of pb?.plays ?? []) {
    const tasks = play.tasks.filter((t) => modules.includes(t.module));
    if (!tasks.length) continue;
    for (const host of selectHosts(inv, play.hosts, { unknown: () => undefined })) {
      for (const task of tasks) {
        const vars = hostVars({ inv, host, play, playHosts: [], task, registered: {}, extraVars, magic });
        let items: unknown[] | undefined;
        try {
          items = loopItems(task, vars, templates);
        } catch {
          continue; // the loop needs a runtime value
        }
        for (const itemVars of items ? items.map((i) => withItem(task, vars, i)) : [vars]) {
          if (!applies(task, itemVars)) continue;
          let args: Obj;
          try {
            args = obj(templates.renderValue(task.args, itemVars, { field: task.moduleKey }));
          } catch {
            continue; // needs a runtime value
          }
          fn(host, task, obj(task.args), args, itemVars);
        }
      }
    }
  }
}

/** `when:` that cannot be decided before the run (a registered result) counts as true. */
function applies(task: Task, vars: Obj): boolean {
  const when = wholeWhen(task);
  if (when === undefined) return true;
  try {
    return evalCondition(when, vars, task.where);
  } catch {
    return true;
  }
}

/** Makes a Val of a rendered value: under the variable it came from, else the task's `module path`. */
export type Valuer = (rawV: unknown, v: unknown, path: string) => Val | undefined;

export function valuer(task: Task, origins: Record<string, Origin>, vars: Obj): Valuer {
  const at: Origin = { file: task.where.file ?? '', ...(task.where.line ? { line: task.where.line } : {}) };
  // A value no inventory, play or -e set comes from the role's defaults.
  const defaultsAt = (ref: string): Origin | undefined => {
    const d = task.roleDefaults;
    return task.roleDefaultsFile && d && Object.hasOwn(d, ref) ? { file: task.roleDefaultsFile } : undefined;
  };
  return (rawV, v, path) => {
    if (v === undefined || v === null || v === '') return undefined;
    const ref = typeof rawV === 'string' ? variableOf(rawV, vars) : undefined;
    if (ref && ref !== task.loopVar) return { value: v, var: ref, origin: origins[ref] ?? defaultsAt(ref) ?? at };
    return { value: v, var: `${task.module} ${path}`, origin: at };
  };
}

const METHOD_OF: Record<string, string> = { dr: 'DR', nat: 'NAT', tun: 'TUN' };
const methodVal = (v: Val | undefined): Val | undefined => {
  if (!v) return undefined;
  const f = typeof v.value === 'string' ? FORWARD[v.value.toLowerCase()] : undefined;
  return { ...v, value: f ? METHOD_OF[f] : v.value };
};

/** Each service of an `ipvs` task: its scheduler, port, forwarding method and real servers. */
function ipvsServices(raw: Obj, args: Obj, val: Valuer): TaskInstance[] {
  return list(args.services).map((s0, n) => {
    const s = obj(s0);
    const r = obj(list(raw.services)[n]);
    const from = obj(s.reals_from);
    const rawFrom = obj(r.reals_from);
    const reals = list(s.reals).map((x0, k) => {
      const x = obj(x0);
      const rx = obj(list(r.reals)[k]);
      const at = `services[${n}].reals[${k}]`;
      return taskReal(
        val(rx.addr, x.addr, `${at}.addr`),
        val(rx.port, x.port, `${at}.port`),
        val(rx.weight, x.weight, `${at}.weight`),
        methodVal(val(rx.forward, x.forward ?? 'dr', `${at}.forward`)),
      );
    });
    const group = typeof from.group === 'string' && from.group ? from.group : undefined;
    const method = group
      ? methodVal(val(rawFrom.forward, from.forward ?? 'dr', `services[${n}].reals_from.forward`))
      : reals[0]?.method;
    return {
      instance: `ipvs services[${n}]`,
      vrrp: false,
      scheduler: val(r.scheduler, s.scheduler, `services[${n}].scheduler`),
      port: val(r.port, s.port, `services[${n}].port`),
      vip: val(r.vip, s.vip, `services[${n}].vip`),
      ...(method ? { method } : {}),
      rsGroup: group ?? '',
      reals,
    };
  });
}

function taskReal(addr?: Val, port?: Val, weight?: Val, method?: Val): TaskReal {
  return {
    host: String(addr?.value ?? '?'),
    ...(addr ? { addr } : {}),
    ...(port ? { port } : {}),
    ...(weight ? { weight } : {}),
    ...(method ? { method } : {}),
  };
}

/** A keepalived virtual server: lb_algo, lb_kind, port and its listed real_servers (reals_from: a group). */
function virtualServer(rawVs: Obj, vs: Obj, n: number, val: Valuer): Omit<TaskInstance, 'instance'> {
  const at = `virtual_servers[${n}]`;
  const rsGroup = obj(vs.reals_from).group;
  const reals = list(vs.real_servers).map((x0, k) => {
    const x = obj(x0);
    const rx = obj(list(rawVs.real_servers)[k]);
    return taskReal(
      val(rx.address, x.address, `${at}.real_servers[${k}].address`),
      val(rx.port, x.port, `${at}.real_servers[${k}].port`),
      val(rx.weight, x.weight, `${at}.real_servers[${k}].weight`),
    );
  });
  return {
    method: val(rawVs.lb_kind, vs.lb_kind, `${at}.lb_kind`),
    scheduler: val(rawVs.lb_algo, vs.lb_algo, `${at}.lb_algo`),
    port: val(rawVs.port, vs.port, `${at}.port`),
    ...(typeof rsGroup === 'string' && rsGroup ? { rsGroup } : reals.length ? { rsGroup: '' } : {}),
    ...(reals.length ? { reals } : {}),
  };
}

function instances(raw: Obj, args: Obj, val: Valuer, vars: Obj): TaskInstance[] {
  const servers = list(args.virtual_servers).map((vs, n) =>
    virtualServer(obj(list(raw.virtual_servers)[n]), obj(vs), n, val),
  );
  const scripts = Array.isArray(args.vrrp_scripts)
    ? Object.fromEntries(args.vrrp_scripts.map((s) => [String(obj(s).name), obj(s)]))
    : obj(args.vrrp_scripts);
  const routerId = val(obj(raw.global_defs).router_id, obj(args.global_defs).router_id, 'global_defs.router_id');
  const peers: TaskInstance[] = list(args.vrrp_instances).map((i0, n) => {
    const i = obj(i0);
    const r = obj(list(raw.vrrp_instances)[n]);
    const p = (k: string): Val | undefined => val(r[k], i[k], `vrrp_instances[${n}].${k}`);
    const firstVip = String(list(i.virtual_ipaddress)[0] ?? i.virtual_ipaddress ?? '').split(/[/\s]/)[0];
    const words = (v: unknown): string[] =>
      (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/[\s,]+/) : []).filter(Boolean);
    const group = typeof i.unicast_peer_group === 'string' && i.unicast_peer_group ? i.unicast_peer_group : undefined;
    const u = unicastFromGroup(
      {
        unicast_peer: words(i.unicast_peer),
        ...(group ? { unicast_peer_group: group } : {}),
        ...(typeof i.unicast_src_ip === 'string' && i.unicast_src_ip ? { unicast_src_ip: i.unicast_src_ip } : {}),
      },
      vars,
    );
    const uKey = group ? 'unicast_peer_group' : 'unicast_peer';
    return {
      instance: String(i.name ?? 'VI_1'),
      vrid: p('virtual_router_id'),
      state: p('state'),
      priority: p('priority'),
      iface: p('interface'),
      advert: p('advert_int'),
      auth: p('auth_pass'),
      nopreempt: p('nopreempt'),
      preemptDelay: p('preempt_delay'),
      trackScripts: p('track_script'),
      unicastSrc: val(r.unicast_src_ip, u.unicast_src_ip, `vrrp_instances[${n}].unicast_src_ip`),
      unicastPeers: u.unicast_peer.length ? val(r[uKey], u.unicast_peer, `vrrp_instances[${n}].${uKey}`) : undefined,
      vip: val(list(r.virtual_ipaddress)[0] ?? r.virtual_ipaddress, firstVip, `vrrp_instances[${n}].virtual_ipaddress`),
      vrrpScripts: val(raw.vrrp_scripts, Object.keys(scripts).length ? scripts : undefined, 'vrrp_scripts'),
      ...(servers[0] ?? {}),
      ...(routerId ? { routerId } : {}),
    };
  });
  // The other virtual servers (all of them without a vrrp_instance) are checked without VRRP.
  const rest = servers.slice(peers.length ? 1 : 0).map((vs, k) => ({
    instance: `keepalived virtual_servers[${k + (peers.length ? 1 : 0)}]`,
    vrrp: false,
    ...vs,
  }));
  return [...peers, ...rest];
}

/**
 * The variable a templated value comes from: the first name inside its {{…}} that is a variable of
 * the host (so not a helper or a literal). A block (`{{#if}}…{{else}}…{{/if}}`) picks one of the
 * task's own texts: the value is the task's, reported at the task line. Undefined for a literal.
 */
export function variableOf(text: string, vars: Obj): string | undefined {
  if (/\{\{~?\s*[#^]/.test(text)) return undefined;
  for (const m of text.matchAll(/\{\{([^}]*)\}\}/g)) {
    for (const w of m[1]!.matchAll(/(?<![\w.'"@])([A-Za-z_]\w*)/g)) if (Object.hasOwn(vars, w[1]!)) return w[1];
  }
  return undefined;
}
