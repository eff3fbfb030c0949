import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Host } from '../inventory/types.js';
import { expandHome, type SshConfigHost } from '../transport/ssh-config.js';
import type { ConnectSpec } from '../transport/types.js';
import { ConfigError } from '../errors.js';
import { connVarProblems, parseBool, parsePort, parseSeconds } from './connect-vars.js';

/** Ansible's connection variable names first, then lvsrun's short ones. */
const pick = (v: Record<string, unknown>, ...keys: string[]): unknown => {
  for (const k of keys) if (v[k] !== undefined && v[k] !== null && v[k] !== '') return v[k];
  return undefined;
};

export interface BecomeSpec { enabled: boolean; user: string; password?: string }

export function connectSpec(host: Host, vars: Record<string, unknown>, sshCfg: (alias: string) => SshConfigHost, opts: { acceptNewHostKeys: boolean; connectTimeoutMs: number; baseDir: string }): ConnectSpec {
  // The CLI checks these before any host is touched; this guards every other caller.
  const bad = connVarProblems(vars)[0];
  if (bad) {
    throw new ConfigError('E_INVENTORY', `host ${host.name}: ${bad.message}`, { where: { field: bad.field }, hint: bad.hint });
  }
  const cfg = sshCfg(host.name);
  const port = parsePort(pick(vars, 'ansible_port', 'ansible_ssh_port', 'ssh_port') ?? cfg.port ?? 22);
  if (port === undefined) {
    const got = JSON.stringify(cfg.port);
    throw new ConfigError('E_CONFIG', `host ${host.name}: ssh_config Port must be a whole number from 1 to 65535, got ${got}`);
  }
  const timeout = parseSeconds(pick(vars, 'ansible_timeout', 'ssh_timeout')) ?? opts.connectTimeoutMs / 1000;
  const key = pick(vars, 'ansible_ssh_private_key_file', 'ansible_private_key_file', 'ssh_key');
  const known = pick(vars, 'lvsrun_known_hosts', 'ssh_known_hosts');
  const knownFiles = known ? [resolve(opts.baseDir, expandHome(String(known)))] : cfg.userKnownHostsFile ?? [`${homedir()}/.ssh/known_hosts`, '/etc/ssh/ssh_known_hosts'];
  const jump = cfg.proxyJump && cfg.proxyJump !== 'none' ? parseJump(cfg.proxyJump, sshCfg, knownFiles, opts) : undefined;
  return {
    name: host.name,
    host: String(pick(vars, 'ansible_host', 'ssh_host') ?? cfg.hostName ?? host.name),
    port,
    user: String(pick(vars, 'ansible_user', 'ansible_ssh_user', 'ssh_user') ?? cfg.user ?? process.env.USER ?? 'root'),
    privateKeyFiles: key ? [resolve(opts.baseDir, expandHome(String(key)))] : cfg.identityFiles.length ? cfg.identityFiles : defaultKeys(),
    ...(pick(vars, 'ansible_password', 'ansible_ssh_pass') !== undefined ? { password: String(pick(vars, 'ansible_password', 'ansible_ssh_pass')) } : {}),
    knownHostsFiles: knownFiles,
    acceptNewHostKeys: opts.acceptNewHostKeys,
    connectTimeoutMs: timeout * 1000,
    keepaliveIntervalMs: 15000,
    ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
    ...(jump ? { proxyJump: jump } : {}),
    ...(pick(vars, 'lvsrun_persistent_shell') !== undefined
      ? { persistentShell: parseBool(pick(vars, 'lvsrun_persistent_shell')) !== false } : {}),
  };
}

export function becomeSpec(vars: Record<string, unknown>, playBecome: boolean, playUser: string, task?: { become?: boolean; becomeUser?: string }): BecomeSpec {
  const enabled = task?.become ?? (playBecome || parseBool(pick(vars, 'ansible_become', 'become')) === true);
  const user = task?.becomeUser ?? String(pick(vars, 'ansible_become_user', 'become_user') ?? playUser);
  const pw = pick(vars, 'ansible_become_password', 'ansible_become_pass', 'become_password');
  return { enabled, user, ...(pw !== undefined ? { password: String(pw) } : {}) };
}

function defaultKeys(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => `${homedir()}/.ssh/${k}`);
}

function parseJump(spec: string, sshCfg: (a: string) => SshConfigHost, knownHostsFiles: string[], opts: { acceptNewHostKeys: boolean; connectTimeoutMs: number }): ConnectSpec {
  const first = spec.split(',')[0]!;
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(first);
  const alias = m?.[2] ?? first;
  const cfg = sshCfg(alias);
  return {
    name: `jump:${alias}`, host: cfg.hostName ?? alias, port: Number(m?.[3] ?? cfg.port ?? 22), user: m?.[1] ?? cfg.user ?? process.env.USER ?? 'root',
    privateKeyFiles: cfg.identityFiles.length ? cfg.identityFiles : defaultKeys(), knownHostsFiles, acceptNewHostKeys: opts.acceptNewHostKeys,
    connectTimeoutMs: opts.connectTimeoutMs, keepaliveIntervalMs: 15000, ...(process.env.SSH_AUTH_SOCK ? { agent: process.env.SSH_AUTH_SOCK } : {}),
  };
}
