import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { loadYamlFile } from '../yaml/source.js';
import type { VaultKeyring } from '../vault/keyring.js';
import type { Origin } from './types.js';
import { setOwn } from '../data/own-record.js';

// Ansible's order: a file or folder without extension first, then .yml, .yaml, .json; the first found wins.
const EXTS = ['', '.yml', '.yaml', '.json'];

/** Vars for one name from group_vars/NAME or host_vars/NAME: a file (any of EXTS) or a folder of files. */
export function loadVarsFor(
  dir: string,
  name: string,
  vault?: VaultKeyring,
): { vars: Record<string, unknown>; origins: Record<string, Origin> } | undefined {
  const found: string[] = [];
  for (const ext of EXTS) {
    const p = join(dir, name + ext);
    if (!existsSync(p)) continue;
    if (statSync(p).isDirectory()) collectDir(p, found);
    else found.push(p);
    break;
  }
  if (!found.length) return undefined;
  const vars: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  for (const f of found) {
    const src = loadYamlFile(f, vault);
    if (src.data === null || src.data === undefined) continue;
    if (typeof src.data !== 'object' || Array.isArray(src.data)) {
      throw new ConfigError('E_INVENTORY', 'a vars file must be a mapping of variable names to values', {
        where: { file: f, line: 1 },
      });
    }
    for (const [k, v] of Object.entries(src.data as Record<string, unknown>)) {
      setOwn(vars, k, v);
      setOwn(origins, k, { file: f, line: src.pos([k])?.line });
    }
  }
  return { vars, origins };
}

/** A vars folder, read recursively in name order; hidden files, backups (~) and other extensions are skipped. */
function collectDir(dir: string, found: string[]): void {
  for (const f of readdirSync(dir).sort()) {
    if (f.startsWith('.') || f.endsWith('~')) continue;
    const p = join(dir, f);
    const ext = extname(f);
    if (statSync(p).isDirectory()) {
      if (!ext) collectDir(p, found);
    } else if (!ext || EXTS.includes(ext)) found.push(p);
  }
}
