import { parseArgs } from 'node:util';
import { ConfigError } from '../../errors.js';
import type { Inventory } from '../../inventory/types.js';
import { Redactor } from '../../report/redact.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { loadInventoryArg } from './run.js';

/** `lvsrun inventory --list` prints the JSON shape of `ansible-inventory --list`. */
export async function inventoryCommand(argv: string[], io: Io): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: { inventory: { type: 'string', short: 'i' }, list: { type: 'boolean' }, graph: { type: 'boolean' }, host: { type: 'string' } }, strict: true });
  const inv = loadInventoryArg(v.inventory, io);
  const red = Redactor.fromVars([...inv.hosts.values()].map((h) => h.vars));
  if (v.host) {
    const h = inv.hosts.get(v.host);
    if (!h) throw new ConfigError('E_INVENTORY', `no host '${v.host}' in the inventory`);
    io.out(`${JSON.stringify(red.deep(h.vars), null, 2)}\n`);
  } else if (v.graph) io.out(graph(inv, 'all', 0).join('\n') + '\n');
  else io.out(`${JSON.stringify(red.deep(listShape(inv)), null, 2)}\n`);
  return EXIT.OK;
}

export function listShape(inv: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = { _meta: { hostvars: Object.fromEntries([...inv.hosts.values()].map((h) => [h.name, h.vars])) } };
  for (const g of inv.groups.values()) {
    const entry: Record<string, unknown> = {};
    if (g.children.length) entry.children = g.children;
    if (g.hosts.length) entry.hosts = g.hosts;
    if (g.name === 'ungrouped' && !g.hosts.length) continue;
    out[g.name] = entry;
  }
  return out;
}

function graph(inv: Inventory, name: string, depth: number): string[] {
  const g = inv.groups.get(name);
  if (!g) return [];
  const pad = '  |'.repeat(depth);
  const lines = [`${pad}${depth ? '--' : ''}@${name}:`];
  for (const c of g.children) lines.push(...graph(inv, c, depth + 1));
  for (const h of g.hosts) lines.push(`${'  |'.repeat(depth + 1)}--${h}`);
  return lines;
}
