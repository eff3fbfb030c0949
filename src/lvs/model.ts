import type { Origin } from '../inventory/types.js';

/**
 * The LVS topology an inventory describes, read from lvsrun's documented variables
 * (docs/lvs.md): directors carry keepalived_* and lvs_* variables, real servers are the hosts of
 * the `realservers` group (or `lvs_realservers_group`). Every value keeps where it was set.
 */
export interface Val<T = unknown> {
  value: T;
  origin?: Origin;
  var: string;
}

export interface HostInput {
  name: string;
  groups: string[];
  vars: Record<string, unknown>;
  origins: Record<string, Origin>;
}

export interface Director {
  host: string;
  cluster: string;
  instance: string;
  vrid?: Val;
  state?: Val;
  priority?: Val;
  iface?: Val;
  vip?: Val;
  advert?: Val;
  auth?: Val;
  nopreempt?: Val;
  preemptDelay?: Val;
  trackScripts?: Val;
  vrrpScripts?: Val;
  dip?: Val;
  /**
   * The director's own address (lvs_service_address, else ansible_host), and the unicast VRRP
   * settings a keepalived task gives.
   */
  addr?: Val;
  unicastSrc?: Val;
  unicastPeers?: Val;
  /** keepalived's router_id (global_defs), when set. */
  routerId?: Val;
  method?: Val;
  scheduler?: Val;
  port?: Val;
  segment: string;
  /** The group holding this director's real servers ('' for none: only `reals`). */
  rsGroup: string;
  /** Real servers a task lists by address (ipvs `reals`, keepalived `real_servers`). */
  reals?: RealServerHost[];
  /** false for a single director without keepalived: the VRRP rules do not apply. */
  vrrp: boolean;
}

export interface RealServerHost {
  host: string;
  addr?: Val;
  port?: Val;
  weight?: Val;
  gateway?: Val;
  arpIgnore?: Val;
  arpAnnounce?: Val;
  rpFilter?: Val;
  groups: string[];
  /** This real server's own forwarding method (an ipvs real's `forward`), else the director's. */
  method?: Val;
  /** An address a task lists that is no host of the inventory: nothing is known of its configuration. */
  external?: boolean;
}

/** A real server as a task lists it, before it is matched to an inventory host by its address. */
export type TaskReal = Pick<RealServerHost, 'host' | 'addr' | 'port' | 'weight' | 'method'>;

/** What a real server's own tasks set (route, ifcfg GATEWAY, sysctl): it replaces the variables. */
export type RealServerFacts = Partial<Pick<RealServerHost, 'gateway' | 'arpIgnore' | 'arpAnnounce' | 'rpFilter'>>;

export interface LvsModel {
  directors: Director[];
  realservers: Map<string, RealServerHost[]>;
}

// A director is in the directors group, or declares keepalived settings itself (inventory or play vars,
// which carry an origin): an extra var (-e) applies to every host and makes none of them a director.
// A real server is not one because of a VRRP variable it inherits (lvs_vrid in `all: vars`).
const declared = (h: HostInput, k: string): boolean => h.origins[k] !== undefined && h.origins[k].file !== '-e';
const isDirector = (h: HostInput, rsGroups: ReadonlySet<string>): boolean =>
  h.groups.includes('directors') ||
  ((declared(h, 'lvs_vrid') || declared(h, 'keepalived_state')) && !h.groups.some((g) => rsGroups.has(g)));

/** What a `keepalived` task declares for one vrrp_instance; it replaces the variable-based VRRP fields. */
export type TaskInstance = Pick<
  Director,
  | 'instance'
  | 'vrid'
  | 'state'
  | 'priority'
  | 'iface'
  | 'vip'
  | 'advert'
  | 'auth'
  | 'nopreempt'
  | 'preemptDelay'
  | 'trackScripts'
  | 'vrrpScripts'
  | 'method'
  | 'scheduler'
  | 'port'
  | 'unicastSrc'
  | 'unicastPeers'
  | 'routerId'
> & { rsGroup?: string; reals?: TaskReal[]; vrrp?: boolean };

/**
 * `fromTasks`: per host, the instances its keepalived tasks declare (lvs/task-directors.ts). Such a
 * host gets one director per instance, with the task's values; the variables still give the cluster,
 * segment and NAT address. Other directors are read from the variables alone.
 */
export function buildModel(
  hosts: HostInput[],
  fromTasks: ReadonlyMap<string, TaskInstance[]> = new Map(),
  rsFacts: ReadonlyMap<string, RealServerFacts> = new Map(),
): LvsModel {
  const get = (h: HostInput, ...names: string[]): Val | undefined => {
    for (const n of names)
      if (h.vars[n] !== undefined && h.vars[n] !== null)
        return { value: h.vars[n], var: n, ...(h.origins[n] ? { origin: h.origins[n] } : {}) };
    return undefined;
  };
  const opt = <K extends string>(k: K, v: Val | undefined): { [P in K]?: Val } =>
    v ? ({ [k]: v } as { [P in K]?: Val }) : {};
  const byVars = (h: HostInput): Director => ({
    host: h.name,
    cluster: String(h.vars.lvs_cluster ?? 'default'),
    instance: String(h.vars.lvs_instance ?? 'VI_1'),
    segment: String(h.vars.lvs_segment ?? 'default'),
    rsGroup: String(h.vars.lvs_realservers_group ?? 'realservers'),
    // VRRP rules apply to directors that declare keepalived settings (not to every host of the group).
    vrrp:
      h.vars.lvs_use_keepalived !== false &&
      h.vars.lvs_use_keepalived !== 'false' &&
      (h.vars.keepalived_state !== undefined || h.vars.lvs_vrid !== undefined),
    ...opt('vrid', get(h, 'lvs_vrid', 'keepalived_vrid')),
    ...opt('state', get(h, 'keepalived_state')),
    ...opt('priority', get(h, 'keepalived_priority')),
    ...opt('iface', get(h, 'lvs_interface')),
    ...opt('vip', get(h, 'lvs_vip')),
    ...opt('advert', get(h, 'lvs_advert_int')),
    ...opt('auth', get(h, 'lvs_auth_pass')),
    ...opt('nopreempt', get(h, 'lvs_nopreempt')),
    ...opt('preemptDelay', get(h, 'lvs_preempt_delay')),
    ...opt('trackScripts', get(h, 'lvs_track_scripts')),
    ...opt('vrrpScripts', get(h, 'lvs_vrrp_scripts')),
    ...opt('dip', get(h, 'lvs_dip')),
    ...opt('addr', get(h, 'lvs_service_address', 'ansible_host')),
    ...opt('routerId', get(h, 'lvs_router_id')),
    ...opt('method', get(h, 'lvs_method')),
    ...opt('scheduler', get(h, 'lvs_scheduler')),
    ...opt('port', get(h, 'lvs_port')),
  });
  const rsGroups = new Set([
    'realservers',
    ...hosts
      .filter((h) => h.groups.includes('directors') || fromTasks.has(h.name))
      .map((h) => String(h.vars.lvs_realservers_group ?? 'realservers')),
    ...[...fromTasks.values()].flat().flatMap((t) => (t.rsGroup ? [t.rsGroup] : [])),
  ]);
  const rsOf = (h: HostInput): RealServerHost => ({
    host: h.name,
    groups: h.groups,
    ...opt('addr', get(h, 'lvs_service_address', 'ansible_host', 'ssh_host')),
    ...opt('port', get(h, 'lvs_rs_port')),
    ...opt('weight', get(h, 'lvs_weight')),
    ...opt('gateway', get(h, 'lvs_gateway')),
    ...opt('arpIgnore', get(h, 'lvs_arp_ignore')),
    ...opt('arpAnnounce', get(h, 'lvs_arp_announce')),
    ...opt('rpFilter', get(h, 'lvs_rp_filter')),
    ...rsFacts.get(h.name),
  });
  // A listed address is the inventory host serving on it, with what its variables and tasks set.
  const byAddr = new Map<string, HostInput>();
  for (const h of hosts) {
    const a = get(h, 'lvs_service_address', 'ansible_host');
    if (a && !byAddr.has(String(a.value))) byAddr.set(String(a.value), h);
  }
  const listed = (r: TaskReal): RealServerHost => {
    const h = r.addr ? byAddr.get(String(r.addr.value)) : undefined;
    if (!h) return { ...r, groups: [], external: true };
    const { port: _p, weight: _w, ...own } = rsOf(h);
    return { ...own, ...r, host: h.name };
  };
  const directorHosts = hosts.filter((h) => isDirector(h, rsGroups) || fromTasks.has(h.name));
  const directors: Director[] = directorHosts.flatMap((h) => {
    const base = byVars(h);
    const tasks = fromTasks.get(h.name);
    return tasks
      ? tasks.map(({ rsGroup, reals, vrrp, ...t }) => ({
          ...base,
          ...t,
          ...(rsGroup !== undefined ? { rsGroup } : {}),
          ...(reals?.length ? { reals: reals.map(listed) } : {}),
          vrrp: vrrp ?? true,
        }))
      : [base];
  });
  const realservers = new Map<string, RealServerHost[]>();
  for (const g of new Set(directors.map((d) => d.rsGroup))) {
    if (g && !realservers.has(g)) realservers.set(g, hosts.filter((h) => h.groups.includes(g)).map(rsOf));
  }
  return { directors, realservers };
}
