import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

/** The roles lvsrun ships (lvs_director, lvs_realserver), found after the playbook's and the configured ones. */
export const SHIPPED_ROLES = join(PACKAGE_ROOT, 'playbooks', 'roles');

/**
 * The folders a role named `name` is looked for in, in order, as Ansible's roles_path: roles/ next to
 * the playbook (and one folder up), then each configured path, then the shipped roles. A name with a
 * slash is a path relative to the playbook's folder and is looked for there only.
 */
export function roleCandidates(name: string, playbookDir: string, rolesPath: readonly string[]): string[] {
  if (name.includes('/')) return [resolve(playbookDir, name)];
  const dirs = [join(playbookDir, 'roles'), join(playbookDir, '..', 'roles'), ...rolesPath, SHIPPED_ROLES];
  return [...new Set(dirs.map((d) => join(d, name)))];
}

/** The first candidate that is a folder, or undefined. */
export function findRole(
  name: string,
  playbookDir: string,
  rolesPath: readonly string[],
): { found?: string; candidates: string[] } {
  const candidates = roleCandidates(name, playbookDir, rolesPath);
  const found = candidates.find((d) => existsSync(d) && statSync(d).isDirectory());
  return { ...(found ? { found } : {}), candidates };
}
