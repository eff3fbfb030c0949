import { chmodSync, existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { EXIT } from '../../exit-codes.js';
import type { Io } from '../io.js';
import { PACKAGE_ROOT } from '../../package-root.js';
import { SCAFFOLD, scaffoldText } from '../scaffold.js';
import { parseCommand } from '../spec.js';
import { INIT_CMD } from '../command-defs.js';

export async function initCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(INIT_CMD, argv);
  if (positionals.length > 1) {
    throw new ConfigError('E_USAGE', `init takes one folder, got ${positionals.length}`, { hint: 'lvsrun init [DIR]' });
  }
  const dir = resolve(io.cwd, positionals[0] ?? '.');
  if (existsSync(dir) && !lstatSync(dir).isDirectory()) {
    throw new ConfigError('E_USAGE', `${dir} exists and is not a folder`);
  }
  // Checked for every file before the first is written: a refusal leaves the folder as it was.
  const taken = SCAFFOLD.map((f) => join(dir, f.path)).filter((p) => exists(p));
  if (taken.length && !v.force) {
    throw new ConfigError('E_USAGE', `refusing to overwrite ${taken.length} existing file(s): ${taken.join(', ')}`, {
      hint: '--force replaces them',
    });
  }
  for (const f of SCAFFOLD) {
    const p = join(dir, f.path);
    mkdirSync(dirname(p), { recursive: true });
    // Replace, never write through: a symlink at p must not redirect the write (lvsrun often runs as root).
    if (exists(p)) {
      if (lstatSync(p).isDirectory()) throw new ConfigError('E_USAGE', `${p} is a folder; move it away first`);
      rmSync(p);
    }
    writeFileSync(p, scaffoldText(f, join(PACKAGE_ROOT, 'schemas')), { flag: 'wx', mode: f.mode });
    chmodSync(p, f.mode);
  }
  io.out(
    `${SCAFFOLD.map((f) => `created ${join(positionals[0] ?? '.', f.path)}`).join('\n')}\n\n` +
      `next: edit the inventory (README.md says what), then\n` +
      `  ${positionals[0] ? `cd ${positionals[0]} && ` : ''}lvsrun validate site.yaml -i inventories/example\n`,
  );
  return EXIT.OK;
}

/** True for a file or a symlink, dangling or not. */
function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
