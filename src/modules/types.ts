import type { z } from 'zod';
import type { Plan } from '../change/types.js';
import type { OsProbeCtx } from '../facts/os.js';
import type { ShellCmd } from '../transport/shell.js';
import type { ExecOptions, ExecResult } from '../transport/types.js';

// The vocabulary of a change lives below modules, engine and rollback; modules take it from here.
export type { ChangeAction, ChangePlan, Diff, ExecStep, FailPlan, Plan, Step } from '../change/types.js';
export { exec, failPlan, noop } from '../change/types.js';

/** What a module sees of its host. No global context: everything comes through here. */
export interface ModuleCtx extends OsProbeCtx {
  readonly host: string;
  readonly vars: Record<string, unknown>;
  readonly check: boolean;
  exec(cmd: ShellCmd, opts?: Pick<ExecOptions, 'stdin' | 'timeoutMs'>): Promise<ExecResult>;
  /** Read a controller-side file relative to the playbook/role (template and copy src); `bytes` is exact. */
  readLocal(path: string, kind: 'templates' | 'files'): { path: string; text: string; bytes: Buffer };
  /** Render a Handlebars text against the host's vars, or against `data` (a module's structured arguments). */
  render(text: string, where: { file: string }, data?: Record<string, unknown>): string;
  /** Cached per host for the whole run (OS family, package manager, init system). */
  fact<T>(key: string, load: () => Promise<T>): Promise<T>;
}

/** What every module has: a name, its argument schema and the checks made before any host is touched. */
export interface ModuleBase<P> {
  readonly name: string;
  /** The argument schema (zod). Only modules/*.ts and args.ts touch zod. */
  readonly schema: z.ZodType<P, z.ZodTypeDef, unknown>;
  /** For `command: echo hi`: the key a bare string argument goes to. */
  readonly freeForm?: string;
  /** The controller-side template a task reads (its arguments as written), so loading can check it exists. */
  localTemplate?(args: Record<string, unknown>): unknown;
  /**
   * Checks of the parsed arguments against the host's variables (the addresses of an inventory
   * group the arguments name): run with the schema, so before any host is touched.
   */
  vet?(p: P, vars: Record<string, unknown>): { path: string; message: string } | undefined;
}

/** A module that works on its host: check reads it, plan says what to change, the engine applies. */
export interface TaskModule<P = unknown, O = unknown> extends ModuleBase<P> {
  /** Its plan never changes the host (stat): probes sent behind it stay current. */
  readonly readOnly?: true;
  /** Read the live state. Read-only. */
  check(ctx: ModuleCtx, p: P): Promise<O>;
  /** Pure: what differs, the steps to change it, and the undo. */
  plan(p: P, observed: O): Plan;
  /** Shape the registered result from the plan and the step results (Ansible's shape). */
  result?(p: P, observed: O, plan: Plan, execs: ExecResult[]): Record<string, unknown>;
}

/** What a controller-side module sees: the host's variables and the playbook's condition evaluator. */
export interface ControllerEnv {
  readonly vars: Record<string, unknown>;
  /** Evaluates a condition with the safe evaluator; `field` names it in an error. */
  holds(condition: string, field: string): boolean;
}

/** A module that runs on the controller only (assert, debug): it never touches the host. */
export interface ControllerModule<P = unknown> extends ModuleBase<P> {
  controller(p: P, env: ControllerEnv): { failed: boolean; msg: string; result: Record<string, unknown> };
}

/** Any module, whatever its argument and observed-state types: what the registry holds. */
// P and O differ per module and appear in both directions, so `unknown` would not accept them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTaskModule = TaskModule<any, any> | ControllerModule<any>;

export function isControllerModule<P>(m: TaskModule<P, unknown> | ControllerModule<P>): m is ControllerModule<P> {
  return 'controller' in m;
}
