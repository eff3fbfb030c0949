import { resolve } from 'node:path';
import { formatFindings, validateInventory } from '../../lvs/validate.js';
import { loadPlaybook } from '../../playbook/load.js';
import { TemplateEngine } from '../../template/render.js';
import { ConfigError } from '../../errors.js';
import { EXIT } from '../../exit-codes.js';
import { loadConfig } from '../config.js';
import { parseExtraVars } from '../extra-vars.js';
import { vaultKeyring } from '../vault-options.js';
import type { Io } from '../io.js';
import { parseCommand } from '../spec.js';
import { VALIDATE_CMD } from '../command-defs.js';
import { loadInventoryArg, outputRedactor } from '../inputs.js';

/**
 * lvsrun validate [PLAYBOOK] -i INV: every rule of docs/lvs.md ("lvsrun validate") over the whole inventory;
 * exit 1 on errors.
 */
export async function validateCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(VALIDATE_CMD, argv);
  if (positionals.length > 1) throw new ConfigError('E_USAGE', `expected one playbook, got ${positionals.join(' ')}`);
  const vault = await vaultKeyring(v, io);
  const inv = loadInventoryArg(v.inventory, io, vault);
  const rolesPath = loadConfig(io.cwd, io.env).rolesPath;
  const extraVars = parseExtraVars(v['extra-vars'] ?? [], io.cwd, vault);
  const pb = positionals[0]
    ? loadPlaybook(resolve(io.cwd, positionals[0]), { rolesPath, vault, vars: extraVars })
    : undefined;
  const fs = validateInventory(inv, pb, new TemplateEngine(), extraVars);
  // Findings quote rendered values (a too-long auth_pass): secrets are masked as in a run's output.
  const red = outputRedactor(inv, pb, extraVars, vault, io.redactor);
  const errors = fs.filter((f) => f.severity === 'error').length;
  if (v.json) io.out(`${JSON.stringify(red.deep(fs), null, 2)}\n`);
  else {
    io.out(red.text(formatFindings(fs, { info: Boolean(v.verbose) })));
    io.out(
      `${errors} error(s), ${fs.filter((f) => f.severity === 'warn').length} warning(s)` +
        `${v.verbose ? '' : `, ${fs.filter((f) => f.severity === 'info').length} note(s) (-v shows them)`}\n`,
    );
  }
  return errors ? EXIT.BAD_INPUT : EXIT.OK;
}
