import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * Where a task's controller-side file (a template's or copy's `src`) is found: as given under each
 * base folder, then under each one's `templates/` or `files/`. The load-time check and the run
 * both look here, in this order, so they read the same file.
 */
export function findLocalFile(path: string, baseDirs: readonly string[], kind: 'templates' | 'files'): { found?: string; candidates: string[] } {
  const candidates = isAbsolute(path) ? [path] : [...baseDirs.map((d) => join(d, path)), ...baseDirs.map((d) => join(d, kind, path))];
  const found = candidates.find((c) => existsSync(c));
  return { ...(found ? { found } : {}), candidates: [...new Set(candidates)] };
}
