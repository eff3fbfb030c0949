import type { ModuleBase } from '../modules/types.js';
import type { Task } from '../playbook/types.js';
import { bindData, type TemplateEngine } from '../template/render.js';
import { moduleArgs, type ArgsResult } from './module-run.js';

/**
 * A task's arguments for one host: rendered with its variables, then checked by the module's
 * schema. Used by the run (per task, per host) and by the pre-run check of every host. A template
 * error (an undefined variable) is thrown as the ConfigError it is.
 */
export function parseTaskArgs(
  mod: ModuleBase<unknown>,
  task: Task,
  vars: Record<string, unknown>,
  templates: TemplateEngine,
): ArgsResult {
  const rendered = templates.renderValue(task.args, vars, { ...task.where, field: task.moduleKey });
  return moduleArgs(mod, rendered, vars);
}

/**
 * A task's loop items (a single value is one item), or undefined for a task without `loop`. An
 * item is the output of a render, often what a host printed: it is bound as data (`withItem`).
 */
export function loopItems(task: Task, vars: Record<string, unknown>, templates: TemplateEngine): unknown[] | undefined {
  if (task.loop === undefined) return undefined;
  const l = templates.renderValue(task.loop, vars, { ...task.where, field: 'loop' });
  return Array.isArray(l) ? (l as unknown[]) : [l];
}

/** The variables of one loop item: the item is data, so `{{` inside it is never rendered. */
export function withItem(task: Task, vars: Record<string, unknown>, item: unknown): Record<string, unknown> {
  return bindData(vars, { [task.loopVar]: item });
}
