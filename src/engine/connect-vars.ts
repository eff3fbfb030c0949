import { ConfigError, type Where } from '../errors.js';
import { selectHosts } from '../inventory/select.js';
import type { Inventory, Origin } from '../inventory/types.js';
import type { Play, Playbook } from '../playbook/types.js';

/** A connection variable that cannot work, found before any host is touched. */
export interface ConnVarProblem {
  host: string;
  field: string;
  origin?: Origin;
  message: string;
  hint: string;
}

type Check = (v: unknown) => string | undefined;

const CONTROL = /[\u0000-\u001f\u007f]/;
const shown = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}...` : v);
  return v === null ? 'empty' : (JSON.stringify(v) ?? String(v));
};

/** A TCP port: a whole number 1-65535, written as a number or as digits. */
export function parsePort(v: unknown): number | undefined {
  const digits = typeof v === 'string' && /^\d{1,5}$/.test(v.trim());
  const n = typeof v === 'number' ? v : digits ? Number(v.trim()) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/** A positive number of seconds, written as a number or as a decimal. */
export function parseSeconds(v: unknown): number | undefined {
  const decimal = typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim());
  const n = typeof v === 'number' ? v : decimal ? Number(v.trim()) : NaN;
  return Number.isFinite(n) && n > 0 && n <= 86_400 ? n : undefined;
}

const port: Check = (v) => (parsePort(v) === undefined ? 'must be a whole number from 1 to 65535' : undefined);
const seconds: Check = (v) => (parseSeconds(v) === undefined ? 'must be a positive number of seconds' : undefined);
/** Ansible's booleans: true/false, yes/no, on/off, 1/0 (any case), as YAML or INI may write them. */
export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  return ['true', 'yes', 'on', '1'].includes(s) ? true : ['false', 'no', 'off', '0'].includes(s) ? false : undefined;
}

const bool: Check = (v) => (parseBool(v) === undefined ? 'must be true or false' : undefined);

/** A host name or address: one word, no control characters, quotes, braces or leading dash. */
const address: Check = (v) => {
  if (typeof v !== 'string' || v === '') return 'must be a host name or IP address';
  if (!/^[A-Za-z0-9_.:%-]+$/.test(v) || v.startsWith('-') || v.length > 255) {
    return 'must be a host name or IP address (letters, digits and . - _ : %; not templated)';
  }
  return undefined;
};

/** A login or become user name: one word, no control characters or leading dash. */
const userName: Check = (v) => {
  const s = typeof v === 'number' ? String(v) : v;
  if (typeof s !== 'string' || s === '') return 'must be a user name';
  if (CONTROL.test(s) || /[\s:'"\\]/.test(s) || s.startsWith('-') || s.length > 64) {
    return 'must be a user name (one word)';
  }
  return undefined;
};

/** A file path: a non-empty string without control characters. */
const path: Check = (v) => (typeof v !== 'string' || v === '' || CONTROL.test(v) ? 'must be a file path' : undefined);

/** A secret: text or a number; no NUL; a sudo password (on stdin, before the command's input) is one line. */
const secret =
  (line: boolean): Check =>
  (v) => {
    if (v === null || v === '') return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') return 'must be text';
    const s = String(v);
    if (s.includes('\0')) return 'must not contain a NUL byte';
    if (line && /[\r\n]/.test(s)) return 'must be one line (sudo reads the password up to the first line break)';
    return undefined;
  };

/** Words of an ssh argument string as a POSIX shell splits them (quotes and backslashes), never run. */
export function sshArgWords(s: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur = (cur ?? '') + s[++i];
      else cur = (cur ?? '') + c;
    } else if (c === '"' || c === "'") {
      q = c;
      cur = cur ?? '';
    } else if (c === '\\' && i + 1 < s.length) cur = (cur ?? '') + s[++i];
    else if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** The `-o Name=value`, `-oName=value`, `-o 'Name value'` (and `-J hops`) of ssh arguments; names in lower case. */
function sshOptions(v: string): Array<[string, string]> {
  const w = sshArgWords(v);
  const out: Array<[string, string]> = [];
  for (let i = 0; i < w.length; i++) {
    const word = w[i]!;
    if (word.startsWith('-J')) {
      out.push(['proxyjump', word === '-J' ? (w[++i] ?? '') : word.slice(2)]);
      continue;
    }
    if (!word.startsWith('-o')) continue;
    const opt = word === '-o' ? (w[++i] ?? '') : word.slice(2);
    const m = /^([A-Za-z]+)\s*(?:=\s*|\s+)?(.*)$/.exec(opt);
    if (m) out.push([m[1]!.toLowerCase(), m[2]!]);
  }
  return out;
}

/** The ProxyJump an `ansible_ssh_common_args`/`ansible_ssh_extra_args` value asks for (`-J` or `-o ProxyJump`). */
export function proxyJumpOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return sshOptions(v).find(([k]) => k === 'proxyjump')?.[1];
}

const HOP =
  '(?:[^-@\\s,\'"\\\\\\x00-\\x1f\\x7f][^@\\s,\'"\\\\\\x00-\\x1f\\x7f]*@)?' +
  '(?:\\[[0-9A-Fa-f:.%]+\\]|[A-Za-z0-9_.%][A-Za-z0-9_.%-]*)(?::[0-9]{1,5})?';
/** A ProxyJump: `[user@]host[:port]` hops separated by commas (no spaces), or `none`; the editor schemas use it too. */
export const JUMP_PATTERN = `^(?:none|${HOP}(?:,${HOP})*)$`;
const JUMP = new RegExp(JUMP_PATTERN);
/** The word no ssh argument string may hold (see sshArgs); the editor schemas use it too. */
export const PROXY_COMMAND_PATTERN = '[Pp][Rr][Oo][Xx][Yy][Cc][Oo][Mm][Mm][Aa][Nn][Dd]';

const jump: Check = (v) => {
  if (v === null) return undefined;
  return typeof v === 'string' && JUMP.test(v) ? undefined : 'must be [user@]host[:port], several separated by commas';
};

/**
 * Ansible's extra ssh arguments: lvsrun reads ProxyJump (`-J`, `-o ProxyJump=`) from them and
 * ignores the rest. A ProxyCommand cannot be honoured: refused rather than ignored, so a run never
 * goes around it.
 */
const sshArgs: Check = (v) => {
  if (v === null) return undefined;
  if (typeof v !== 'string') return 'must be text';
  if (CONTROL.test(v)) return 'must be one line';
  if (new RegExp(PROXY_COMMAND_PATTERN).test(v)) return 'has a ProxyCommand, which lvsrun does not run';
  return undefined;
};

/** What a connection variable holds; the editor schemas (src/schemas/) type these variables from it. */
export type ConnVarKind =
  'address' | 'port' | 'user' | 'path' | 'seconds' | 'secret' | 'secret-line' | 'bool' | 'jump' | 'ssh-args';

const KIND_CHECK: Record<ConnVarKind, Check> = {
  address,
  port,
  user: userName,
  path,
  seconds,
  secret: secret(false),
  'secret-line': secret(true),
  bool,
  jump,
  'ssh-args': sshArgs,
};

/** Every variable lvsrun reads to reach a host (see connect.ts), with what each must be. */
const CHECKS: Record<string, { kind: ConnVarKind; hint: string }> = {
  ...fields(['ansible_host', 'ssh_host'], 'address', 'write the address the host is reached at, e.g. 10.0.0.5'),
  ...fields(
    ['ansible_port', 'ansible_ssh_port', 'ssh_port'],
    'port',
    'write the sshd port, e.g. 22; remove the line for the default',
  ),
  ...fields(['ansible_user', 'ansible_ssh_user', 'ssh_user'], 'user', 'write the login user, e.g. root'),
  ...fields(
    ['ansible_ssh_private_key_file', 'ansible_private_key_file', 'ssh_key'],
    'path',
    'write the path of the private key',
  ),
  ...fields(['lvsrun_known_hosts', 'ssh_known_hosts'], 'path', 'write the path of a known_hosts file'),
  ...fields(['ansible_timeout', 'ssh_timeout'], 'seconds', 'write the connect timeout in seconds, e.g. 10'),
  ...fields(['ansible_password', 'ansible_ssh_pass'], 'secret', 'write the password as text'),
  ...fields(['ansible_become', 'become'], 'bool', 'write true or false'),
  ...fields(['ansible_become_user', 'become_user'], 'user', 'write the user to become, e.g. root'),
  ...fields(
    ['ansible_become_password', 'ansible_become_pass', 'become_password'],
    'secret-line',
    'write the password as one line of text',
  ),
  ...fields(['lvsrun_persistent_shell'], 'bool', 'write true or false'),
  ...fields(['lvsrun_proxy_jump'], 'jump', 'write the bastion as [user@]host[:port], e.g. ops@bastion.example:22'),
  ...fields(
    ['ansible_ssh_common_args', 'ansible_ssh_extra_args'],
    'ssh-args',
    'reach hosts through a bastion with -o ProxyJump=[user@]host[:port] (or lvsrun_proxy_jump)',
  ),
  ...fields(['lvsrun_lock_file'], 'path', 'write the path of the lock file on the host, e.g. /run/lvsrun.lock'),
};

function fields(names: string[], kind: ConnVarKind, hint: string): Record<string, { kind: ConnVarKind; hint: string }> {
  return Object.fromEntries(names.map((n) => [n, { kind, hint }]));
}

/** Each connection variable's name and kind. */
export function connectionVarKinds(): Record<string, ConnVarKind> {
  return Object.fromEntries(Object.entries(CHECKS).map(([n, c]) => [n, c.kind]));
}

/** The problems of one host's connection variables (as the run sees them: inventory < play vars < -e). */
export function connVarProblems(vars: Record<string, unknown>): Array<Omit<ConnVarProblem, 'host' | 'origin'>> {
  const out: Array<Omit<ConnVarProblem, 'host' | 'origin'>> = [];
  for (const [field, { kind, hint }] of Object.entries(CHECKS)) {
    if (!Object.hasOwn(vars, field) || vars[field] === undefined) continue;
    const v = vars[field];
    const why = KIND_CHECK[kind](v);
    // A password's value is never shown: it may come from a vault.
    const hidden = kind === 'secret' || kind === 'secret-line';
    if (why) out.push({ field, message: `${field} ${why}${hidden ? '' : `, got ${shown(v)}`}`, hint });
  }
  return out;
}

/** Where a variable the run sees for this host and play was set. */
function originOf(
  k: string,
  host: Record<string, Origin>,
  play: Play,
  pbFile: string,
  extraVars: Record<string, unknown>,
): Origin | undefined {
  if (Object.hasOwn(extraVars, k)) return { file: '-e (extra vars)' };
  if (Object.hasOwn(play.vars, k)) {
    return { file: play.where.file ?? pbFile, ...(play.where.line ? { line: play.where.line } : {}) };
  }
  return host[k];
}

/**
 * The connection variables of every host the playbook targets (within `limit`), checked before
 * any host is touched: a bad port or user is bad input (exit 1, file:line), not an unreachable host.
 */
export function checkConnectVars(
  inv: Inventory,
  pb: Playbook,
  extraVars: Record<string, unknown>,
  limit?: Set<string>,
): ConnVarProblem[] {
  const out: ConnVarProblem[] = [];
  const seen = new Set<string>();
  for (const play of pb.plays) {
    for (const name of selectHosts(inv, play.hosts, { unknown: () => undefined })) {
      if (limit && !limit.has(name)) continue;
      const h = inv.hosts.get(name);
      if (!h) continue;
      const vars = { ...h.vars, ...play.vars, ...extraVars };
      for (const p of connVarProblems(vars)) {
        const origin = originOf(p.field, h.origins, play, pb.file, extraVars);
        const key = `${name}\0${p.field}\0${origin?.file}:${origin?.line}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ host: name, ...p, ...(origin ? { origin } : {}) });
      }
    }
  }
  return out;
}

/** One ConfigError per problem, located at the variable's file:line. */
export function connVarError(p: ConnVarProblem): ConfigError {
  const at = p.origin ? { file: p.origin.file, ...(p.origin.line ? { line: p.origin.line } : {}) } : {};
  const where: Where = { field: p.field, ...at };
  return new ConfigError('E_INVENTORY', `host ${p.host}: ${p.message}`, { where, hint: p.hint });
}
