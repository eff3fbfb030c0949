import { ConfigError } from '../errors.js';
import { loadInventory, resolveInventoryPath } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { labInventoryPath, labOpInventoryPath } from '../lab/paths.js';
import type { Playbook } from '../playbook/types.js';
import { Redactor } from '../text/redact.js';
import { TemplateEngine } from '../template/render.js';
import type { VaultKeyring } from '../vault/keyring.js';
import type { Io } from './io.js';

/** The inventory named by -i, loaded with its warnings written to the terminal (every command that reads one). */
export function loadInventoryArg(arg: string | undefined, io: Io, vault?: VaultKeyring) {
  if (!arg)
    throw new ConfigError('E_USAGE', 'no inventory given', {
      hint: 'pass -i INVENTORY (e.g. -i lab after `lvsrun lab up`)',
    });
  const labs = { lab: labInventoryPath(io.env), 'lab-op': labOpInventoryPath(io.env) };
  const inv = loadInventory(resolveInventoryPath(arg, io.cwd, labs), vault);
  for (const w of inv.warnings ?? []) io.err(`warning: ${w}\n`);
  return inv;
}

/**
 * What output must hide: every value decrypted from a vault or tagged `!secret`, and every value of a
 * secret-named variable (at any depth) in the inventory, role defaults and vars, play vars and
 * vars_files, and -e, rendered for each host. Added to `red` (the command's live redactor) when given.
 */
export function outputRedactor(
  inv: Inventory,
  pb: Playbook | undefined,
  extraVars: Record<string, unknown>,
  vault: VaultKeyring,
  red = new Redactor(),
): Redactor {
  red.add(vault.revealed());
  const roleVars = new Set<Record<string, unknown>>();
  for (const p of pb?.plays ?? []) {
    for (const t of [...p.tasks, ...p.handlers]) {
      for (const rv of [t.roleDefaults, t.roleVars]) if (rv) roleVars.add(rv);
    }
  }
  const templates = new TemplateEngine();
  const plays = pb?.plays.length ? pb.plays.map((p) => p.vars) : [{}];
  // Spread, not Object.assign: a `__proto__` key from YAML stays a plain own property.
  const roles = [...roleVars].reduce<Record<string, unknown>>((all, rv) => ({ ...all, ...rv }), {});
  for (const h of inv.hosts.values()) {
    for (const playVars of plays) {
      const vars = { ...roles, ...h.vars, ...playVars, ...extraVars, inventory_hostname: h.name };
      red.addVars(vars, [], (s) => templates.renderValue(s, vars));
    }
  }
  for (const vars of [...plays, ...roleVars, extraVars]) red.addVars(vars);
  return red;
}
