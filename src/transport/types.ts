import type { ShellCmd } from './shell.js';

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface ExecOptions {
  /** Run through sudo (become). The password, if any, goes on stdin, never on the command line. */
  become?: { user: string; password?: string };
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** A command kept running for as long as it is held (a host lock); `line` is its first line of output. */
export interface Held {
  line: string;
  release(): void;
}

/** One connection to one host. Non-zero exit is a result; only transport failures throw. */
export interface Transport {
  readonly host: string;
  exec(cmd: ShellCmd, opts?: ExecOptions): Promise<ExecResult>;
  /** Start a command on its own channel, wait for its first line, and keep it running until released. */
  hold?(cmd: ShellCmd): Promise<Held>;
  close(): Promise<void>;
  /**
   * How many times this connection waited on the host since it connected: a command in the
   * shared shell is one (commands sent together share one), a channel open plus its exec request
   * is two. At 50 ms RTT each costs 50 ms.
   */
  roundTrips?(): number;
  /** Open what the first command will need (the shared shell) now, without waiting for it. */
  warm?(): void;
  /**
   * Run commands in order, sent together where the transport can: each runs only if the one
   * before it exited 0 (unless that one `mayFail`). Answers the commands that ran: the last one is
   * the first failure, if any. `after` is called as soon as a command sent from it would run after
   * these (right away when they went together down one shell; else once they are done). Without
   * it, callers run them one by one (execSeq in exec-seq.ts).
   */
  execSeq?(items: ReadonlyArray<ExecItem>, after?: () => void): Promise<ExecResult[]>;
}

/** One command of a sequence. */
export interface ExecItem {
  cmd: ShellCmd;
  opts?: ExecOptions;
  mayFail?: boolean;
}

/** SSH keepalive: often enough that a NAT or firewall keeps an idle connection (a long task) open. */
export const KEEPALIVE_INTERVAL_MS = 15_000;

export interface ConnectSpec {
  name: string;
  host: string;
  port: number;
  user: string;
  privateKeyFiles: string[];
  password?: string;
  knownHostsFiles: string[];
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  proxyJump?: ConnectSpec;
  agent?: string;
  /** Run commands through one long-lived remote shell (default true); false opens a channel per command. */
  persistentShell?: boolean;
}
