import type { ShellCmd } from '../transport/shell.js';

/** A command as data. `stdin` carries file contents (no file transfer protocol needed). */
/** anyCode: a non-zero exit is not a step failure; the module's result decides (command, shell). */
/**
 * atomic: when this step exits 1 it left no trace (a file written to a temp file and renamed only once valid);
 * any other failure (a signal, a closed shell) may have come after the change, and keeps its undo.
 */
export interface ExecStep {
  kind: 'exec';
  cmd: ShellCmd;
  stdin?: string;
  anyCode?: boolean;
  atomic?: boolean;
  what?: string;
}
export type Step = ExecStep;

export type ChangeAction = 'noop' | 'create' | 'update' | 'delete' | 'run';

export interface Diff {
  path: string;
  before: string;
  after: string;
}

interface PlanCommon {
  summary: string;
  steps: Step[];
  /** Restores the observed before-state, in order. Empty for noop. */
  undo: Step[];
  diff?: Diff[];
  /** Values for `register` known at plan time (e.g. stat). */
  result?: Record<string, unknown>;
}

/** What a task changes on its host (nothing, for noop). */
export interface ChangePlan extends PlanCommon {
  action: ChangeAction;
  /** True when the change cannot be undone (a `command` without `undo:`). */
  irreversible?: boolean;
  /** The plan can be shown (--check) but not applied, for this reason (e.g. no IPVS in the kernel). */
  checkOnly?: string;
  fail?: undefined;
}

/** A planned failure (a missing file, a refused config): the task fails without changing anything. */
export interface FailPlan extends PlanCommon {
  action: 'fail';
  fail: string;
  steps: [];
  undo: [];
  irreversible?: undefined;
  checkOnly?: undefined;
}

export type Plan = ChangePlan | FailPlan;

/** One change still in effect: its undo, the journal seq of its begin record, and who the undo runs as. */
export interface JournalEntry {
  host: string;
  task: string;
  undo: Step[];
  seq?: number;
  becomeUser?: string;
}

export function noop(summary: string, result?: Record<string, unknown>): ChangePlan {
  return { action: 'noop', summary, steps: [], undo: [], ...(result ? { result } : {}) };
}

/** The task fails for `reason`; `shown` is what the failed task still reports (the change it refused). */
export function failPlan(reason: string, shown: { summary?: string; diff?: Diff[] } = {}): FailPlan {
  return {
    action: 'fail',
    fail: reason,
    summary: shown.summary ?? '',
    steps: [],
    undo: [],
    ...(shown.diff ? { diff: shown.diff } : {}),
  };
}

export function exec(cmd: ShellCmd, extra: Omit<ExecStep, 'kind' | 'cmd'> = {}): ExecStep {
  return { kind: 'exec', cmd, ...extra };
}
