export interface Origin { file: string; line?: number }

export interface Host {
  name: string;
  /** Merged variables with Ansible's precedence (all < parent group < child group < host). */
  vars: Record<string, unknown>;
  /** Where each variable of `vars` was set (the winning definition). */
  origins: Record<string, Origin>;
  /** Every group the host is in, including ancestors, excluding `all`. */
  groups: string[];
}

export interface Group {
  name: string;
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
  origins: Record<string, Origin>;
  priority?: number;
}

export interface Inventory {
  sources: string[];
  hosts: Map<string, Host>;
  groups: Map<string, Group>;
}

/** What the loaders produce before precedence is applied. */
export interface RawInventory {
  groups: Map<string, Group>;
  hostVars: Map<string, { vars: Record<string, unknown>; origins: Record<string, Origin> }>;
  hostOrder: string[];
}

export function emptyRaw(): RawInventory {
  const raw: RawInventory = { groups: new Map(), hostVars: new Map(), hostOrder: [] };
  ensureGroup(raw, 'all');
  ensureGroup(raw, 'ungrouped');
  return raw;
}

export function ensureGroup(raw: RawInventory, name: string): Group {
  let g = raw.groups.get(name);
  if (!g) {
    g = { name, hosts: [], children: [], vars: {}, origins: {} };
    raw.groups.set(name, g);
  }
  return g;
}

export function ensureHost(raw: RawInventory, name: string): { vars: Record<string, unknown>; origins: Record<string, Origin> } {
  let h = raw.hostVars.get(name);
  if (!h) {
    h = { vars: {}, origins: {} };
    raw.hostVars.set(name, h);
    raw.hostOrder.push(name);
  }
  return h;
}

export function addVars(target: { vars: Record<string, unknown>; origins: Record<string, Origin> }, vars: Record<string, unknown>, origin: (key: string) => Origin): void {
  for (const [k, v] of Object.entries(vars)) {
    target.vars[k] = v;
    target.origins[k] = origin(k);
  }
}
