import { selectHosts } from '../inventory/select.js';
import type { Inventory, Origin } from '../inventory/types.js';
import type { Playbook } from '../playbook/types.js';
import type { TemplateEngine } from '../template/render.js';
import { preflightArgs, type ArgProblem } from '../engine/preflight.js';
import { inventoryMagic, hostVars } from '../engine/vars.js';
import { buildModel, type HostInput } from './model.js';
import { validateModel, type Finding } from './rules.js';
import { directorsFromTasks } from './task-directors.js';
import { realServerFacts } from './task-reals.js';

/**
 * Validate the whole inventory as the playbook will see it: each host's inventory variables,
 * overridden by the vars of the plays that target it, rendered (a value that cannot be rendered
 * yet, e.g. one that needs a registered result, is checked as written). What the playbook's
 * keepalived, ipvs, vip, route, ifcfg and sysctl tasks would configure on a host is what is checked
 * for it (task-directors.ts, task-reals.ts); the variables fill in what no task says.
 */
export function validateInventory(
  inv: Inventory,
  pb: Playbook | undefined,
  templates: TemplateEngine,
  extraVars: Record<string, unknown> = {},
): Finding[] {
  const magic = inventoryMagic(inv);
  // Each play's hosts once, not once per host of the inventory.
  const targeted = (pb?.plays ?? []).map((play) => ({
    play,
    hosts: new Set(selectHosts(inv, play.hosts, { unknown: () => undefined })),
  }));
  const hosts: HostInput[] = [...inv.hosts.values()].map((h) => {
    let vars: Record<string, unknown> = { ...h.vars, ...extraVars };
    const origins: Record<string, Origin> = { ...h.origins };
    for (const { play, hosts: on } of targeted) {
      if (!on.has(h.name)) continue;
      vars = hostVars({ inv, host: h.name, play, playHosts: [], registered: {}, extraVars, magic });
      for (const k of Object.keys(play.vars))
        origins[k] = { file: play.where.file ?? pb!.file, ...(play.where.line ? { line: play.where.line } : {}) };
    }
    // -e beats the inventory and play vars: a value it gives was set there, not on an inventory line.
    for (const k of Object.keys(extraVars)) origins[k] = EXTRA_VARS;
    const rendered: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(vars)) {
      if (!k.startsWith('lvs_') && !k.startsWith('keepalived_') && k !== 'ansible_host') {
        rendered[k] = v;
        continue;
      }
      try {
        rendered[k] = templates.renderValue(v, vars, { field: k });
      } catch {
        rendered[k] = v;
      }
    }
    return { name: h.name, groups: h.groups, vars: rendered, origins };
  });
  const byName = new Map(hosts.map((h) => [h.name, h.origins]));
  const origins = (h: string): Record<string, Origin> => byName.get(h) ?? {};
  const lvs = validateModel(
    buildModel(
      hosts,
      directorsFromTasks(inv, pb, templates, extraVars, magic, origins),
      realServerFacts(inv, pb, templates, extraVars, magic, origins),
    ),
  );
  return [...(pb ? taskArgFindings(preflightArgs(inv, pb, templates, extraVars, magic)) : []), ...lvs];
}

/** One finding per task, field and message, naming the hosts it concerns. */
function taskArgFindings(problems: ArgProblem[]): Finding[] {
  const groups = new Map<string, ArgProblem[]>();
  for (const p of problems) {
    const k = `${p.task.where.file}:${p.task.where.line}|${p.field}|${p.message}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  return [...groups.values()].map((ps) => {
    const p = ps[0]!;
    const names = ps.map((x) => x.host);
    return {
      rule: 'task-args',
      severity: 'error',
      host: names.length > 3 ? `${names.slice(0, 3).join(', ')} (+${names.length - 3} more)` : names.join(', '),
      variable: p.field,
      ...(p.task.where.file
        ? { origin: { file: p.task.where.file, ...(p.task.where.line ? { line: p.task.where.line } : {}) } }
        : {}),
      message: `task '${p.task.name}': ${p.message}`,
      hint:
        p.hint ??
        "the arguments are rendered with each host's variables; fix the variable for these hosts, or the task",
    };
  });
}

/** Where a value given with -e was set. */
export const EXTRA_VARS: Origin = { file: '-e' };

const ORDER = { error: 0, warn: 1, info: 2 } as const;

export function formatFindings(fs: Finding[], opts: { info?: boolean } = {}): string {
  return [...fs]
    .filter((f) => opts.info || f.severity !== 'info')
    .sort((a, b) => ORDER[a.severity] - ORDER[b.severity] || a.host.localeCompare(b.host))
    .map(
      (f) =>
        `${f.severity}[${f.rule}] ${f.host}${f.variable ? ` ${f.variable}` : ''}` +
        `${f.origin ? ` (${f.origin.file}${f.origin.line ? `:${f.origin.line}` : ''})` : ''}` +
        `: ${f.message}${f.hint ? `\n  hint: ${f.hint}` : ''}\n`,
    )
    .join('');
}
