import { assertModule, debug } from './assert.js';
import { command, shell } from './command.js';
import { copy } from './copy.js';
import { file } from './file.js';
import { ifcfg } from './ifcfg.js';
import { ipvs } from './ipvs.js';
import { iptables } from './iptables.js';
import { keepalived } from './keepalived.js';
import { lineinfile } from './lineinfile.js';
import { lvsMember } from './lvs-member.js';
import { pkg } from './package.js';
import { route } from './route.js';
import { service } from './service.js';
import { stat } from './stat.js';
import { sysctl } from './sysctl.js';
import { template } from './template.js';
import { vip } from './vip.js';
import { waitFor } from './wait-for.js';
import type { AnyTaskModule } from './types.js';

const list: AnyTaskModule[] = [
  command,
  shell,
  copy,
  template,
  file,
  lineinfile,
  sysctl,
  pkg,
  service,
  stat,
  waitFor,
  assertModule,
  debug,
  ipvs,
  vip,
  ifcfg,
  route,
  iptables,
  keepalived,
  lvsMember,
];

/** Module names as written in playbooks, with Ansible's aliases. */
export const MODULES: ReadonlyMap<string, AnyTaskModule> = new Map([
  ...list.map((m) => [m.name, m] as const),
  ['apt', pkg],
  ['dnf', pkg],
  ['yum', pkg],
  ['systemd', service],
]);

/** Collection prefixes a module key may carry (`ansible.builtin.copy`). */
export const MODULE_PREFIXES = ['ansible.builtin.', 'ansible.posix.', 'lvsrun.'] as const;

export function lookupModule(key: string): AnyTaskModule | undefined {
  const bare = MODULE_PREFIXES.reduce<string>((k, p) => (k.startsWith(p) ? k.slice(p.length) : k), key);
  return MODULES.get(bare);
}

export function moduleNames(): string[] {
  return [...MODULES.keys()];
}
