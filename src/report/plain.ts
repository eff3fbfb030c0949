import type { Diff } from '../change/types.js';
import type { EngineEvent, HostRecap, Reporter, RunSummary } from '../engine/types.js';
import type { Redactor } from '../text/redact.js';

export interface PlainOpts {
  /**
   * With --diff: how a change's diff is written (unifiedDiff of report/diff.ts). Passed in rather than
   * imported, so that a run without --diff never loads the diff package.
   */
  diff?: (d: Diff) => string;
  verbose: number;
  write: (s: string) => void;
  color: boolean;
}

const C = { ok: 32, changed: 33, failed: 31, skipped: 36, unreachable: 31 } as const;

/** Ansible-like lines, for CI logs and pipes. */
export class PlainReporter implements Reporter {
  constructor(
    private readonly o: PlainOpts,
    private readonly red: Redactor,
  ) {}

  private paint(code: number, s: string): string {
    return this.o.color ? `\x1b[${code}m${s}\x1b[0m` : s;
  }

  private out(s: string): void {
    this.o.write(this.red.text(s));
  }

  on(e: EngineEvent): void {
    switch (e.type) {
      case 'play:start':
        this.out(`\nPLAY [${e.play}] ${'*'.repeat(Math.max(3, 60 - e.play.length))}\n`);
        break;
      case 'task:start':
        this.out(`\nTASK [${e.task}] ${'*'.repeat(Math.max(3, 60 - e.task.length))}\n`);
        break;
      case 'host:result': {
        const r = e.result;
        if (r.task === 'connect') break;
        const label =
          r.status === 'failed' && r.ignored
            ? 'failed (ignored)'
            : r.status === 'failed' && r.rescued
              ? 'failed (rescued)'
              : r.status;
        const who = r.delegatedTo ? `${r.host} -> ${r.delegatedTo.join(', ')}` : r.host;
        const detail = r.status === 'failed' || (this.o.verbose > 0 && r.msg) ? ` => ${r.msg ?? ''}` : '';
        this.out(
          `${this.paint(C[r.status], `${label}: [${who}]`)}${detail}` +
            `${r.irreversible && r.status === 'changed' ? ' (no undo)' : ''}\n`,
        );
        if (this.o.diff && r.diff) for (const d of r.diff) this.out(`${this.o.diff(d)}\n`);
        break;
      }
      case 'host:unreachable':
        this.out(`${this.paint(31, `unreachable: [${e.host}]`)} => ${e.msg}\n`);
        break;
      case 'rollback:start':
        this.out(`${this.paint(35, `rollback: [${e.host}]`)} undoing ${e.steps} step(s)\n`);
        break;
      case 'rollback:done':
        this.out(
          `${this.paint(e.ok ? 35 : 31, `rollback ${e.ok ? 'done' : 'FAILED'}: [${e.host}]`)}` +
            `${e.error ? ` => ${e.error}` : ''}\n`,
        );
        break;
      case 'warning':
        this.out(`${this.paint(35, '[WARNING]')}: ${e.msg}\n`);
        break;
      case 'run:end':
        this.out(recapText(e.summary.recap, e.summary.durationMs, (c, s) => this.paint(c, s), undoableRun(e.summary)));
        break;
    }
  }
}

/** The run id to offer for `lvsrun rollback`: only when the run changed something. */
export function undoableRun(s: RunSummary): string | undefined {
  return !s.check && Object.values(s.recap).some((c) => c.changed > 0) ? s.runId : undefined;
}

export function recapText(
  recap: Record<string, HostRecap>,
  ms: number,
  paint: (c: number, s: string) => string = (_c, s) => s,
  runId?: string,
): string {
  const names = Object.keys(recap);
  const w = Math.max(4, ...names.map((n) => n.length));
  const lines = [`\nPLAY RECAP ${'*'.repeat(60)}`];
  for (const n of names) {
    const c = recap[n]!;
    const col = c.failed || c.unreachable ? 31 : c.changed ? 33 : 32;
    lines.push(
      `${paint(col, n.padEnd(w))} : ok=${c.ok}  changed=${c.changed}  unreachable=${c.unreachable}  ` +
        `failed=${c.failed}  skipped=${c.skipped}  rescued=${c.rescued}  rolled_back=${c.rolled_back}  ` +
        `ignored=${c.ignored}`,
    );
  }
  lines.push(
    `\n${runId ? `run ${runId} ` : ''}finished in ${(ms / 1000).toFixed(2)}s` +
      `${runId ? ` (undo it with: lvsrun rollback ${runId})` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
