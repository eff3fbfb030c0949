import { ConfigError } from '../errors.js';
import { setOwn } from '../data/own-record.js';

export interface Origin {
  file: string;
  line?: number;
}

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
  /** What Ansible would warn about and skip (an unknown key in a YAML group). */
  warnings?: string[];
}

/** What the loaders produce before precedence is applied. */
export interface RawInventory {
  groups: Map<string, Group>;
  /** The hosts of each group as a set, so that adding a host stays linear in big inventories. */
  members: Map<string, Set<string>>;
  /** Where `parent` declared `child` (key `parent child`), to name the place of a cycle. */
  childOrigins: Map<string, Origin>;
  hostVars: Map<string, { vars: Record<string, unknown>; origins: Record<string, Origin> }>;
  hostOrder: string[];
  warnings: string[];
}

export function emptyRaw(): RawInventory {
  const raw: RawInventory = {
    groups: new Map(),
    members: new Map(),
    childOrigins: new Map(),
    hostVars: new Map(),
    hostOrder: [],
    warnings: [],
  };
  // Like Ansible, `ungrouped` is the first child of `all`.
  addChildGroup(raw, ensureGroup(raw, 'all'), ensureGroup(raw, 'ungrouped').name, { file: '' });
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

export function addHostToGroup(raw: RawInventory, g: Group, host: string): void {
  let set = raw.members.get(g.name);
  if (!set) raw.members.set(g.name, (set = new Set(g.hosts)));
  if (set.has(host)) return;
  set.add(host);
  g.hosts.push(host);
}

export function addChildGroup(raw: RawInventory, g: Group, child: string, origin: Origin): void {
  const key = `${g.name} ${child}`;
  if (raw.childOrigins.has(key)) return;
  g.children.push(child);
  raw.childOrigins.set(key, origin);
}

/** An inventory may name at most this many hosts, so that a typo cannot exhaust memory. */
export const MAX_INVENTORY_HOSTS = 100_000;

/** Refuse before adding `count` more hosts when the inventory would grow past its limit. */
export function reserveHosts(raw: RawInventory, count: number, where: { file: string; line?: number }): void {
  if (raw.hostOrder.length + count <= MAX_INVENTORY_HOSTS) return;
  throw new ConfigError('E_INVENTORY', `the inventory would name more than ${MAX_INVENTORY_HOSTS} hosts`, {
    where,
    hint: 'check host ranges such as web[0:9999]; split the fleet into several inventories',
  });
}

export function ensureHost(
  raw: RawInventory,
  name: string,
): { vars: Record<string, unknown>; origins: Record<string, Origin> } {
  let h = raw.hostVars.get(name);
  if (!h) {
    h = { vars: {}, origins: {} };
    raw.hostVars.set(name, h);
    raw.hostOrder.push(name);
  }
  return h;
}

export function addVars(
  target: { vars: Record<string, unknown>; origins: Record<string, Origin> },
  vars: Record<string, unknown>,
  origin: (key: string) => Origin,
): void {
  for (const [k, v] of Object.entries(vars)) {
    setOwn(target.vars, k, v);
    setOwn(target.origins, k, origin(k));
  }
}
