import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatFindings, validateInventory } from '../../lvs/validate.js';
import { loadPlaybook } from '../../playbook/load.js';
import { TemplateEngine } from '../../template/render.js';
import { EXIT } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import type { Io } from '../main.js';
import { loadInventoryArg } from './run.js';

/** lvsrun validate [PLAYBOOK] -i INV: every rule of docs/validate.md over the whole inventory; exit 1 on errors. */
export async function validateCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
    inventory: { type: 'string', short: 'i' }, 'extra-vars': { type: 'string', short: 'e', multiple: true }, json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' },
  } });
  const inv = loadInventoryArg(v.inventory, io);
  const pb = positionals[0] ? loadPlaybook(resolve(io.cwd, positionals[0])) : undefined;
  const fs = validateInventory(inv, pb, new TemplateEngine(), parseExtraVars(v['extra-vars'] ?? [], io.cwd));
  const errors = fs.filter((f) => f.severity === 'error').length;
  if (v.json) io.out(`${JSON.stringify(fs, null, 2)}\n`);
  else {
    io.out(formatFindings(fs, { info: Boolean(v.verbose) }));
    io.out(`${errors} error(s), ${fs.filter((f) => f.severity === 'warn').length} warning(s)${v.verbose ? '' : `, ${fs.filter((f) => f.severity === 'info').length} note(s) (-v shows them)`}\n`);
  }
  return errors ? EXIT.BAD_INPUT : EXIT.OK;
}
