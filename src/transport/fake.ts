import type { ShellCmd } from './shell.js';
import type { ExecOptions, ExecResult, Transport } from './types.js';

type Reply =
  Partial<Pick<ExecResult, 'code' | 'stdout' | 'stderr'>> | ((cmd: string, stdin?: string) => Partial<ExecResult>);

export interface FakeCall {
  cmd: string;
  stdin?: string;
  become?: string;
}

/** A recording transport for unit tests: scripted replies; an unmatched command throws. */
export class FakeTransport implements Transport {
  readonly calls: FakeCall[] = [];
  private readonly rules: Array<{ re: RegExp; reply: Reply }> = [];
  constructor(readonly host: string) {}

  on(re: RegExp, reply: Reply): this {
    this.rules.push({ re, reply });
    return this;
  }

  async exec(cmd: ShellCmd, opts: ExecOptions = {}): Promise<ExecResult> {
    const stdin = opts.stdin === undefined ? undefined : opts.stdin.toString();
    this.calls.push({
      cmd,
      ...(stdin !== undefined ? { stdin } : {}),
      ...(opts.become ? { become: opts.become.user } : {}),
    });
    const rule = this.rules.find((r) => r.re.test(cmd));
    if (!rule) throw new Error(`FakeTransport(${this.host}): no reply scripted for: ${cmd}`);
    const r = typeof rule.reply === 'function' ? rule.reply(cmd, stdin) : rule.reply;
    return {
      code: r.code === undefined ? 0 : r.code,
      signal: null,
      stdout: r.stdout ?? '',
      stderr: r.stderr ?? '',
      durationMs: 0,
    };
  }

  /** Held commands (locks) answer like exec: the first line of the scripted stdout. */
  readonly released: string[] = [];
  async hold(cmd: ShellCmd): Promise<{ line: string; release(): void }> {
    const r = await this.exec(cmd);
    return {
      line: r.stdout.split('\n')[0] ?? '',
      release: () => {
        this.released.push(cmd);
      },
    };
  }

  /** How many times the connection was closed. */
  closes = 0;
  async close(): Promise<void> {
    this.closes++;
  }
}
