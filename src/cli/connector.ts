import { resolve } from 'node:path';
import type { Connector } from '../engine/connect-host.js';
import { connectSpec, type LoginEnv } from '../engine/connect.js';
import type { Inventory } from '../inventory/types.js';
import { loadSshConfig } from '../transport/ssh-config.js';
import { KnownHostsCache } from '../transport/known-hosts.js';
import { SshTransport } from '../transport/ssh.js';

export interface ConnectFlags {
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  /** The operator's environment (the login user, ssh-agent's socket). */
  env: LoginEnv;
}

/** How the CLI reaches a host: ssh2 with ~/.ssh/config, the inventory's connection variables and strict host keys. */
export function sshConnector(inv: Inventory, cwd: string, f: ConnectFlags): Connector {
  const sshCfg = loadSshConfig();
  const baseDir = inv.sources[0] ? resolve(inv.sources[0], '..') : cwd;
  const knownHosts = new KnownHostsCache();
  return (name, vars) =>
    SshTransport.connect(connectSpec(inv.hosts.get(name)!, vars, sshCfg, { ...f, baseDir }), knownHosts);
}
