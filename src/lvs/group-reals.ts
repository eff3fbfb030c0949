import { ConfigError } from '../errors.js';
import { isIpAddress } from './addr.js';

/**
 * The real servers of an inventory group as a director's task sees them: each host's service
 * address (`lvs_service_address`, else `ansible_host`, else its name), `lvs_rs_port` and
 * `lvs_weight`. Shared by the ipvs and keepalived modules so both read one group the same way.
 */
export interface GroupReal {
  host: string;
  addr: string;
  port?: number;
  weight: number;
}

/**
 * The address IPVS and keepalived use for a host: its `lvs_service_address` where it is managed
 * over another network (SSH on a management network, traffic on the service one), else `ansible_host`.
 */
export function serviceAddress(hv: Record<string, unknown>): unknown {
  return hv.lvs_service_address ?? hv.ansible_host;
}

/** The variable serviceAddress read, for messages. */
const addressVar = (hv: Record<string, unknown>): string =>
  hv.lvs_service_address !== undefined ? 'lvs_service_address' : 'ansible_host';

function members(vars: Record<string, unknown>, group: string): GroupReal[] {
  const groups = (vars.groups ?? {}) as Record<string, string[]>;
  const hostvars = (vars.hostvars ?? {}) as Record<string, Record<string, unknown>>;
  const names = Object.hasOwn(groups, group) && Array.isArray(groups[group]) ? groups[group] : [];
  return names.map((h) => {
    const hv = (Object.hasOwn(hostvars, h) ? hostvars[h] : undefined) ?? {};
    return {
      host: h,
      addr: String(serviceAddress(hv) ?? h),
      weight: Number(hv.lvs_weight ?? 1),
      ...(hv.lvs_rs_port !== undefined ? { port: Number(hv.lvs_rs_port) } : {}),
    };
  });
}

/**
 * Why the group cannot be used, or undefined. Its addresses are written into keepalived.conf and
 * ipvsadm rules: each must be an IP address (a host name or a hostile ansible_host is refused).
 */
export function groupRealsProblem(vars: Record<string, unknown>, group: string): string | undefined {
  const groups = (vars.groups ?? {}) as Record<string, unknown>;
  if (!Object.hasOwn(groups, group)) return `group ${JSON.stringify(group.slice(0, 80))} is not in the inventory`;
  const bad = members(vars, group).find((m) => !isIpAddress(m.addr));
  if (!bad) return undefined;
  const hostvars = (vars.hostvars ?? {}) as Record<string, Record<string, unknown>>;
  const which = addressVar((Object.hasOwn(hostvars, bad.host) ? hostvars[bad.host] : undefined) ?? {});
  return (
    `host ${bad.host} of group '${group}' has ${which} ${JSON.stringify(bad.addr.slice(0, 80))}: ` +
    'an IP address is needed (it is written into keepalived.conf and ipvsadm rules)'
  );
}

/** The group's members; throws a ConfigError when one has no IP address (see groupRealsProblem). */
export function groupReals(vars: Record<string, unknown>, group: string): GroupReal[] {
  const problem = groupRealsProblem(vars, group);
  if (problem)
    throw new ConfigError('E_MODULE_ARGS', problem, {
      hint: "set lvs_service_address (or ansible_host) to the host's IP address",
    });
  return members(vars, group);
}
