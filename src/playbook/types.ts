import type { Where } from '../errors.js';

export const ON_FAILURE = ['rollback-host', 'rollback-play', 'stop'] as const;
export type OnFailure = (typeof ON_FAILURE)[number];
export const STRATEGIES = ['linear', 'free'] as const;

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
}

export interface Play {
  name: string;
  hosts: string;
  vars: Record<string, unknown>;
  serial: Array<number | string>;
  maxFailPercentage?: number;
  become: boolean;
  becomeUser: string;
  onFailure: OnFailure;
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
