import { hostVars, type InventoryMagic } from '../engine/vars.js';
import { selectHosts } from '../inventory/select.js';
import type { Inventory, Origin } from '../inventory/types.js';
import type { Playbook, Task } from '../playbook/types.js';
import { evalCondition } from '../playbook/when.js';
import type { TemplateEngine } from '../template/render.js';
import { unicastFromGroup } from './keepalived-conf.js';
import type { TaskInstance, Val } from './model.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * The vrrp_instances each host's `keepalived` tasks would write, rendered with that host's
 * variables: `lvsrun validate` checks these across hosts whatever way they were written (the
 * role's variables or literal values in a playbook). A value that is a variable reference keeps
 * the variable's name and where it was set; a literal points at the task.
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
  for (const play of pb?.plays ?? []) {
    const tasks = play.tasks.filter((t) => t.module === 'keepalived');
    if (!tasks.length) continue;
    for (const host of selectHosts(inv, play.hosts, { unknown: () => undefined })) {
      for (const task of tasks) {
        const vars = hostVars({ inv, host, play, playHosts: [], task, registered: {}, extraVars, magic });
        if (!applies(task, vars)) continue;
        let args: Obj;
        try {
          args = obj(templates.renderValue(task.args, vars, { field: 'keepalived' }));
        } catch {
          continue;
        } // needs a runtime value
        const found = instances(task, obj(task.args), args, origins(host), vars);
        if (found.length) out.set(host, [...(out.get(host) ?? []), ...found]);
      }
    }
  }
  return out;
}

/** `when:` that cannot be decided before the run (a registered result) counts as true. */
function applies(task: Task, vars: Obj): boolean {
  if (task.when === undefined) return true;
  try {
    return evalCondition(task.when, vars, task.where);
  } catch {
    return true;
  }
}

function instances(task: Task, raw: Obj, args: Obj, origins: Record<string, Origin>, vars: Obj): TaskInstance[] {
  const at: Origin = { file: task.where.file ?? '', ...(task.where.line ? { line: task.where.line } : {}) };
  // A value no inventory, play or -e set comes from the role's defaults.
  const defaultsAt = (ref: string): Origin | undefined => {
    const d = task.roleDefaults;
    return task.roleDefaultsFile && d && Object.hasOwn(d, ref) ? { file: task.roleDefaultsFile } : undefined;
  };
  const val = (rawV: unknown, v: unknown, path: string): Val | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    const ref = typeof rawV === 'string' ? variableOf(rawV, vars) : undefined;
    if (ref) return { value: v, var: ref, origin: origins[ref] ?? defaultsAt(ref) ?? at };
    return { value: v, var: `keepalived ${path}`, origin: at };
  };
  const rawVs = obj(list(raw.virtual_servers)[0]);
  const vs = obj(list(args.virtual_servers)[0]);
  const scripts = Array.isArray(args.vrrp_scripts)
    ? Object.fromEntries(args.vrrp_scripts.map((s) => [String(obj(s).name), obj(s)]))
    : obj(args.vrrp_scripts);
  const rsGroup = obj(vs.reals_from).group;
  const routerId = val(obj(raw.global_defs).router_id, obj(args.global_defs).router_id, 'global_defs.router_id');
  return list(args.vrrp_instances).map((i0, n) => {
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
      method: val(rawVs.lb_kind, vs.lb_kind, 'virtual_servers[0].lb_kind'),
      scheduler: val(rawVs.lb_algo, vs.lb_algo, 'virtual_servers[0].lb_algo'),
      port: val(rawVs.port, vs.port, 'virtual_servers[0].port'),
      ...(routerId ? { routerId } : {}),
      ...(typeof rsGroup === 'string' && rsGroup ? { rsGroup } : {}),
    };
  });
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
