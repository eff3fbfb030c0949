import { join } from 'node:path';

/** Where the running lab keeps its state: keys, known_hosts, the generated inventory. */
export function labDir(env: NodeJS.ProcessEnv): string {
  return env.LVSRUN_LAB_DIR ?? '/run/lvsrun-lab';
}

export function labInventoryPath(env: NodeJS.ProcessEnv): string {
  return join(labDir(env), 'inventory.yaml');
}

/** The second generated inventory (`-i lab-op`): the login user, through the bastion, with become. */
export function labOpInventoryPath(env: NodeJS.ProcessEnv): string {
  return join(labDir(env), 'inventory-op');
}

/** The vault password of the second inventory's `group_vars/all.yml` (the sudo password). */
export function labVaultPasswordPath(env: NodeJS.ProcessEnv): string {
  return join(labDir(env), 'vault-password');
}

/** The lab user's sudo password in clear, readable by root only (for tests that look for leaks). */
export function labOpPasswordPath(env: NodeJS.ProcessEnv): string {
  return join(labDir(env), 'op-password');
}
