import { ConfigError } from '../../errors.js';
import type { Inventory } from '../../inventory/types.js';
import { setOwn } from '../../data/own-record.js';
import { EXIT } from '../../exit-codes.js';
import type { Io } from '../io.js';
import { noArgs, parseCommand } from '../spec.js';
import { INVENTORY_CMD } from '../command-defs.js';
import { vaultKeyring } from '../vault-options.js';
import { loadInventoryArg, outputRedactor } from '../inputs.js';

/** `lvsrun inventory --list` prints the JSON shape of `ansible-inventory --list`. */
export async function inventoryCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(INVENTORY_CMD, argv);
  noArgs(INVENTORY_CMD, positionals);
  const vault = await vaultKeyring(v, io);
  const inv = loadInventoryArg(v.inventory, io, vault);
  const red = outputRedactor(inv, undefined, {}, vault, io.redactor);
  if (v.host) {
    const h = inv.hosts.get(v.host);
    if (!h) throw new ConfigError('E_INVENTORY', `no host '${v.host}' in the inventory`);
    io.out(`${JSON.stringify(red.deep(h.vars), null, 2)}\n`);
  } else if (v.graph) io.out(graph(inv, 'all', 0).join('\n') + '\n');
  else io.out(`${JSON.stringify(red.deep(listShape(inv)), null, 2)}\n`);
  return EXIT.OK;
}

/** Like ansible-inventory, hosts without variables and groups without hosts or children are left out. */
export function listShape(inv: Inventory): Record<string, unknown> {
  const hostvars: Record<string, unknown> = {};
  for (const h of inv.hosts.values()) if (Object.keys(h.vars).length) setOwn(hostvars, h.name, h.vars);
  const out: Record<string, unknown> = { _meta: { hostvars } };
  for (const g of inv.groups.values()) {
    const entry: Record<string, unknown> = {};
    if (g.children.length) entry.children = g.children;
    if (g.hosts.length && g.name !== 'all') entry.hosts = g.hosts;
    if (Object.keys(entry).length) setOwn(out, g.name, entry);
  }
  return out;
}

function graph(inv: Inventory, name: string, depth: number): string[] {
  const g = inv.groups.get(name);
  if (!g) return [];
  const pad = '  |'.repeat(depth);
  const lines = [`${pad}${depth ? '--' : ''}@${name}:`];
  for (const c of g.children) lines.push(...graph(inv, c, depth + 1));
  if (name !== 'all') for (const h of g.hosts) lines.push(`${'  |'.repeat(depth + 1)}--${h}`);
  return lines;
}
