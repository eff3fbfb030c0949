import { groupReals } from './group-reals.js';

/**
 * The render context of keepalived.conf, from the keepalived module's validated arguments: real
 * servers from inventory groups are expanded, and each real server carries its health check
 * (its own, or the virtual server's with connect_port defaulting to the real server's port).
 * Pure: unit-tested without a host.
 */
export interface Check {
  type: string;
  connect_port?: number;
  url: Array<{ path: string; status_code?: number; digest?: string }>;
  [k: string]: unknown;
}
export interface RealIn {
  address: string;
  port?: number;
  weight: number;
  check?: Check;
}
export interface VirtualIn {
  vip?: string;
  port?: number;
  fwmark?: number;
  check: Check;
  real_servers: RealIn[];
  reals_from?: { group: string };
  [k: string]: unknown;
}
export interface InstanceIn {
  unicast_peer: string[];
  unicast_peer_group?: string;
  unicast_src_ip?: string;
  [k: string]: unknown;
}
export interface ConfIn {
  virtual_servers: VirtualIn[];
  vrrp_instances: InstanceIn[];
  global_defs?: Record<string, unknown>;
  [k: string]: unknown;
}

export function keepalivedContext<A extends ConfIn>(a: A, vars: Record<string, unknown>): Record<string, unknown> {
  const virtual_servers = a.virtual_servers.map(({ reals_from, check, ...vs }) => {
    const fromGroup: RealIn[] = reals_from
      ? groupReals(vars, reals_from.group).map((r) => ({
          address: r.addr,
          weight: r.weight,
          ...(r.port !== undefined ? { port: r.port } : {}),
        }))
      : [];
    const real_servers = [...vs.real_servers, ...fromGroup].map((r) => {
      const port = vs.fwmark !== undefined ? undefined : (r.port ?? vs.port);
      const c = r.check ?? check;
      // MISC_CHECK runs a script and has no port; the others probe the real server's port by default.
      const connect_port = c.type === 'MISC_CHECK' ? undefined : (c.connect_port ?? port);
      return {
        ...r,
        ...(port !== undefined ? { port } : {}),
        check: { ...c, ...(connect_port !== undefined ? { connect_port } : {}) },
      };
    });
    return { ...vs, real_servers };
  });
  const vrrp_instances = a.vrrp_instances.map((i) => ({ ...i, ...unicastFromGroup(i, vars) }));
  return { ...a, virtual_servers, vrrp_instances, global_settings: globalSettings(a.global_defs ?? {}) };
}

/** Keys written as `key true|false` rather than as a bare keyword. */
const BOOL_VALUE = new Set(['vrrp_lower_prio_no_advert', 'vrrp_higher_prio_send_advert']);

/**
 * global_defs as `key [value]` lines, in the schema's order (the schema has typed every value):
 * a flag set to true is a bare keyword, false or unset leaves it out. notification_email is a block
 * of its own in the template.
 */
export function globalSettings(g: Record<string, unknown>): Array<{ key: string; value?: string }> {
  return Object.entries(g).flatMap(([key, v]) => {
    if (v === undefined || v === null || key === 'notification_email') return [];
    if (BOOL_VALUE.has(key) && typeof v === 'boolean') return [{ key, value: String(v) }];
    if (v === false) return [];
    return [v === true ? { key } : { key, value: String(v) }];
  });
}

/** unicast_peer_group: the group's other hosts as peers, this host's address as the source. */
export function unicastFromGroup(
  i: InstanceIn,
  vars: Record<string, unknown>,
): Pick<InstanceIn, 'unicast_peer' | 'unicast_src_ip'> {
  if (!i.unicast_peer_group)
    return { unicast_peer: i.unicast_peer, ...(i.unicast_src_ip ? { unicast_src_ip: i.unicast_src_ip } : {}) };
  const me = String(vars.inventory_hostname ?? '');
  const members = groupReals(vars, i.unicast_peer_group);
  const own = members.find((m) => m.host === me)?.addr;
  const others = members.filter((m) => m.host !== me).map((m) => m.addr);
  const src = i.unicast_src_ip ?? own;
  return { unicast_peer: [...new Set([...i.unicast_peer, ...others])], ...(src ? { unicast_src_ip: src } : {}) };
}

/** keepalived's auth_pass never reaches a diff or a report, whether it came from a variable or not. */
export function hideAuthPass(text: string): string {
  return text.replace(/^(\s*auth_pass\s+)\S+/gm, '$1********');
}
