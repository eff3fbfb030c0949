import { ConfigError } from '../errors.js';
import { expandRange } from './host-range.js';
import { splitHostPort } from './host-address.js';
import { iniLiteral } from './python-literal.js';
import {
  addChildGroup,
  addHostToGroup,
  addVars,
  ensureGroup,
  ensureHost,
  reserveHosts,
  type RawInventory,
} from './types.js';
import { setOwn } from '../data/own-record.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  line: number;
  state: 'vars' | 'children';
  parents: string[];
}

/**
 * Ansible's INI inventory: [group], [group:vars], [group:children], host lines with key=value. Like Ansible,
 * a group named under :children or given :vars must have its own section somewhere in the file.
 */
export function loadIniInventory(text: string, file: string, raw: RawInventory): void {
  let section = 'ungrouped';
  let kind = 'hosts';
  const pending = new Map<string, Pending>();
  const addPendingChildren = (group: string): void => {
    const p = pending.get(group)!;
    pending.delete(group);
    for (const parent of p.parents) {
      addChildGroup(raw, ensureGroup(raw, parent), group, { file, line: p.line });
      if (pending.get(parent)?.state === 'children') addPendingChildren(parent);
    }
  };
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    const lineNo = i + 1;
    const where = { file, line: lineNo };
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const sec = SECTION.exec(line);
    if (sec) {
      section = sec[1]!;
      kind = sec[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        throw new ConfigError('E_INVENTORY', `section [${section}:${kind}] has unknown type '${kind}'`, {
          where,
          hint: 'use [group], [group:vars] or [group:children]',
        });
      }
      if (!raw.groups.has(section)) {
        if (kind === 'vars' && !pending.has(section)) {
          pending.set(section, { line: lineNo, state: 'vars', parents: [] });
        }
        ensureGroup(raw, section);
      }
      const p = pending.get(section);
      if (p && kind !== 'vars') {
        if (p.state === 'children') addPendingChildren(section);
        else pending.delete(section);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      throw new ConfigError('E_INVENTORY', `bad section header '${clip(line)}'`, {
        where,
        hint: 'use [group], [group:vars] or [group:children], with no space inside the brackets',
      });
    }
    const origin = () => where;
    if (kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        throw new ConfigError('E_INVENTORY', `expected key=value in [${section}:vars], got '${clip(line)}'`, { where });
      }
      const key = line.slice(0, eq).trim();
      addVars(ensureGroup(raw, section), { [key]: iniLiteral(line.slice(eq + 1).trim()) }, origin);
      return;
    }
    if (kind === 'children') {
      const child = GROUP_NAME.exec(line)?.[1];
      if (!child) {
        const msg = `expected a group name in [${section}:children], got '${clip(line)}'`;
        throw new ConfigError('E_INVENTORY', msg, { where });
      }
      if (raw.groups.has(child)) {
        addChildGroup(raw, ensureGroup(raw, section), child, where);
        return;
      }
      const p = pending.get(child);
      if (p) p.parents.push(section);
      else pending.set(child, { line: lineNo, state: 'children', parents: [section] });
      return;
    }
    hostLine(raw, section, line, where);
  });
  for (const [name, p] of pending) {
    const msg =
      p.state === 'vars'
        ? `section [${name}:vars] is for group '${name}', which has no [${name}] or [${name}:children] section`
        : `section [${p.parents.at(-1)}:children] names group '${name}', which is not defined`;
    throw new ConfigError('E_INVENTORY', msg, {
      where: { file, line: p.line },
      hint: `add a [${name}] section (it may be empty) or fix the name`,
    });
  }
}

function hostLine(raw: RawInventory, section: string, line: string, where: { file: string; line: number }): void {
  const words = shellWords(line, where);
  if (!words.length) return;
  const pattern = words.shift()!;
  const vars: Record<string, unknown> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      throw new ConfigError('E_INVENTORY', `expected key=value after the host name, got '${clip(w)}'`, {
        where,
        hint: 'host lines look like: web1 ansible_host=10.0.0.5 ansible_port=22',
      });
    }
    setOwn(vars, w.slice(0, eq), iniLiteral(w.slice(eq + 1)));
  }
  if (pattern.trim().endsWith(':') || pattern.trim() === '---') {
    throw new ConfigError('E_INVENTORY', `bad host pattern '${clip(pattern)}'`, {
      where,
      hint:
        pattern.trim() === '---'
          ? 'this looks like a YAML file: name it .yml'
          : 'a trailing colon is for a port: host:2222',
    });
  }
  const { name, port } = splitHostPort(pattern);
  const g = ensureGroup(raw, section);
  const names = expandRange(name, where.file, where.line);
  reserveHosts(raw, names.length, where);
  for (const h of names) {
    const host = ensureHost(raw, h);
    if (port !== undefined) addVars(host, { ansible_port: port }, () => where);
    addVars(host, vars, () => where);
    addHostToGroup(raw, g, h);
  }
}

/** Python's shlex.split(line, comments=True): quotes, backslash escapes, and `#` ending the line. */
function shellWords(line: string, where: { file: string; line: number }): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (q === "'") {
      if (ch === q) q = null;
      else cur += ch;
      continue;
    }
    if (q === '"') {
      if (ch === '"') q = null;
      else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      q = ch;
      inWord = true;
      continue;
    }
    if (ch === '\\') {
      if (i + 1 < line.length) cur += line[++i];
      inWord = true;
      continue;
    }
    if (ch === '#') break;
    if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (q) throw new ConfigError('E_INVENTORY', 'unterminated quote', { where });
  if (inWord) out.push(cur);
  return out;
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
