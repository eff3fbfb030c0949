import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';

/** The templates lvsrun ships (templates/ of the installed package), searched after the playbook's own. */
export const SHIPPED_TEMPLATES = join(PACKAGE_ROOT, 'templates');

/**
 * Where a task's controller-side file (a template's or copy's `src`) is found: as given under each
 * base folder, then under each one's `templates/` or `files/`, then (templates only) among the
 * shipped templates, so an operator's file of the same name wins. The load-time check and the run
 * both look here, in this order, so they read the same file.
 */
export function findLocalFile(
  path: string,
  baseDirs: readonly string[],
  kind: 'templates' | 'files',
): { found?: string; candidates: string[] } {
  const shipped = kind === 'templates' ? [join(SHIPPED_TEMPLATES, path)] : [];
  const candidates = isAbsolute(path)
    ? [path]
    : [...baseDirs.map((d) => join(d, path)), ...baseDirs.map((d) => join(d, kind, path)), ...shipped];
  const found = candidates.find((c) => existsSync(c));
  return { ...(found ? { found } : {}), candidates: [...new Set(candidates)] };
}
