/**
 * The real servers of an inventory group as a director's task sees them: each host's
 * `ansible_host` (or its name), `lvs_rs_port` and `lvs_weight`. Shared by the ipvs and keepalived
 * modules so both read one group the same way.
 */
export interface GroupReal { host: string; addr: string; port?: number; weight: number }

export function groupReals(vars: Record<string, unknown>, group: string): GroupReal[] {
  const groups = (vars.groups ?? {}) as Record<string, string[]>;
  const hostvars = (vars.hostvars ?? {}) as Record<string, Record<string, unknown>>;
  return (groups[group] ?? []).map((h) => {
    const hv = hostvars[h] ?? {};
    return { host: h, addr: String(hv.ansible_host ?? h), weight: Number(hv.lvs_weight ?? 1),
      ...(hv.lvs_rs_port !== undefined ? { port: Number(hv.lvs_rs_port) } : {}) };
  });
}
