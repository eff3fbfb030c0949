import { ConfigError } from '../errors.js';
import type { YamlSource, Path } from '../yaml/source.js';
import { splitHostPort } from './host-address.js';
import { expandRange } from './host-range.js';
import {
  addChildGroup,
  addHostToGroup,
  addVars,
  ensureGroup,
  ensureHost,
  reserveHosts,
  type RawInventory,
} from './types.js';

const GROUP_KEYS = new Set(['hosts', 'children', 'vars']);

/** Ansible's YAML inventory: all/children/hosts/vars, nested to any depth. */
export function loadYamlInventory(src: YamlSource, raw: RawInventory): void {
  const data = src.data;
  if (data === null || data === undefined) return;
  if (!isObj(data)) throw bad(src, [], 'an inventory must be a mapping of groups (usually `all:`)');
  for (const [name, body] of Object.entries(data)) walkGroup(src, raw, name, body, [name]);
}

function walkGroup(src: YamlSource, raw: RawInventory, name: string, body: unknown, path: Path): void {
  const g = ensureGroup(raw, name);
  if (body === null || body === undefined) return;
  if (!isObj(body)) throw bad(src, path, `group '${name}' must be a mapping with hosts, children or vars`);
  for (const key of Object.keys(body)) {
    // Like Ansible, an unknown key is skipped with a warning rather than refusing the inventory.
    if (!GROUP_KEYS.has(key)) {
      const line = src.pos([...path, key])?.line;
      raw.warnings.push(
        `${src.file}${line ? `:${line}` : ''}: skipping unknown key '${key}' in group '${name}' ` +
          '(a group holds only hosts:, children: and vars:; put variables under vars:)',
      );
    }
  }
  const origin = (p: Path) => (k: string) => ({ file: src.file, line: src.pos([...p, k])?.line });
  if (body.vars !== undefined && body.vars !== null) {
    if (!isObj(body.vars)) throw bad(src, [...path, 'vars'], 'vars must be a mapping');
    addVars(g, body.vars, origin([...path, 'vars']));
  }
  if (body.hosts !== undefined && body.hosts !== null) {
    if (!isObj(body.hosts))
      throw bad(
        src,
        [...path, 'hosts'],
        'hosts must be a mapping of host names',
        'write `hosts: {web1: {}}` or one host per line ending with a colon',
      );
    for (const [pattern, hv] of Object.entries(body.hosts)) {
      if (hv !== null && hv !== undefined && !isObj(hv))
        throw bad(src, [...path, 'hosts', pattern], `variables of host '${pattern}' must be a mapping`);
      const line = src.pos([...path, 'hosts', pattern])?.line;
      const { name: hostName, port } = splitHostPort(pattern);
      const names = expandRange(hostName, src.file, line);
      reserveHosts(raw, names.length, { file: src.file, line });
      for (const h of names) {
        const host = ensureHost(raw, h);
        addHostToGroup(raw, g, h);
        if (port !== undefined) addVars(host, { ansible_port: port }, () => ({ file: src.file, line }));
        if (isObj(hv)) addVars(host, hv, origin([...path, 'hosts', pattern]));
      }
    }
  }
  if (body.children !== undefined && body.children !== null) {
    if (!isObj(body.children)) throw bad(src, [...path, 'children'], 'children must be a mapping of group names');
    for (const [child, cb] of Object.entries(body.children)) {
      addChildGroup(raw, g, child, { file: src.file, line: src.pos([...path, 'children', child])?.line });
      walkGroup(src, raw, child, cb, [...path, 'children', child]);
    }
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(src: YamlSource, path: Path, msg: string, hint?: string): ConfigError {
  const p = src.pos(path);
  return new ConfigError('E_INVENTORY', msg, {
    where: { file: src.file, line: p?.line, col: p?.col, field: path.join('.') },
    hint,
  });
}
