import { join } from 'node:path';

/** Where the running lab keeps its state: keys, known_hosts, the generated inventory. */
export function labDir(env: NodeJS.ProcessEnv): string {
  return env.LVSRUN_LAB_DIR ?? '/run/lvsrun-lab';
}

export function labInventoryPath(env: NodeJS.ProcessEnv): string {
  return join(labDir(env), 'inventory.yaml');
}
