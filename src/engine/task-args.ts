import type { TaskModule } from '../modules/types.js';
import type { Task } from '../playbook/types.js';
import { bindData, type TemplateEngine } from '../template/render.js';

/** `value`: what the failing field rendered to (a variable's value is what the user must fix). */
export type ArgsResult = { ok: true; data: unknown } | { ok: false; path: string; message: string; value?: unknown };

/**
 * A task's arguments for one host: rendered with its variables, then checked by the module's
 * schema. Used by the run (per task, per host) and by the pre-run check of every host. A template
 * error (an undefined variable) is thrown as the ConfigError it is.
 */
export function parseTaskArgs(
  mod: TaskModule,
  task: Task,
  vars: Record<string, unknown>,
  templates: TemplateEngine,
): ArgsResult {
  const rendered = templates.renderValue(task.args, vars, { ...task.where, field: task.moduleKey });
  const nul = findNul(rendered, []);
  if (nul)
    return { ok: false, path: nul.join('.'), message: 'contains a NUL byte, which no command or config file can hold' };
  const parsed = mod.schema.safeParse(rendered);
  if (parsed.success) {
    const problem = mod.vet?.(parsed.data, vars);
    return problem ? { ok: false, ...problem } : { ok: true, data: parsed.data };
  }
  const i = parsed.error.issues[0]!;
  const value = i.path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined),
    rendered,
  );
  return { ok: false, path: i.path.join('.'), message: i.message, ...(value !== undefined ? { value } : {}) };
}

/** Arguments that are data, not command text: they travel on stdin and may hold any byte. */
const DATA_ARGS = new Set(['content', 'stdin']);

/**
 * The path of the first string (value or key) holding a NUL byte: a command line or config file
 * cannot carry one (C strings end there). Top-level `content` and `stdin` are data sent on stdin: exempt.
 */
function findNul(v: unknown, path: Array<string | number>): Array<string | number> | undefined {
  if (typeof v === 'string') return v.includes('\0') ? path : undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = findNul(v[i], [...path, i]);
      if (p) return p;
    }
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (!path.length && DATA_ARGS.has(k)) continue;
      const p = k.includes('\0') ? [...path, k] : findNul(x, [...path, k]);
      if (p) return p;
    }
  }
  return undefined;
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
