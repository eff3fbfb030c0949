import { describe, expect, it } from 'vitest';
import { PlainReporter, recapText } from '../../src/report/plain.js';
import { summaryJson } from '../../src/report/json.js';
import { Redactor } from '../../src/text/redact.js';
import type { RunSummary, TaskResult } from '../../src/engine/types.js';

const result = (o: Partial<TaskResult>): TaskResult => ({
  play: 'p',
  task: 't',
  host: 'rs1',
  status: 'ok',
  durationMs: 1,
  ...o,
});

describe('reports of rescued and delegated results', () => {
  it('the plain output marks a rescued failure and names the host a task was delegated to', () => {
    let out = '';
    const r = new PlainReporter({ verbose: 0, write: (s) => (out += s), color: false }, new Redactor([]));
    r.on({ type: 'host:result', result: result({ status: 'failed', rescued: true, msg: 'boom' }) });
    r.on({ type: 'host:result', result: result({ status: 'changed', delegatedTo: ['lb1', 'lb2'] }) });
    expect(out).toBe('failed (rescued): [rs1] => boom\nchanged: [rs1 -> lb1, lb2]\n');
  });

  it('the recap line counts rescued, and the JSON report carries both', () => {
    const recap = {
      rs1: { ok: 2, changed: 1, failed: 0, skipped: 0, unreachable: 0, rolled_back: 0, rescued: 1, ignored: 0 },
    };
    expect(recapText(recap, 1000)).toMatch(/rs1\s+: ok=2 {2}changed=1 .*skipped=0 {2}rescued=1 {2}rolled_back=0/);
    const s: RunSummary = {
      runId: 'x',
      check: false,
      recap,
      results: [result({ status: 'failed', rescued: true }), result({ delegatedTo: ['lb1'] })],
      rolledBack: {},
      durationMs: 1,
      exitCode: 0,
    };
    const j = JSON.parse(summaryJson(s, new Redactor([]))) as { results: Array<Record<string, unknown>> };
    expect(j.results[0]).toMatchObject({ status: 'failed', rescued: true });
    expect(j.results[1]).toMatchObject({ delegated_to: ['lb1'] });
  });
});
