import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import type { EngineEvent, RunOptions } from '../../src/engine/types.js';
import { TransportError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { FakeTransport } from '../../src/transport/fake.js';
import { writePlay } from './flow-fixture.js';
import { runOptions } from './run-options.js';

const LOCK = { lock: { enabled: true, breakLock: false, operator: 'op' } };
const isLock = (cmd: string): boolean => cmd.includes('exec 9<>');

/** A fake host: `echo`, `/bin/false`, and the lock. */
function fake(name: string): FakeTransport {
  return new FakeTransport(name)
    .on(/^echo /, (cmd) => ({ stdout: `${cmd.slice(5)}\n` }))
    .on(/^\/bin\/false$/, { code: 1, stderr: 'nope' })
    .on(/exec 9<>/, { stdout: 'LOCKED\n' })
    .on(/^p=/, { stdout: 'absent\n' });
}

/**
 * Runs `pb` over fake hosts; every connect makes a new FakeTransport (kept in `made`, in the order
 * they were made), and `log`
 * has `connect HOST` and `HOST: CMD` in the order they happened. `down` hosts fail to connect.
 */
async function run(
  pb: string,
  inv: string,
  o: Partial<RunOptions> = {},
  down: string[] = [],
  delayMs: number | ((host: string, n: number) => number | Promise<void>) = 0,
  onCmd: (host: string, cmd: string) => void | Promise<void> = () => undefined,
  /** The lock's answer on the host's n-th connection (0 first). */
  lockAnswer: (host: string, n: number) => string = () => 'LOCKED',
  /** Gets `made` as soon as it exists, for a hook to look at hosts while the run goes on. */
  share: (made: Record<string, FakeTransport[]>) => void = () => undefined,
  /** Sees every event as it is emitted. */
  onEvent: (e: EngineEvent) => void = () => undefined,
) {
  const dir = writePlay(pb, inv);
  const made: Record<string, FakeTransport[]> = {};
  share(made);
  const connects: Record<string, number> = {};
  const log: string[] = [];
  const events: EngineEvent[] = [];
  const s = await runPlaybook(
    loadPlaybook(join(dir, 'pb.yaml')),
    loadInventory(join(dir, 'inv.yaml')),
    { ...runOptions(), runDir: join(dir, 'run'), ...o },
    async (h) => {
      log.push(`connect ${h}`);
      // n: this host's n-th connect (0 first), counted when it starts
      const n = (connects[h] = (connects[h] ?? 0) + 1) - 1;
      const wait = typeof delayMs === 'number' ? delayMs : delayMs(h, n);
      if (typeof wait !== 'number') await wait;
      else if (wait) await new Promise((r) => setTimeout(r, wait));
      if (down.includes(h)) throw new TransportError(`${h}: connection refused`);
      const t = fake(h);
      const exec = t.exec.bind(t);
      t.exec = async (cmd, opts) => {
        log.push(isLock(cmd) ? `${h}#${n}: lock` : `${h}: ${cmd}`);
        await onCmd(h, cmd);
        const r = await exec(cmd, opts);
        return isLock(cmd) ? { ...r, stdout: `${lockAnswer(h, n)}\n` } : r;
      };
      const hold = t.hold.bind(t);
      t.hold = async (cmd) => {
        const held = await hold(cmd);
        return {
          ...held,
          release: () => {
            log.push(`${h}#${n}: release`);
            held.release();
          },
        };
      };
      (made[h] ??= []).push(t);
      return t;
    },
    new EventBus().add({
      on: (e) => {
        events.push(e);
        onEvent(e);
      },
    }),
  );
  return { s, made, log, events };
}

/**
 * `run`, with `host`'s first connect held until the engine emits an event `release` matches (and the
 * callbacks of that moment have run): the connect is then still being made at that point of the run.
 */
function runHolding(
  pb: string,
  host: string,
  release: (e: EngineEvent) => boolean,
  o: { down?: string[]; lockAnswer?: (host: string, n: number) => string } = {},
) {
  let open!: () => void;
  const held = new Promise<void>((r) => (open = r));
  return run(
    pb,
    INV,
    LOCK,
    o.down,
    (h, n) => (h === host && n === 0 ? held : 0),
    undefined,
    o.lockAnswer,
    undefined,
    (e) => {
      if (release(e)) setImmediate(open);
    },
  );
}

/** d1's play changes something (a command); r1's play asks about /etc/lvsrun-x. */
const CHANGE_THEN_STAT = `- hosts: dirs
  tasks:
    - command: echo one
- hosts: rs
  tasks:
    - stat: {path: /etc/lvsrun-x}
`;
/** How many times r1's first connection was asked about /etc/lvsrun-x. */
const askedX = (made: Record<string, FakeTransport[]>): number =>
  made.r1![0]!.calls.filter((c) => c.cmd.startsWith('p=') && c.cmd.includes('lvsrun-x')).length;

const INV = 'all:\n  children:\n    dirs:\n      hosts: {d1: {}}\n    rs:\n      hosts: {r1: {}, r2: {}}\n';
const TWO_PLAYS = `- name: directors
  hosts: dirs
  tasks:
    - command: echo one
- name: real servers
  hosts: rs
  tasks:
    - command: echo two
`;

describe('connections opened ahead of a later play', () => {
  it("a later play's hosts are connected and locked before the first play's first task runs", async () => {
    const { s, log, made } = await run(TWO_PLAYS, INV, LOCK);
    expect(s.exitCode).toBe(0);
    const firstTask = log.indexOf('d1: echo one');
    expect(firstTask).toBeGreaterThan(-1);
    for (const h of ['r1', 'r2']) {
      expect(log.indexOf(`connect ${h}`), h).toBeLessThan(firstTask);
      expect(log.indexOf(`${h}#0: lock`), h).toBeGreaterThan(-1);
      expect(log.indexOf(`${h}#0: lock`), h).toBeLessThan(firstTask);
      // one connection and one lock per host for the whole run
      expect(made[h], h).toHaveLength(1);
      expect(
        made[h]![0]!.calls.filter((c) => isLock(c.cmd)),
        h,
      ).toHaveLength(1);
      expect(made[h]![0]!.released, h).toHaveLength(1);
      expect(made[h]![0]!.closes, h).toBe(1);
    }
    expect(Object.keys(s.recap).sort()).toEqual(['d1', 'r1', 'r2']);
  });

  it('an unreachable later host is reported in its own play, when that play comes, not before', async () => {
    const { s, events } = await run(TWO_PLAYS, INV, LOCK, ['r2']);
    expect(s.recap.r2).toMatchObject({ unreachable: 1 });
    const r2 = s.results.find((r) => r.host === 'r2')!;
    expect(r2).toMatchObject({ play: 'real servers', task: 'connect', status: 'unreachable' });
    // the unreachable event comes after play 2 starts, as when it connected at its turn
    const playStart = events.findIndex((e) => e.type === 'play:start' && e.play === 'real servers');
    const down = events.findIndex((e) => e.type === 'host:unreachable' && e.host === 'r2');
    expect(down).toBeGreaterThan(playStart);
    expect(s.recap.r1).toMatchObject({ ok: 1, unreachable: 0 });
  });

  it('a later host still connecting when its play comes, then found unreachable, is reported without a second connect', async () => {
    // A second try would cost a down host a second connect timeout, and this one was made while the play waited.
    const { s, log, events } = await runHolding(
      TWO_PLAYS,
      'r2',
      (e) => e.type === 'play:start' && e.play === 'real servers',
      { down: ['r2'] },
    );
    expect(log.filter((l) => l === 'connect r2')).toHaveLength(1);
    expect(s.recap.r2).toMatchObject({ unreachable: 1 });
    expect(s.results.filter((r) => r.host === 'r2')).toEqual([
      expect.objectContaining({ play: 'real servers', task: 'connect', status: 'unreachable' }),
    ]);
    const playStart = events.findIndex((e) => e.type === 'play:start' && e.play === 'real servers');
    expect(events.findIndex((e) => e.type === 'host:unreachable' && e.host === 'r2')).toBeGreaterThan(playStart);
    expect(s.recap.r1).toMatchObject({ changed: 1, unreachable: 0 });
  });

  it('a later host still connecting when a task of an earlier play delegates to it, then unreachable, fails in that play', async () => {
    const pb = `- name: directors
  hosts: dirs
  tasks:
    - command: echo one
      delegate_to: r2
- name: real servers
  hosts: rs
  tasks:
    - command: echo two
`;
    const { s, log } = await runHolding(pb, 'r2', (e) => e.type === 'task:start' && e.play === 'directors', {
      down: ['r2'],
    });
    expect(log.filter((l) => l === 'connect r2')).toHaveLength(1);
    // recorded in the play that took the connection, not in the play it was opened for
    expect(s.results.find((r) => r.host === 'r2' && r.task === 'connect')).toMatchObject({
      play: 'directors',
      status: 'unreachable',
    });
    expect(s.recap.d1).toMatchObject({ failed: 1 });
  });

  it('a later host found unreachable before its play comes is tried again at its play', async () => {
    const again = await run(TWO_PLAYS, INV, LOCK, ['r2']);
    // the attempt made ahead failed at once, long before play 2: play 2 tries again, and reports that one
    expect(again.log.filter((l) => l === 'connect r2')).toHaveLength(2);
    expect(again.s.results.filter((r) => r.host === 'r2')).toHaveLength(1);
  });

  it('a run that stops before a later play leaves its hosts out of the recap, their locks released and closed', async () => {
    const pb = `- name: directors
  hosts: dirs
  any_errors_fatal: true
  tasks:
    - command: /bin/false
- name: real servers
  hosts: rs
  tasks:
    - command: echo two
`;
    const { s, made, events } = await run(pb, INV, LOCK, ['r2']);
    expect(s.exitCode).toBe(2);
    expect(Object.keys(s.recap)).toEqual(['d1']);
    expect(events.some((e) => e.type === 'host:unreachable')).toBe(false);
    expect(made.r1![0]!.calls.filter((c) => !isLock(c.cmd))).toEqual([]);
    expect(made.r1![0]!.released).toHaveLength(1);
    expect(made.r1![0]!.closes).toBe(1);
  });

  it('with fewer forks than hosts the run neither waits for ever nor connects a host twice', async () => {
    // Connects that take a while keep later hosts queued when their play comes: a play's connect
    // holding a fork must not wait for one still queued behind it.
    const inv =
      'all:\n  children:\n    dirs:\n      hosts: {d1: {}}\n    rs:\n      hosts: {r1: {}, r2: {}, r3: {}, r4: {}, r5: {}, r6: {}}\n';
    const pb = `${TWO_PLAYS}- name: again
  hosts: all
  tasks:
    - command: echo three
`;
    for (const forks of [1, 2]) {
      const { s, made } = await run(pb, inv, { ...LOCK, forks }, [], 5);
      expect(s.exitCode, `forks ${forks}`).toBe(0);
      for (const h of ['d1', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6'])
        expect(made[h], `${h}, forks ${forks}`).toHaveLength(1);
      expect(s.recap.r6).toMatchObject({ changed: 2 });
    }
  });

  it('a connection opened with variables that differ at its play is dropped, and the host connected afresh', async () => {
    // r1's lock file counts the play's hosts: three when the run starts, two once d1 has failed.
    const inv = INV.replace('r1: {}', `r1: {lvsrun_lock_file: "/tmp/{{play_hosts.length}}.lock"}`);
    const pb = `- hosts: dirs
  tasks:
    - command: /bin/false
- hosts: all
  tasks:
    - stat: {path: /etc/lvsrun-x}
    - command: echo two
`;
    const { s, made } = await run(pb, inv, LOCK);
    expect(s.recap.r1).toMatchObject({ ok: 2, changed: 1, failed: 0 });
    expect(made.r1).toHaveLength(2);
    const [early, used] = made.r1!;
    // the stat was asked ahead over the first connection; that answer is void, and it is asked again
    const stat = (t: FakeTransport): string[] => t.calls.map((c) => c.cmd).filter((c) => c.startsWith('p='));
    expect(early!.calls.map((c) => c.cmd)).toEqual([expect.stringContaining('/tmp/3.lock'), ...stat(early!)]);
    expect(stat(early!)).toHaveLength(1);
    expect(stat(used!)).toHaveLength(1);
    expect(early!.released).toHaveLength(1);
    expect(early!.closes).toBe(1);
    expect(used!.calls.filter((c) => isLock(c.cmd))).toEqual([{ cmd: expect.stringContaining('/tmp/2.lock') }]);
    expect(used!.calls.map((c) => c.cmd)).toContain('echo two');
    // r2's variables did not move: its early connection is the one used
    expect(made.r2).toHaveLength(1);
    expect(made.r2![0]!.calls.map((c) => c.cmd)).toContain('echo two');
  });

  it("what a later play's host was asked on connecting is asked again if its play comes over 5 s later", async () => {
    const pb = `- hosts: dirs
  tasks:
    - stat: {path: /etc/lvsrun-y}
- hosts: rs
  tasks:
    - stat: {path: /etc/lvsrun-x}
`;
    const stats = (t: FakeTransport): number =>
      t.calls.filter((c) => c.cmd.startsWith('p=') && c.cmd.includes('lvsrun-x')).length;
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      for (const [playOneMs, asked] of [
        [100, 1],
        [6000, 2],
      ] as const) {
        // the first play's task takes playOneMs (the clock the engine reads moves on while it runs)
        const { s, made } = await run(pb, INV, LOCK, [], 0, (h, cmd) => {
          if (h === 'd1' && cmd.includes('lvsrun-y')) vi.advanceTimersByTime(playOneMs);
        });
        expect(s.exitCode).toBe(0);
        for (const h of ['r1', 'r2']) expect(stats(made[h]![0]!), `${h} after ${playOneMs} ms`).toBe(asked);
      }
    } finally {
      vi.useRealTimers();
    }
  });

  it("a change made anywhere in the run voids what a later play's host was asked ahead", async () => {
    // d1's play changes something (a command): r1 may share storage with it, or be the same machine
    const pb = CHANGE_THEN_STAT;
    const noChange = pb.replace('command: echo one', 'stat: {path: /etc/lvsrun-y}');
    for (const [book, asked] of [
      [noChange, 1],
      [pb, 2],
    ] as const) {
      const { s, made } = await run(book, INV, LOCK);
      expect(s.exitCode).toBe(0);
      expect(askedX(made), book).toBe(asked);
    }
  });

  it("a later play's batch is probed ahead only if it connects in one go (no more hosts than forks)", async () => {
    // A batch connects whole before its first task: over several rounds of forks, answers asked ahead
    // would be too old by then and asked again, twice the work on the host.
    const inv = INV.replace('r2: {}', 'r2: {}, r3: {}');
    const probedBeforePlay1 = (log: string[]): boolean => {
      const first = log.indexOf('d1: echo one');
      return log.slice(0, first).some((l) => l.startsWith('r1: p=') && l.includes('lvsrun-x'));
    };
    // three forks, three real servers: one round; probed while the directors' play runs
    const fits = await run(CHANGE_THEN_STAT, inv, { ...LOCK, forks: 3 });
    expect(fits.s.exitCode).toBe(0);
    expect(probedBeforePlay1(fits.log)).toBe(true);
    expect(askedX(fits.made)).toBe(2); // voided by d1's change, asked again: as before
    // two forks, three real servers: still connected ahead, not probed
    const over = await run(CHANGE_THEN_STAT, inv, { ...LOCK, forks: 2 });
    expect(over.s.exitCode).toBe(0);
    expect(over.log.indexOf('connect r1')).toBeLessThan(over.log.indexOf('d1: echo one'));
    expect(probedBeforePlay1(over.log)).toBe(false);
    expect(askedX(over.made)).toBe(1);
    expect(over.s.recap.r1).toMatchObject({ ok: 1, failed: 0 });
  });

  it('an answer asked ahead while a change was under way on another host is not taken for one after it', async () => {
    // r1 connects (and is asked about lvsrun-x) only once d1's change is under way, and d1's change
    // finishes only once r1 has been asked: the answer may predate what d1's change does.
    const pb = CHANGE_THEN_STAT;
    let underWay!: () => void;
    const started = new Promise<void>((r) => (underWay = r));
    const asked = (made: Record<string, FakeTransport[]>): boolean =>
      Boolean(made.r1?.[0]?.calls.some((c) => c.cmd.includes('lvsrun-x')));
    const waitFor = async (cond: () => boolean): Promise<void> => {
      while (!cond()) await new Promise((r) => setTimeout(r, 5));
    };
    let madeRef: Record<string, FakeTransport[]> = {};
    const { s, made } = await run(
      pb,
      INV,
      LOCK,
      [],
      (h) => (h === 'r1' ? started : 0),
      async (h, cmd) => {
        process.stderr.write(`CMD ${h} ${JSON.stringify(cmd)}\n`);
        if (h !== 'd1' || cmd !== 'echo one') return;
        underWay();
        await waitFor(() => asked(madeRef));
      },
      undefined,
      (m) => (madeRef = m),
    );
    expect(s.exitCode).toBe(0);
    expect(askedX(made)).toBe(2);
  });

  it('the age of an answer asked ahead is checked when its task uses it, whoever took the connection', async () => {
    // d1's play delegates a no-op stat to r1 (taking r1's early connection), then runs 6 s, changing nothing
    const pb = `- hosts: dirs
  tasks:
    - stat: {path: /etc/lvsrun-y}
      delegate_to: r1
    - stat: {path: /etc/lvsrun-z}
- hosts: rs
  tasks:
    - stat: {path: /etc/lvsrun-x}
`;
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const { s, made } = await run(pb, INV, LOCK, [], 0, (h, cmd) => {
        if (h === 'd1' && cmd.includes('lvsrun-z')) vi.advanceTimersByTime(6000);
      });
      expect(s.results.filter((r) => r.status === 'failed')).toEqual([]);
      expect(made.r1).toHaveLength(1);
      expect(askedX(made)).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a lock another run held when the run started is tried again at the host's play", async () => {
    const { s, made } = await run(TWO_PLAYS, INV, LOCK, [], 0, undefined, (h, n) =>
      h === 'r1' && n === 0 ? 'BUSY {"run":"other","operator":"bob@ops"}' : 'LOCKED',
    );
    expect(s.recap.r1).toMatchObject({ changed: 1, failed: 0 });
    expect(made.r1).toHaveLength(2);
    expect(made.r1![0]!.closes).toBe(1);
  });

  it("a lock found busy by a connect still being made when the host's play comes is tried again", async () => {
    // Trying a lock again costs no timeout, and the other run may have ended since.
    const { s, made } = await runHolding(TWO_PLAYS, 'r1', (e) => e.type === 'play:start' && e.play === 'real servers', {
      lockAnswer: (h, n) => (h === 'r1' && n === 0 ? 'BUSY {"run":"other","operator":"bob@ops"}' : 'LOCKED'),
    });
    expect(made.r1).toHaveLength(2);
    expect(s.recap.r1).toMatchObject({ changed: 1, failed: 0 });
    expect(made.r1![0]!.closes).toBe(1);
  });

  it('a connection dropped for changed variables keeps its lock until the run ends, even one still being made', async () => {
    // The host's new lock may meet this run's own record on the first (and go on under it, as a second
    // name for one machine does): the host must not be unlocked when the first connection closes.
    const inv = INV.replace('r1: {}', `r1: {lvsrun_lock_file: "/tmp/{{play_hosts.length}}.lock"}`);
    const pb = `- hosts: dirs\n  tasks:\n    - command: /bin/false\n- hosts: all\n  tasks:\n    - command: echo two\n`;
    // r1's first connection is made before its play comes, or still being made then
    for (const firstMs of [0, 50]) {
      const { s, made, log } = await run(pb, inv, LOCK, [], (h, n) => (h === 'r1' && n === 0 ? firstMs : 0));
      expect(s.recap.r1, `${firstMs}`).toMatchObject({ changed: 1, failed: 0 });
      expect(made.r1, `${firstMs}`).toHaveLength(2);
      expect(log.indexOf('r1#0: lock'), `${firstMs}`).toBeGreaterThan(-1);
      expect(log.indexOf('r1#0: release'), `${firstMs}`).toBeGreaterThan(log.indexOf('r1: echo two'));
      expect(
        made.r1!.map((t) => t.closes),
        `${firstMs}`,
      ).toEqual([1, 1]);
    }
  });

  it('no more hosts connect ahead at once than the forks the first batch leaves free', async () => {
    const inv =
      'all:\n  children:\n    dirs:\n      hosts: {d1: {}}\n    rs:\n      hosts: {r1: {}, r2: {}, r3: {}, r4: {}, r5: {}}\n';
    let now = 0;
    let most = 0;
    let done = 0;
    const slowConnect = async (): Promise<void> => {
      most = Math.max(most, ++now);
      await new Promise((r) => setTimeout(r, 20));
      now--;
      done++;
    };
    // Three forks, one taken by the first play's host: two left for connecting ahead. The first play's
    // task waits until every real server is connected, so every connect counted here is one ahead.
    const { s, made } = await run(
      TWO_PLAYS,
      inv,
      { ...LOCK, forks: 3 },
      [],
      (h) => (h.startsWith('r') ? slowConnect() : 0),
      async (h, cmd) => {
        while (h === 'd1' && cmd === 'echo one' && done < 5) await new Promise((r) => setTimeout(r, 5));
      },
    );
    expect(s.exitCode).toBe(0);
    expect(most).toBe(2);
    for (const h of ['r1', 'r2', 'r3', 'r4', 'r5']) expect(made[h], h).toHaveLength(1);
  });

  it('Ctrl-C stops connects ahead at once: one waiting for a fork never starts, though a fork frees before the run ends', async () => {
    // Two forks, one taken by the first play's host: r1 connects ahead, r2 waits for r1's fork.
    const ctl = new AbortController();
    let r1Connected!: () => void;
    const r1Gate = new Promise<void>((r) => (r1Connected = r));
    const { s, log } = await run(
      TWO_PLAYS,
      INV,
      { ...LOCK, forks: 2, signal: ctl.signal },
      [],
      (h) => (h === 'r1' ? r1Gate : 0),
      (h, cmd) => {
        if (h !== 'd1' || cmd !== 'echo one') return;
        ctl.abort(); // Ctrl-C while the first play's task runs
        r1Connected(); // r1's connect goes on, and its fork is then free for r2
      },
    );
    expect(s.interrupted).toBe(true);
    // r1's connect ahead ended (the run waits for one it started), so r2 had a fork before the run ended
    expect(log).toContain('r1#0: lock');
    expect(log).not.toContain('connect r2');
    expect(s.recap.r1).toBeUndefined();
  });

  it('--check opens later hosts ahead too, without taking a lock', async () => {
    const { s, made } = await run(TWO_PLAYS, INV, { ...LOCK, check: true });
    expect(s.exitCode).toBe(0);
    for (const h of ['r1', 'r2']) {
      expect(made[h], h).toHaveLength(1);
      expect(
        made[h]![0]!.calls.filter((c) => isLock(c.cmd)),
        h,
      ).toEqual([]);
    }
  });
});
