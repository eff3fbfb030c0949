import { describe, expect, it } from 'vitest';
import type { RunSummary, TaskResult } from '../../src/engine/types.js';
import { ListrReporter } from '../../src/report/listr.js';
import { Redactor } from '../../src/text/redact.js';

const recap = (o: Partial<Record<string, number>>) => ({
  ok: 0,
  changed: 0,
  failed: 0,
  skipped: 0,
  unreachable: 0,
  rolled_back: 0,
  rescued: 0,
  ignored: 0,
  ...o,
});
const summary = (r: RunSummary['recap']): RunSummary => ({
  runId: 't',
  check: false,
  recap: r,
  results: [],
  rolledBack: {},
  durationMs: 1,
  exitCode: 4,
});
const unreachable = (host: string): TaskResult => ({
  play: 'p',
  task: 'connect',
  host,
  status: 'unreachable',
  msg: 'cannot connect',
  durationMs: 0,
});

// listr starts a row's task on a later tick than the play's start: the engine can decide a host
// (unreachable at once) and end the run before then. A row decided early must still end, or the
// process waits forever on a terminal.
describe('live progress on a terminal', () => {
  it('a run that ends before listr has started the rows finishes and prints the recap', async () => {
    const out: string[] = [];
    const rep = new ListrReporter(new Redactor(), (s) => out.push(s));
    rep.on({ type: 'play:start', play: 'p', hosts: ['h1', 'h2'] });
    rep.on({ type: 'host:result', result: unreachable('h1') });
    rep.on({ type: 'host:result', result: unreachable('h2') });
    rep.on({ type: 'run:end', summary: summary({ h1: recap({ unreachable: 1 }), h2: recap({ unreachable: 1 }) }) });
    await rep.close();
    await new Promise((r) => setImmediate(r));
    expect(out.join('')).toMatch(/PLAY RECAP[\s\S]*h1 +: ok=0 .*unreachable=1/);
  });

  it('a second play whose hosts end at once: close waits for both plays and returns', async () => {
    const out: string[] = [];
    const rep = new ListrReporter(new Redactor(), (s) => out.push(s));
    rep.on({ type: 'play:start', play: 'one', hosts: ['h1'] });
    rep.on({ type: 'play:start', play: 'two', hosts: ['h1'] });
    rep.on({ type: 'host:result', result: unreachable('h1') });
    rep.on({ type: 'run:end', summary: summary({ h1: recap({ unreachable: 1 }) }) });
    await rep.close();
    expect(out.join('')).toContain('PLAY [two]');
  });

  it('leaves Ctrl-C to the run: no signal handler of its own (listr would exit 127 with no rollback)', async () => {
    const before = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
    const rep = new ListrReporter(new Redactor(), () => undefined);
    rep.on({ type: 'play:start', play: 'p', hosts: ['h1'] });
    // listr registers its handler when it is made, in the play's start
    expect(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s))).toEqual(before);
    rep.on({ type: 'run:end', summary: summary({ h1: recap({ ok: 1 }) }) });
    await rep.close();
  });

  it('a run that ends without run:end (it threw) still closes', async () => {
    const rep = new ListrReporter(new Redactor(), () => undefined);
    rep.on({ type: 'play:start', play: 'p', hosts: ['h1', 'h2'] });
    await rep.close();
  });
});
