import type { LvsrunError } from '../errors.js';
import type { Diff, Plan, Step } from '../modules/types.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface TaskResult {
  play: string;
  task: string;
  host: string;
  status: HostStatus;
  msg?: string;
  diff?: Diff[];
  item?: unknown;
  ignored?: boolean;
  /** A failure inside a block whose rescue handles it: counted as rescued, not failed. */
  rescued?: boolean;
  /** delegate_to: the host (or hosts, one per loop item) the task ran on. */
  delegatedTo?: string[];
  irreversible?: boolean;
  durationMs: number;
  /** What `register` stored (secrets redacted by the reporter, never here). */
  result?: Record<string, unknown>;
  error?: LvsrunError;
}

export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  rolled_back: number;
  rescued: number;
  ignored: number;
}

export interface RunSummary {
  runId: string;
  check: boolean;
  recap: Record<string, HostRecap>;
  results: TaskResult[];
  /** Per host: the rollback's outcome; pending = the host could not be reached, `lvsrun rollback` finishes it. */
  rolledBack: Record<string, { steps: number; ok: boolean; error?: string; pending?: boolean }>;
  interrupted?: boolean;
  durationMs: number;
  exitCode: number;
}

export type EngineEvent =
  | { type: 'play:start'; play: string; hosts: string[] }
  | { type: 'task:start'; play: string; task: string; hosts: string[] }
  | { type: 'host:result'; result: TaskResult }
  | { type: 'host:unreachable'; host: string; msg: string }
  | { type: 'rollback:start'; host: string; steps: number }
  | { type: 'rollback:done'; host: string; ok: boolean; error?: string; pending?: boolean }
  | { type: 'warning'; msg: string }
  | { type: 'run:end'; summary: RunSummary };

export interface Reporter {
  on(e: EngineEvent): void;
  close?(): Promise<void> | void;
}

/** One change still in effect: its undo, the journal seq of its begin record, and who the undo runs as. */
export interface JournalEntry {
  host: string;
  task: string;
  undo: Step[];
  seq?: number;
  becomeUser?: string;
}

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  limit?: string;
  /** Hosts named outright (`--limit @failed`, `--limit @FILE`); used instead of `limit`. */
  limitHosts?: readonly string[];
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  strategy?: 'linear' | 'free';
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  runDir?: string;
  runId: string;
  signal?: AbortSignal;
  /** The command's live redactor: the run adds each host's rendered secrets and no_log results to it. */
  redactor?: import('../report/redact.js').Redactor;
  /** Journal header: where the run came from, who ran it. */
  meta?: import('../rollback/journal.js').RunMeta;
  /** Take the per-host lock (default true outside check mode); --break-lock ends another run's hold. */
  lock?: { enabled: boolean; breakLock: boolean; operator: string };
}

export type { Plan };
