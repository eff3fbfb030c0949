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

/** One connection to one host. Non-zero exit is a result; only transport failures throw. */
export interface Transport {
  readonly host: string;
  exec(cmd: ShellCmd, opts?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}

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
