import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import SSHConfig from 'ssh-config';

/** The subset of ~/.ssh/config that lvsrun honours. Only this file imports ssh-config. */
export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  userKnownHostsFile?: string[];
}

export function expandHome(p: string): string {
  return p.startsWith('~/') ? `${homedir()}${p.slice(1)}` : p;
}

export function loadSshConfig(file = `${homedir()}/.ssh/config`): (alias: string) => SshConfigHost {
  if (!existsSync(file)) return () => ({ identityFiles: [] });
  const cfg = SSHConfig.parse(readFileSync(file, 'utf8'));
  return (alias) => {
    const c = cfg.compute(alias) as Record<string, string | string[] | undefined>;
    const one = (k: string): string | undefined => {
      const v = c[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const many = (k: string): string[] => {
      const v = c[k];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    };
    const port = one('Port');
    const ukh = one('UserKnownHostsFile');
    return {
      hostName: one('HostName'),
      user: one('User'),
      port: port ? Number(port) : undefined,
      identityFiles: many('IdentityFile').map(expandHome),
      proxyJump: one('ProxyJump'),
      userKnownHostsFile: ukh ? ukh.split(/\s+/).map(expandHome) : undefined,
    };
  };
}
