import { ConfigError } from '../errors.js';
import { expandRange } from './host-range.js';
import {
  addChildGroup, addHostToGroup, addVars, ensureGroup, ensureHost, reserveHosts, type RawInventory,
} from './types.js';
import { setOwn } from '../data/own-record.js';

/** Ansible's INI inventory: [group], [group:vars], [group:children], host lines with key=value. */
export function loadIniInventory(text: string, file: string, raw: RawInventory): void {
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.replace(/^\s+|\s+$/g, '');
    const lineNo = i + 1;
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (sec) {
      section = sec[1]!;
      kind = (sec[2] as 'vars' | 'children' | undefined) ?? 'hosts';
      ensureGroup(raw, section);
      return;
    }
    if (line.startsWith('[')) {
      throw new ConfigError('E_INVENTORY', `bad section header '${line}'`, { where: { file, line: lineNo }, hint: 'use [group], [group:vars] or [group:children]' });
    }
    const origin = () => ({ file, line: lineNo });
    if (kind === 'vars') {
      const m = /^([A-Za-z_][\w]*)\s*=\s*(.*)$/.exec(line);
      if (!m) throw new ConfigError('E_INVENTORY', `expected key=value in [${section}:vars]`, { where: { file, line: lineNo } });
      addVars(ensureGroup(raw, section), { [m[1]!]: iniValue(m[2]!) }, origin);
      return;
    }
    if (kind === 'children') {
      const g = ensureGroup(raw, section);
      ensureGroup(raw, line);
      addChildGroup(raw, g, line, origin());
      return;
    }
    const words = splitWords(line, file, lineNo);
    const pattern = words.shift()!;
    const vars: Record<string, unknown> = {};
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq <= 0) throw new ConfigError('E_INVENTORY', `expected key=value after the host name, got '${w}'`, { where: { file, line: lineNo }, hint: 'host lines look like: web1 ansible_host=10.0.0.5 ansible_port=22' });
      setOwn(vars, w.slice(0, eq), iniValue(w.slice(eq + 1)));
    }
    const g = ensureGroup(raw, section);
    const names = expandRange(pattern, file, lineNo);
    reserveHosts(raw, names.length, origin());
    for (const h of names) {
      addVars(ensureHost(raw, h), vars, origin);
      addHostToGroup(raw, g, h);
    }
  });
}

function splitWords(line: string, file: string, lineNo: number): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | null = null;
  for (const ch of line) {
    if (q) { if (ch === q) q = null; else cur += ch; continue; }
    if (ch === '"' || ch === "'") { q = ch; continue; }
    if (ch === '#' && cur === '') break;
    if (/\s/.test(ch)) { if (cur) out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (q) throw new ConfigError('E_INVENTORY', 'unterminated quote', { where: { file, line: lineNo } });
  if (cur) out.push(cur);
  return out;
}

/** Values in INI host lines: numbers and booleans become typed, like Ansible's literal_eval. */
function iniValue(v: string): unknown {
  const s = v.trim().replace(/^(["'])(.*)\1$/, '$2');
  if (/^-?\d+$/.test(s) && s.length < 16) return Number(s);
  if (/^(true|True|yes)$/.test(s)) return true;
  if (/^(false|False|no)$/.test(s)) return false;
  return s;
}
