import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parseYamlText, readSource } from '../yaml/source.js';
import { loadIniInventory } from './load-ini.js';
import { loadYamlInventory } from './load-yaml.js';
import { loadVarsFor } from './vars-files.js';
import { emptyRaw, type Group, type Host, type Inventory, type Origin, type RawInventory } from './types.js';
import { assignOwn } from '../data/own-record.js';
import type { VaultKeyring } from '../vault/keyring.js';
import { openVaultText } from '../vault/reveal.js';

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
    hint:
      `looked for ${candidates.join(', ')}${fb ? ` and ${fb}` : ''}` +
      `${arg === 'lab' ? '; start the lab with `lvsrun lab up`' : ''}`,
  });
}

const YAML_EXTS = ['.yml', '.yaml', '.json'];

/** `vault` decrypts encrypted inventory and vars files and `!vault` values. */
export function loadInventory(path: string, vault?: VaultKeyring): Inventory {
  const raw = emptyRaw();
  const sources: string[] = [];
  const varsDirs: string[] = [];
  if (statSync(path).isDirectory()) {
    loadFolder(path, raw, sources, vault);
    varsDirs.push(path);
  } else {
    loadFile(path, raw, vault);
    sources.push(path);
    varsDirs.push(dirname(path));
  }
  return resolveInventory(raw, sources, varsDirs, vault);
}

/** File endings Ansible's inventory_ignore_extensions skips in an inventory folder (.ini among them). */
const FOLDER_SKIP = /(\.(pyc|pyo|swp|bak|rpm|md|txt|rst|orig|ini|cfg|retry)|~)$/;

/** Every inventory file of a folder and its subfolders, in name order, as Ansible reads a folder. */
function loadFolder(dir: string, raw: RawInventory, sources: string[], vault?: VaultKeyring, depth = 0): void {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (f.startsWith('.') || FOLDER_SKIP.test(f) || /\.(j2|hbs)$/.test(f)) continue;
    if (statSync(p).isDirectory()) {
      if (f !== 'group_vars' && f !== 'host_vars' && depth < 16) loadFolder(p, raw, sources, vault, depth + 1);
      continue;
    }
    loadFile(p, raw, vault);
    sources.push(p);
  }
}

/**
 * Like Ansible's inventory plugins: .yml/.yaml/.json files are YAML; a file without extension is YAML when
 * it holds a mapping, else INI; any other file is INI.
 */
function loadFile(p: string, raw: RawInventory, vault?: VaultKeyring): void {
  const ext = extname(p);
  const rawText = readSource(p);
  // YAML decrypts (and marks a whole encrypted file's values secret) as it parses; INI is decrypted here.
  const yaml = (): ReturnType<typeof parseYamlText> => parseYamlText(rawText, p, vault);
  if (YAML_EXTS.includes(ext)) {
    loadYamlInventory(yaml(), raw);
    return;
  }
  if (!ext) {
    let src: ReturnType<typeof parseYamlText> | undefined;
    try {
      src = yaml();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
    if (src && typeof src.data === 'object' && src.data !== null && !Array.isArray(src.data)) {
      loadYamlInventory(src, raw);
      return;
    }
  }
  const { text, whole } = openVaultText(rawText, p, vault);
  loadIniInventory(text, p, raw);
  if (whole && vault) markFileValues(raw, p, vault);
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

/**
 * Apply Ansible's precedence, lowest first: the inventory's vars of `all`, then of the host's other groups
 * (by depth, ansible_group_priority, name), then group_vars/ files in the same order, then the host's
 * inventory vars, then host_vars/ files.
 */
export function resolveInventory(
  raw: RawInventory,
  sources: string[],
  varsDirs: string[],
  vault?: VaultKeyring,
): Inventory {
  refuseGroupCycles(raw);
  for (const g of raw.groups.values()) takePriority(g);
  const fileVars = new Map<string, Array<NonNullable<ReturnType<typeof loadVarsFor>>>>();
  for (const g of raw.groups.values()) {
    const found = varsDirs
      .map((dir) => loadVarsFor(join(dir, 'group_vars'), g.name, vault))
      .filter((f) => f !== undefined);
    fileVars.set(g.name, found);
  }
  const all = raw.groups.get('all')!;
  // Every group not reachable as a child is a child of all.
  const isChild = new Set([...raw.groups.values()].flatMap((g) => g.children));
  for (const g of raw.groups.values()) {
    if (g.name !== 'all' && !isChild.has(g.name) && !all.children.includes(g.name)) all.children.push(g.name);
  }
  placeUngrouped(raw);
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
    const ordered = [
      'all',
      ...[...groups].filter((g) => g !== 'all').sort((a, b) => cmpGroup(raw.groups, depth, a, b)),
    ];
    const vars: Record<string, unknown> = {};
    const origins: Record<string, Origin> = {};
    const take = (layer: { vars: Record<string, unknown>; origins: Record<string, Origin> }): void => {
      assignOwn(vars, layer.vars);
      assignOwn(origins, layer.origins);
    };
    for (const g of ordered) take(raw.groups.get(g)!);
    for (const g of ordered) for (const f of fileVars.get(g) ?? []) take(f);
    take(raw.hostVars.get(name)!);
    for (const dir of varsDirs) {
      const f = loadVarsFor(join(dir, 'host_vars'), name, vault);
      if (f) take(f);
    }
    hosts.set(name, { name, vars, origins, groups: ordered.filter((g) => g !== 'all') });
  }
  // Each group's own vars, as `lvsrun inventory` and validation see them: inventory file, then group_vars/.
  for (const g of raw.groups.values()) for (const f of fileVars.get(g.name) ?? []) mergeInto(g, f);
  return { sources, hosts, groups: raw.groups, warnings: raw.warnings };
}

/**
 * Like Ansible: hosts that belong to no group but `all` (and `ungrouped`) are in `ungrouped`, keeping the
 * order the inventory listed them there; a host also listed in another group leaves it.
 */
function placeUngrouped(raw: RawInventory): void {
  const inOther = new Set<string>();
  for (const g of raw.groups.values()) {
    if (g.name !== 'all' && g.name !== 'ungrouped') for (const h of g.hosts) inOther.add(h);
  }
  const ungrouped = raw.groups.get('ungrouped')!;
  const kept = ungrouped.hosts.filter((h) => !inOther.has(h));
  const seen = new Set(kept);
  for (const h of raw.hostOrder)
    if (!inOther.has(h) && !seen.has(h)) {
      kept.push(h);
      seen.add(h);
    }
  ungrouped.hosts = kept;
}

/** `ansible_group_priority` set in the inventory file orders groups of equal depth; it is not a variable. */
function takePriority(g: Group): void {
  if (!Object.hasOwn(g.vars, 'ansible_group_priority')) return;
  const v = g.vars.ansible_group_priority;
  const n =
    typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new ConfigError('E_INVENTORY', `ansible_group_priority of group '${g.name}' must be a whole number`, {
      where: { ...g.origins.ansible_group_priority, field: `${g.name}.vars.ansible_group_priority` },
      hint: 'groups of equal depth with a higher priority win; the default is 1',
    });
  }
  g.priority = n;
  delete g.vars.ansible_group_priority;
  delete g.origins.ansible_group_priority;
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
      if (top.next >= children.length) {
        state.set(top.name, 'done');
        stack.pop();
        continue;
      }
      const child = children[top.next++]!;
      if (state.get(child) === 'open') {
        const loop = [...stack.slice(stack.findIndex((f) => f.name === child)).map((f) => f.name), child];
        const at = raw.childOrigins.get(`${top.name} ${child}`);
        const msg =
          loop.length === 2
            ? `group '${child}' is its own child: a recursive dependency loop`
            : `groups ${loop.map((g) => `'${g}'`).join(' -> ')} form a recursive dependency loop`;
        throw new ConfigError('E_INVENTORY', msg, {
          where: { file: at?.file, line: at?.line, field: `${top.name}.children.${child}` },
          hint: 'a group cannot contain itself, directly or through its children',
        });
      }
      if (!state.has(child)) {
        state.set(child, 'open');
        stack.push({ name: child, next: 0 });
      }
    }
  }
}

function mergeInto(g: Group, f: ReturnType<typeof loadVarsFor>): void {
  if (!f) return;
  assignOwn(g.vars, f.vars);
  assignOwn(g.origins, f.origins);
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
      if ((d.get(c) ?? -1) < nd) {
        d.set(c, nd);
        if (nd < 64) queue.push(c);
      }
    }
  }
  return d;
}

function cmpGroup(groups: Map<string, Group>, depth: Map<string, number>, a: string, b: string): number {
  return (
    (depth.get(a) ?? 1) - (depth.get(b) ?? 1) ||
    (groups.get(a)?.priority ?? 1) - (groups.get(b)?.priority ?? 1) ||
    byteOrder(a, b)
  );
}

/** Ansible compares group names as Python strings: by code point, not by locale. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
