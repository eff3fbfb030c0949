import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadYamlFile, parseYamlText } from '../playbook/yaml-source.js';
import { loadIniInventory } from './load-ini.js';
import { loadYamlInventory } from './load-yaml.js';
import { loadVarsFor } from './vars-files.js';
import type { VaultKeyring } from '../vault/keyring.js';
import { openVaultText } from '../vault/reveal.js';
import { emptyRaw, type Group, type Host, type Inventory, type Origin, type RawInventory } from './types.js';
import { assignOwn } from '../data/own-record.js';

/** `-i prod`: a path as given, else inventories/prod.{yaml,yml,ini}, else the folder inventories/prod/. */
export function resolveInventoryPath(arg: string, cwd = process.cwd(), fallbacks: Record<string, string> = {}): string {
  const candidates = [arg, ...['.yaml', '.yml', '.ini', ''].map((e) => join('inventories', arg + e))];
  for (const c of candidates) {
    const p = resolve(cwd, c);
    if (existsSync(p)) return p;
  }
  const fb = fallbacks[arg];
  if (fb && existsSync(fb)) return fb;
  throw new ConfigError('E_INVENTORY', `inventory '${arg}' not found`, {
    hint: `looked for ${candidates.join(', ')}${fb ? ` and ${fb}` : ''}${arg === 'lab' ? '; start the lab with `lvsrun lab up`' : ''}`,
  });
}

/** `vault` decrypts encrypted inventory and vars files and `!vault` values. */
export function loadInventory(path: string, vault?: VaultKeyring): Inventory {
  const raw = emptyRaw();
  const sources: string[] = [];
  const varsDirs: string[] = [];
  if (statSync(path).isDirectory()) {
    for (const f of readdirSync(path).sort()) {
      const p = join(path, f);
      if (f === 'group_vars' || f === 'host_vars' || f.startsWith('.') || statSync(p).isDirectory()) continue;
      if (/\.(retry|md|txt|j2|hbs)$/.test(f) || f.endsWith('~')) continue;
      loadFile(p, raw, vault);
      sources.push(p);
    }
    varsDirs.push(path);
  } else {
    loadFile(path, raw, vault);
    sources.push(path);
    varsDirs.push(dirname(path));
  }
  return resolveInventory(raw, sources, varsDirs, vault);
}

function loadFile(p: string, raw: RawInventory, vault?: VaultKeyring): void {
  const { text, whole } = openVaultText(readFileSync(p, 'utf8'), p, vault);
  const ini = /\.ini$/.test(p) || (!/\.(ya?ml|json)$/.test(p) && /^\s*\[/m.test(text) && !/^\s*all\s*:/m.test(text));
  if (ini) {
    loadIniInventory(text, p, raw);
    if (whole && vault) markFileValues(raw, p, vault);
  } else loadYamlInventory(whole ? parseYamlText(text, p, vault) : loadYamlFile(p, vault), raw);
}

/** Every value an encrypted INI file set is a secret (YAML files are marked as they are parsed). */
function markFileValues(raw: RawInventory, file: string, vault: VaultKeyring): void {
  for (const scope of [...raw.groups.values(), ...raw.hostVars.values()]) {
    for (const [k, v] of Object.entries(scope.vars)) {
      const scalar = typeof v === 'string' || typeof v === 'number';
      if (scalar && scope.origins[k]?.file === file) vault.markSecret(String(v));
    }
  }
}

/** Apply Ansible's precedence: all < parent group < child group (by depth, priority, name) < host. */
export function resolveInventory(
  raw: RawInventory, sources: string[], varsDirs: string[], vault?: VaultKeyring,
): Inventory {
  refuseGroupCycles(raw);
  for (const dir of varsDirs) {
    for (const g of raw.groups.values()) mergeInto(g, loadVarsFor(join(dir, 'group_vars'), g.name, vault));
  }
  const all = raw.groups.get('all')!;
  // Every group not reachable as a child is a child of all; hosts in no group go to ungrouped.
  const isChild = new Set([...raw.groups.values()].flatMap((g) => g.children));
  for (const g of raw.groups.values()) if (g.name !== 'all' && !isChild.has(g.name) && !all.children.includes(g.name)) all.children.push(g.name);
  const grouped = new Set([...raw.groups.values()].filter((g) => g.name !== 'all').flatMap((g) => g.hosts));
  const ungrouped = raw.groups.get('ungrouped')!;
  for (const h of raw.hostOrder) if (!grouped.has(h)) ungrouped.hosts.push(h);
  const inUngrouped = new Set(ungrouped.hosts);
  for (const h of all.hosts) if (!inUngrouped.has(h)) ungrouped.hosts.push(h), inUngrouped.add(h);
  all.hosts = [];
  const directGroups = new Map<string, string[]>();
  for (const g of raw.groups.values()) {
    for (const h of g.hosts) directGroups.set(h, [...(directGroups.get(h) ?? []), g.name]);
  }

  const depth = groupDepths(raw.groups);
  const parents = parentMap(raw.groups);
  const hosts = new Map<string, Host>();
  for (const name of raw.hostOrder) {
    const direct = directGroups.get(name) ?? [];
    const groups = ancestors(direct, parents);
    const ordered = ['all', ...[...groups].filter((g) => g !== 'all').sort((a, b) => cmpGroup(raw.groups, depth, a, b))];
    const vars: Record<string, unknown> = {};
    const origins: Record<string, Origin> = {};
    for (const g of ordered) assignOwn(vars, raw.groups.get(g)!.vars), assignOwn(origins, raw.groups.get(g)!.origins);
    const hv = raw.hostVars.get(name)!;
    assignOwn(vars, hv.vars);
    assignOwn(origins, hv.origins);
    for (const dir of varsDirs) {
      const f = loadVarsFor(join(dir, 'host_vars'), name, vault);
      if (f) assignOwn(vars, f.vars), assignOwn(origins, f.origins);
    }
    hosts.set(name, { name, vars, origins, groups: ordered.filter((g) => g !== 'all') });
  }
  return { sources, hosts, groups: raw.groups };
}

/** Like Ansible, a group may not contain itself, directly or through its children. */
function refuseGroupCycles(raw: RawInventory): void {
  const state = new Map<string, 'open' | 'done'>();
  for (const start of raw.groups.keys()) {
    if (state.has(start)) continue;
    // Iterative depth-first walk: deep or wide group trees must not exhaust the call stack.
    const stack: Array<{ name: string; next: number }> = [{ name: start, next: 0 }];
    state.set(start, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const children = raw.groups.get(top.name)?.children ?? [];
      if (top.next >= children.length) { state.set(top.name, 'done'); stack.pop(); continue; }
      const child = children[top.next++]!;
      if (state.get(child) === 'open') {
        const loop = [...stack.slice(stack.findIndex((f) => f.name === child)).map((f) => f.name), child];
        const at = raw.childOrigins.get(`${top.name} ${child}`);
        const msg = loop.length === 2
          ? `group '${child}' is its own child: a recursive dependency loop`
          : `groups ${loop.map((g) => `'${g}'`).join(' -> ')} form a recursive dependency loop`;
        throw new ConfigError('E_INVENTORY', msg, {
          where: { file: at?.file, line: at?.line, field: `${top.name}.children.${child}` },
          hint: 'a group cannot contain itself, directly or through its children',
        });
      }
      if (!state.has(child)) { state.set(child, 'open'); stack.push({ name: child, next: 0 }); }
    }
  }
}

function mergeInto(g: Group, f: ReturnType<typeof loadVarsFor>): void {
  if (!f) return;
  assignOwn(g.vars, f.vars);
  assignOwn(g.origins, f.origins);
  if (typeof g.vars.ansible_group_priority === 'number') g.priority = g.vars.ansible_group_priority;
}

function parentMap(groups: Map<string, Group>): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const g of groups.values()) for (const c of g.children) m.set(c, [...(m.get(c) ?? []), g.name]);
  return m;
}

function ancestors(direct: string[], parents: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...direct];
  while (stack.length) {
    const g = stack.pop()!;
    if (seen.has(g)) continue;
    seen.add(g);
    stack.push(...(parents.get(g) ?? []));
  }
  return seen;
}

function groupDepths(groups: Map<string, Group>): Map<string, number> {
  const d = new Map<string, number>([['all', 0]]);
  const queue = ['all'];
  while (queue.length) {
    const g = queue.shift()!;
    for (const c of groups.get(g)?.children ?? []) {
      const nd = d.get(g)! + 1;
      if ((d.get(c) ?? -1) < nd) { d.set(c, nd); if (nd < 64) queue.push(c); }
    }
  }
  return d;
}

function cmpGroup(groups: Map<string, Group>, depth: Map<string, number>, a: string, b: string): number {
  return (depth.get(a) ?? 1) - (depth.get(b) ?? 1) || (groups.get(a)?.priority ?? 1) - (groups.get(b)?.priority ?? 1) || a.localeCompare(b);
}
