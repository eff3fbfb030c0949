import { writeFileSync } from 'node:fs';
import type { EngineEvent, Reporter, RunSummary } from '../engine/types.js';
import type { Redactor } from './redact.js';

/** Machine-readable result: on stdout with --json, to a file with --report. Secrets redacted. */
export function summaryJson(s: RunSummary, red: Redactor): string {
  const clean = {
    run_id: s.runId,
    check: s.check,
    exit_code: s.exitCode,
    duration_ms: Math.round(s.durationMs),
    recap: s.recap,
    rolled_back: s.rolledBack,
    results: s.results.map((r) => ({
      play: r.play,
      task: r.task,
      host: r.host,
      status: r.status,
      ...(r.msg ? { msg: r.msg } : {}),
      ...(r.ignored ? { ignored: true } : {}),
      ...(r.rescued ? { rescued: true } : {}),
      ...(r.delegatedTo ? { delegated_to: r.delegatedTo } : {}),
      ...(r.diff ? { diff: r.diff } : {}),
      duration_ms: Math.round(r.durationMs),
    })),
  };
  return `${JSON.stringify(red.deep(clean), null, 2)}\n`;
}

export class JsonReporter implements Reporter {
  constructor(
    private readonly red: Redactor,
    private readonly file?: string,
    private readonly stdout?: (s: string) => void,
  ) {}
  on(e: EngineEvent): void {
    if (e.type !== 'run:end') return;
    const text = summaryJson(e.summary, this.red);
    if (this.file) writeFileSync(this.file, text, { mode: 0o600 });
    this.stdout?.(text);
  }
}
