import type { Where } from '../errors.js';

export const ON_FAILURE = ['rollback-host', 'rollback-play', 'stop'] as const;
export type OnFailure = (typeof ON_FAILURE)[number];
export const STRATEGIES = ['linear', 'free'] as const;

/** Where a task sits in a `block`: the block's id (unique in its playbook) and the section holding it. */
export interface BlockFrame {
  id: number;
  part: 'block' | 'rescue' | 'always';
  name?: string;
}

export interface Task {
  name: string;
  /** The module key as written (`ansible.builtin.template`) and resolved (`template`). */
  moduleKey: string;
  module: string;
  args: unknown;
  when?: unknown;
  loop?: unknown;
  loopVar: string;
  register?: string;
  notify: string[];
  tags: string[];
  ignoreErrors: boolean;
  changedWhen?: unknown;
  failedWhen?: unknown;
  become?: boolean;
  becomeUser?: string;
  noLog: boolean;
  /** Ansible's check_mode: false runs the task for real under --check (read-only probes); true only plans it. */
  checkMode?: boolean;
  /** Variables from the role this task came from (role vars, then role defaults below inventory). */
  roleVars?: Record<string, unknown>;
  roleDefaults?: Record<string, unknown>;
  /** The file roleDefaults came from: where validate says a default value was set. */
  roleDefaultsFile?: string;
  /** Folder searched for template and copy `src` (role dir or playbook dir). */
  baseDirs: string[];
  where: Where;
  /** For handlers: the names they answer to (name and `listen`). */
  listen?: string[];
  /** The blocks around this task, outermost first (absent outside any block). */
  block?: BlockFrame[];
  /** pre_tasks and post_tasks: handlers are flushed after each of the play's three sections. */
  phase?: 'pre' | 'post';
  runOnce?: boolean;
  /** An inventory host name or a template giving one, rendered per host and loop item. */
  delegateTo?: string;
  delegateFacts?: boolean;
  anyErrorsFatal?: boolean;
  /** At most this many hosts run the task at once (0: no limit). */
  throttle?: number;
  /** An include_tasks entry, run as a task: a host it runs on (not skipped) takes the tasks `within` it. */
  includeId?: number;
  /** The include_tasks (their includeId, outermost first) a host must have run to take this task. */
  within?: number[];
  /** The `when` of those include_tasks: whether the task runs at all, for checks made before the run. */
  includeWhen?: unknown[];
}

/** The module name of an include_tasks entry's own task (no module of the registry has it). */
export const INCLUDE_MODULE = 'include_tasks';

export interface Play {
  name: string;
  hosts: string;
  vars: Record<string, unknown>;
  /** Every role's defaults and vars, merged in role order: every task of the play sees them. */
  roleDefaults?: Record<string, unknown>;
  roleVars?: Record<string, unknown>;
  serial: Array<number | string>;
  maxFailPercentage?: number;
  become: boolean;
  becomeUser: string;
  onFailure: OnFailure;
  anyErrorsFatal?: boolean;
  strategy?: (typeof STRATEGIES)[number];
  tasks: Task[];
  handlers: Task[];
  tags: string[];
  where: Where;
}

export interface Playbook {
  file: string;
  plays: Play[];
}

export const TASK_KEYWORDS = [
  'name',
  'when',
  'loop',
  'with_items',
  'loop_control',
  'register',
  'notify',
  'tags',
  'ignore_errors',
  'changed_when',
  'failed_when',
  'become',
  'become_user',
  'no_log',
  'check_mode',
  'vars',
  'listen',
  'args',
  'run_once',
  'delegate_to',
  'delegate_facts',
  'any_errors_fatal',
  'throttle',
] as const;
/** The keys of a `block` entry: its three sections and the keywords its tasks inherit. */
export const BLOCK_SECTIONS = ['block', 'rescue', 'always'] as const;
export const BLOCK_KEYWORDS = [
  'name',
  'when',
  'tags',
  'become',
  'become_user',
  'vars',
  'ignore_errors',
  'no_log',
  'run_once',
  'delegate_to',
  'delegate_facts',
  'any_errors_fatal',
  'throttle',
] as const;
export const PLAY_KEYWORDS = [
  'name',
  'hosts',
  'vars',
  'vars_files',
  'serial',
  'max_fail_percentage',
  'become',
  'become_user',
  'tasks',
  'pre_tasks',
  'post_tasks',
  'handlers',
  'roles',
  'gather_facts',
  'on_failure',
  'strategy',
  'tags',
  'any_errors_fatal',
] as const;
