import { Listr, type ListrTaskWrapper } from 'listr2';
import type { EngineEvent, Reporter } from '../engine/types.js';
import { recapText, undoableRun } from './plain.js';
import type { Redactor } from '../text/redact.js';

type Wrapper = ListrTaskWrapper<unknown, never, never>;
interface Row {
  wrapper?: Wrapper;
  /** The row's line, kept until listr hands over the wrapper that shows it. */
  title: string;
  /** Settled by the engine's events; listr's task for the row waits on it (whenever listr starts it). */
  settled: Promise<void>;
  done: () => void;
  fail: (e: Error) => void;
  counts: Record<string, number>;
}

/** A row whose outcome can be decided before listr starts its task (a run can end before then). */
function newRow(title: string): Row {
  let done = (): void => undefined;
  let fail = (_e: Error): void => undefined;
  const settled = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  settled.catch(() => undefined); // listr reports the failure; nothing else awaits it
  return { title, settled, done, fail, counts: {} };
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
      const rows = new Map(e.hosts.map((h) => [h, newRow(h)]));
      const tasks = [...rows].map(([h, row]) => ({
        title: h,
        task: (_ctx: unknown, w: Wrapper) => {
          row.wrapper = w;
          w.title = row.title;
          return row.settled;
        },
      }));
      this.rows = rows;
      // listr's own SIGINT handler exits at once (127): Ctrl-C belongs to the run, which finishes the
      // steps in flight and rolls back.
      const play = new Listr(tasks, { concurrent: true, exitOnError: false, registerSignalListeners: false })
        .run()
        .catch(() => undefined);
      this.running = Promise.all([this.running, play]);
      return;
    }
    if (e.type === 'host:result') {
      const row = this.rows.get(e.result.host);
      if (!row) return;
      const r = e.result;
      row.counts[r.status] = (row.counts[r.status] ?? 0) + 1;
      const c = row.counts;
      row.title =
        `${r.host}  ${this.red.text(r.task)}  ok=${(c.ok ?? 0) + (c.changed ?? 0)} ` +
        `changed=${c.changed ?? 0} failed=${c.failed ?? 0}`;
      if (row.wrapper) row.wrapper.title = row.title;
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
    this.endPlay(); // a run that ended without run:end (it threw) must not leave rows spinning
    await this.running;
  }
}
