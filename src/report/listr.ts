import { Listr, type ListrTaskWrapper } from 'listr2';
import type { EngineEvent, Reporter } from '../engine/types.js';
import { recapText, undoableRun } from './plain.js';
import type { Redactor } from './redact.js';

type Wrapper = ListrTaskWrapper<unknown, never, never>;
interface Row {
  wrapper?: Wrapper;
  done: () => void;
  fail: (e: Error) => void;
  counts: Record<string, number>;
}

/** Live progress on a terminal: one line per host of the running play. Only this file imports listr2. */
export class ListrReporter implements Reporter {
  private rows = new Map<string, Row>();
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly red: Redactor,
    private readonly write: (s: string) => void,
  ) {}

  on(e: EngineEvent): void {
    if (e.type === 'play:start') {
      this.endPlay();
      this.write(`PLAY [${this.red.text(e.play)}]\n`);
      const rows = new Map<string, Row>();
      const tasks = e.hosts.map((h) => ({
        title: h,
        task: (_ctx: unknown, w: Wrapper) =>
          new Promise<void>((resolve, reject) => {
            const row = rows.get(h)!;
            row.wrapper = w;
            row.done = resolve;
            row.fail = reject;
          }),
      }));
      for (const h of e.hosts) rows.set(h, { done: () => undefined, fail: () => undefined, counts: {} });
      this.rows = rows;
      this.running = new Listr(tasks, { concurrent: true, exitOnError: false }).run().catch(() => undefined);
      return;
    }
    if (e.type === 'host:result') {
      const row = this.rows.get(e.result.host);
      if (!row?.wrapper) return;
      const r = e.result;
      row.counts[r.status] = (row.counts[r.status] ?? 0) + 1;
      const c = row.counts;
      row.wrapper.title =
        `${r.host}  ${this.red.text(r.task)}  ok=${(c.ok ?? 0) + (c.changed ?? 0)} ` +
        `changed=${c.changed ?? 0} failed=${c.failed ?? 0}`;
      if ((r.status === 'failed' && !r.ignored && !r.rescued) || r.status === 'unreachable')
        row.fail(new Error(this.red.text(`${r.task}: ${r.msg ?? r.status}`)));
      return;
    }
    if (e.type === 'run:end') {
      this.endPlay();
      void this.running?.then(() =>
        this.write(recapText(e.summary.recap, e.summary.durationMs, undefined, undoableRun(e.summary))),
      );
    }
  }

  private endPlay(): void {
    for (const r of this.rows.values()) r.done();
  }

  async close(): Promise<void> {
    await this.running;
  }
}
