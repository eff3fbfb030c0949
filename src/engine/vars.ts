import type { Inventory } from '../inventory/types.js';
import type { Play, Task } from '../playbook/types.js';
import { markData, markHostvars } from '../template/render.js';

export interface HostVarsInput {
  inv: Inventory;
  host: string;
  play: Play;
  playHosts: string[];
  task?: Task;
  registered: Record<string, unknown>;
  extraVars: Record<string, unknown>;
  magic: InventoryMagic;
}

export interface InventoryMagic {
  groups: Record<string, string[]>;
  hostvars: Record<string, unknown>;
}

/** Computed once per run: `groups` and `hostvars` for every host. */
export function inventoryMagic(inv: Inventory): InventoryMagic {
  const groups: Record<string, string[]> = {};
  for (const g of inv.groups.keys())
    groups[g] = [...inv.hosts.values()].filter((x) => x.groups.includes(g) || g === 'all').map((x) => x.name);
  return { groups, hostvars: lazyHostvars(inv) };
}

/**
 * Precedence, lowest first: the play's role defaults < the task's own role's defaults < inventory
 * (all < parent < child < host) < play vars < the play's role vars < the task's role vars and task vars
 * < registered results < extra vars (-e). Magic variables last. As in Ansible, the defaults and vars
 * of every role of the play are seen by all its tasks, a task's own role winning over the others.
 * A registered result holds what a host printed: it is data, never rendered as a template.
 */
export function hostVars(i: HostVarsInput): Record<string, unknown> {
  const h = i.inv.hosts.get(i.host)!;
  const vars: Record<string, unknown> = {
    ...(i.play.roleDefaults ?? {}),
    ...(i.task?.roleDefaults ?? {}),
    ...h.vars,
    ...i.play.vars,
    ...(i.play.roleVars ?? {}),
    ...(i.task?.roleVars ?? {}),
    ...i.registered,
    ...i.extraVars,
    inventory_hostname: h.name,
    inventory_hostname_short: h.name.split('.')[0],
    group_names: h.groups.filter((g) => g !== 'ungrouped'),
    groups: i.magic.groups,
    hostvars: i.magic.hostvars,
    play_hosts: i.playHosts,
    ansible_play_hosts: i.playHosts,
    ansible_play_batch: i.playHosts,
  };
  return markData(
    vars,
    Object.keys(i.registered).filter((k) => vars[k] === i.registered[k]),
  );
}

/**
 * `vars` without the run-wide lists (`hostvars`, `groups`, the play's hosts): they name every host,
 * not this one, and the inventory's secrets in them are known already.
 */
export function withoutRunLists(vars: Record<string, unknown>): Record<string, unknown> {
  const { hostvars: _h, groups: _g, play_hosts: _p, ansible_play_hosts: _a, ansible_play_batch: _b, ...own } = vars;
  return own;
}

function lazyHostvars(inv: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const h of inv.hosts.values()) out[h.name] = { ...h.vars, inventory_hostname: h.name, group_names: h.groups };
  return markHostvars(out);
}
