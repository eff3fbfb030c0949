import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Host } from '../inventory/types.js';
import { expandHome, type SshConfigHost } from '../transport/ssh-config.js';
import type { BecomeSpec } from '../transport/become.js';
import { KEEPALIVE_INTERVAL_MS, type ConnectSpec } from '../transport/types.js';
import { ConfigError } from '../errors.js';
import {
  connVarError,
  connVarProblems,
  parseBool,
  parsePort,
  parseSeconds,
  proxyJumpOf,
  JUMP_PATTERN,
} from './connect-vars.js';

/** Ansible's connection variable names first, then lvsrun's short ones. */
const pick = (v: Record<string, unknown>, ...keys: string[]): unknown => {
  for (const k of keys) if (v[k] !== undefined && v[k] !== null && v[k] !== '') return v[k];
  return undefined;
};

/** What a login takes from the operator's environment, passed in by the CLI: the user name and ssh-agent. */
export interface LoginEnv {
  USER?: string;
  SSH_AUTH_SOCK?: string;
}

export function connectSpec(
  host: Host,
  vars: Record<string, unknown>,
  sshCfg: (alias: string) => SshConfigHost,
  opts: { acceptNewHostKeys: boolean; connectTimeoutMs: number; baseDir: string; env: LoginEnv },
): ConnectSpec {
  // The CLI checks these before any host is touched; this guards every other caller.
  const bad = connVarProblems(vars)[0];
  if (bad) throw connVarError({ host: host.name, ...bad });
  const cfg = sshCfg(host.name);
  const port = parsePort(pick(vars, 'ansible_port', 'ansible_ssh_port', 'ssh_port') ?? cfg.port ?? 22);
  if (port === undefined) {
    const got = JSON.stringify(cfg.port);
    throw new ConfigError(
      'E_CONFIG',
      `host ${host.name}: ssh_config Port must be a whole number from 1 to 65535, got ${got}`,
    );
  }
  const timeout = parseSeconds(pick(vars, 'ansible_timeout', 'ssh_timeout')) ?? opts.connectTimeoutMs / 1000;
  const key = pick(vars, 'ansible_ssh_private_key_file', 'ansible_private_key_file', 'ssh_key');
  const known = pick(vars, 'lvsrun_known_hosts', 'ssh_known_hosts');
  const knownFiles = known
    ? [resolve(opts.baseDir, expandHome(String(known)))]
    : (cfg.userKnownHostsFile ?? [`${homedir()}/.ssh/known_hosts`, '/etc/ssh/ssh_known_hosts']);
  const keys = key
    ? [resolve(opts.baseDir, expandHome(String(key)))]
    : cfg.identityFiles.length
      ? cfg.identityFiles
      : defaultKeys();
  // The inventory wins over ssh_config, as in Ansible (its ssh arguments come after the config file).
  const jumpSpec =
    pick(vars, 'lvsrun_proxy_jump') ??
    proxyJumpOf(pick(vars, 'ansible_ssh_common_args')) ??
    proxyJumpOf(pick(vars, 'ansible_ssh_extra_args')) ??
    cfg.proxyJump;
  const jump =
    jumpSpec !== undefined && jumpSpec !== 'none'
      ? jumpChain(String(jumpSpec), sshCfg, { ...opts, knownHostsFiles: knownFiles, keys })
      : undefined;
  return {
    name: host.name,
    host: String(pick(vars, 'ansible_host', 'ssh_host') ?? cfg.hostName ?? host.name),
    port,
    user: String(pick(vars, 'ansible_user', 'ansible_ssh_user', 'ssh_user') ?? cfg.user ?? opts.env.USER ?? 'root'),
    privateKeyFiles: keys,
    ...(pick(vars, 'ansible_password', 'ansible_ssh_pass') !== undefined
      ? { password: String(pick(vars, 'ansible_password', 'ansible_ssh_pass')) }
      : {}),
    knownHostsFiles: knownFiles,
    acceptNewHostKeys: opts.acceptNewHostKeys,
    connectTimeoutMs: timeout * 1000,
    keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
    ...agentOf(opts.env),
    ...(jump ? { proxyJump: jump } : {}),
    ...(pick(vars, 'lvsrun_persistent_shell') !== undefined
      ? { persistentShell: parseBool(pick(vars, 'lvsrun_persistent_shell')) !== false }
      : {}),
  };
}

export function becomeSpec(
  vars: Record<string, unknown>,
  playBecome: boolean,
  playUser: string,
  task?: { become?: boolean; becomeUser?: string },
): BecomeSpec {
  const enabled = task?.become ?? (playBecome || parseBool(pick(vars, 'ansible_become', 'become')) === true);
  const user = task?.becomeUser ?? String(pick(vars, 'ansible_become_user', 'become_user') ?? playUser);
  const pw = pick(vars, 'ansible_become_password', 'ansible_become_pass', 'become_password');
  return { enabled, user, ...(pw !== undefined ? { password: String(pw) } : {}) };
}

function defaultKeys(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => `${homedir()}/.ssh/${k}`);
}

/** ssh-agent's socket: lvsrun runs with the operator's environment, as ssh does. */
function agentOf(env: LoginEnv): { agent?: string } {
  const sock = env.SSH_AUTH_SOCK;
  return sock ? { agent: sock } : {};
}

interface JumpOpts {
  env: LoginEnv;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  knownHostsFiles: string[];
  keys: string[];
}

/**
 * `ProxyJump a,b`: connect to a, to b through a, then to the host through b. A hop's user, port
 * and keys come from the spec, then from ssh_config for its name; without keys of its own a hop
 * uses the host's (one operator key opens the bastion and the hosts behind it).
 */
function jumpChain(spec: string, sshCfg: (a: string) => SshConfigHost, o: JumpOpts): ConnectSpec | undefined {
  if (!new RegExp(JUMP_PATTERN).test(spec)) {
    throw new ConfigError('E_CONFIG', `ProxyJump ${JSON.stringify(spec.slice(0, 200))} is not [user@]host[:port],...`, {
      hint: 'write the bastion as [user@]host[:port]; several hops separated by commas, no spaces',
    });
  }
  let prev: ConnectSpec | undefined;
  for (const hop of spec.split(',')) {
    const m = /^(?:([^@]+)@)?(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(hop);
    const alias = m?.[2] ?? m?.[3] ?? hop;
    const cfg = sshCfg(alias);
    const port = parsePort(m?.[4] ?? cfg.port ?? 22);
    if (port === undefined) {
      throw new ConfigError('E_CONFIG', `ProxyJump ${JSON.stringify(hop)}: the port must be 1 to 65535`);
    }
    prev = {
      name: `jump:${alias}`,
      host: cfg.hostName ?? alias,
      port,
      user: m?.[1] ?? cfg.user ?? o.env.USER ?? 'root',
      privateKeyFiles: cfg.identityFiles.length ? cfg.identityFiles : o.keys,
      knownHostsFiles: o.knownHostsFiles,
      acceptNewHostKeys: o.acceptNewHostKeys,
      connectTimeoutMs: o.connectTimeoutMs,
      keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
      ...agentOf(o.env),
      ...(prev ? { proxyJump: prev } : {}),
    };
  }
  return prev;
}
