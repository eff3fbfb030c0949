import { ConfigError } from '../errors.js';
import { selectHosts } from '../inventory/select.js';
import type { Inventory } from '../inventory/types.js';
import { lookupModule } from '../modules/registry.js';
import type { Playbook, Task } from '../playbook/types.js';
import { evalCondition, wholeWhen } from '../playbook/when.js';
import { delegateTarget } from '../playbook/delegate.js';
import { rootNames, type TemplateEngine } from '../template/render.js';
import { loopItems, parseTaskArgs, withItem } from './task-args.js';
import { hostVars, type InventoryMagic } from './vars.js';

export interface ArgProblem {
  host: string;
  task: Task;
  field: string;
  message: string;
  hint?: string;
}

/**
 * Every task's arguments for every host it targets, rendered with that host's variables and
 * checked by the module's schema before any host is touched: a value that only goes wrong for one
 * host (a bad port in its host_vars, an undefined variable) is found here instead of midway through
 * the run. What depends on the hosts (registered results, a `when` on them) is left to the run.
 */
export function preflightArgs(
  inv: Inventory,
  pb: Playbook,
  templates: TemplateEngine,
  extraVars: Record<string, unknown>,
  magic: InventoryMagic,
): ArgProblem[] {
  const registered = new Set(
    pb.plays.flatMap((p) => [...p.tasks, ...p.handlers].map((t) => t.register).filter((r): r is string => Boolean(r))),
  );
  // What a rescue sees of the failure exists only once a task has failed.
  for (const v of ['ansible_failed_task', 'ansible_failed_result']) registered.add(v);
  const out: ArgProblem[] = [];
  for (const play of pb.plays) {
    const hosts = selectHosts(inv, play.hosts, { unknown: () => undefined });
    for (const task of [...play.tasks, ...play.handlers]) {
      const mod = lookupModule(task.module);
      if (!mod) continue;
      for (const host of hosts) {
        const base = hostVars({ inv, host, play, playHosts: hosts, task, registered: {}, extraVars, magic });
        for (const vars of itemVars(task, base, templates)) {
          const problem = checkOne(task, vars, templates, registered, mod, (n) => inv.hosts.has(n));
          if (problem) {
            out.push({ host, task, ...problem });
            break;
          }
        }
      }
    }
  }
  return out;
}

/** The variables of each loop item (none when the loop needs the hosts), or the task's own. */
function itemVars(
  task: Task,
  vars: Record<string, unknown>,
  templates: TemplateEngine,
): Array<Record<string, unknown>> {
  try {
    return loopItems(task, vars, templates)?.map((item) => withItem(task, vars, item)) ?? [vars];
  } catch {
    return [];
  }
}

function checkOne(
  task: Task,
  vars: Record<string, unknown>,
  templates: TemplateEngine,
  registered: Set<string>,
  mod: NonNullable<ReturnType<typeof lookupModule>>,
  isHost: (name: string) => boolean,
): Omit<ArgProblem, 'host' | 'task'> | undefined {
  try {
    if (!evalCondition(wholeWhen(task), vars, { ...task.where, field: 'when' })) return undefined;
  } catch {
    /* decided on the host */
  }
  // A template that reads a registered result (`{{#if r.rc}}`, `{{s.stat.exists}}`) is only known during
  // the run: such a task is checked for the names it reads, so that a misspelt variable is still found.
  const refs = templateRefs(task);
  const isSet = (name: string): boolean => Object.hasOwn(vars, name);
  if (refs.some((r) => registered.has(r.name) && !isSet(r.name))) {
    const typo = refs.find((r) => !isSet(r.name) && !registered.has(r.name));
    if (!typo) return undefined;
    return {
      field: typo.field,
      message: `undefined variable '${typo.name}'`,
      hint: `define ${typo.name} in the inventory, the play's vars or with -e ${typo.name}=..., or register it first`,
    };
  }
  try {
    if (task.delegateTo !== undefined) {
      const where = { ...task.where, field: 'delegate_to' };
      delegateTarget(templates.renderValue(task.delegateTo, vars, where), isHost, where);
    }
    const r = parseTaskArgs(mod, task, vars, templates);
    if (r.ok) return undefined;
    const shown = r.value === undefined ? '' : ` (is ${JSON.stringify(r.value)})`;
    return { field: `${task.moduleKey}${r.path ? `.${r.path}` : ''}`, message: `${r.message}${shown}` };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // A variable a task registers exists only during the run.
    const name = /undefined variable '([A-Za-z_]\w*)/.exec(e.message)?.[1];
    if (name !== undefined && registered.has(name)) return undefined;
    return { field: e.where.field ?? task.moduleKey, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }
}

/** Each variable a task's arguments and delegate_to read at their top level, with the field reading it. */
function templateRefs(task: Task): Array<{ field: string; name: string }> {
  const out: Array<{ field: string; name: string }> = [];
  const walk = (v: unknown, field: string): void => {
    if (typeof v === 'string') for (const name of rootNames(v)) out.push({ field, name });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${field}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${field}.${k}`);
  };
  walk(task.args, task.moduleKey);
  if (task.delegateTo !== undefined) walk(task.delegateTo, 'delegate_to');
  return out;
}
