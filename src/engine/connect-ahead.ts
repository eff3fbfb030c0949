import {
  connectKey,
  dispose,
  openHost,
  type ConnectEnv,
  type Connector,
  type Opened,
  type TakeEnv,
} from './connect-host.js';

type OpenEnv = Omit<ConnectEnv, 'record' | 'bus' | 'ahead'>;

interface Ahead {
  /** connectKey of the variables it was opened with */
  key: string;
  started: boolean;
  /** the connect and lock have ended, well or not */
  settled: boolean;
  /** taken by nobody: closed once made, or not made at all */
  dropped: boolean;
  opened: Promise<Opened | undefined>;
}

/**
 * Connections opened while earlier plays run, for the hosts whose first play comes later (or whose
 * serial batch does): a later play then starts with its hosts connected and locked instead of paying
 * the handshake's round trips after the play before it. Nothing is recorded or shown until the host's
 * play takes the connection: a host the run never reaches is closed quietly, its lock released.
 */
export class ConnectAhead {
  private readonly open = new Map<string, Ahead>();
  /** Connections dropped and still being closed: the run waits for them before it ends. */
  private readonly closing = new Set<Promise<void>>();
  /** Connections no play uses, whose locks are held until the run ends. */
  private readonly kept: Array<Promise<Opened | undefined>> = [];
  private stopped = false;

  constructor(
    private readonly connect: Connector,
    /** Runs a connect when the run has a fork to spare. */
    private readonly spare: (fn: () => Promise<Opened | undefined>) => Promise<Opened | undefined>,
    private readonly hooks: {
      /** The host is connected (and locked): it may be asked read-only questions over `o` now. */
      ready?: (host: string, o: Opened) => void;
      /** What was asked over a connection that will not be used is void. */
      dropped?: (host: string) => void;
    } = {},
  ) {}

  /** Start connecting `host` with the variables of the play that will first use it. */
  start(host: string, env: OpenEnv): void {
    if (this.open.has(host) || this.stopped) return;
    const key = connectKey(env);
    if (key === undefined) return;
    const a: Ahead = { key, started: false, settled: false, dropped: false, opened: Promise.resolve(undefined) };
    a.opened = this.spare(() => {
      if (this.stopped || a.dropped) return Promise.resolve(undefined);
      a.started = true;
      return openHost(host, env, this.connect).then((o) => {
        a.settled = true;
        if (o.transport && !o.result && !a.dropped && !this.stopped) this.hooks.ready?.(host, o);
        return o;
      });
    }).catch(() => undefined); // openHost keeps its failures in its result: nothing here may reject unseen
    this.open.set(host, a);
  }

  /** The run is stopping (Ctrl-C): no connect starts from now on. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * The connection opened ahead for `host`, or undefined: then the caller connects afresh. It is not
   * used when
   * - it was made from other variables than the play has now (`env`; it stays open, its lock held,
   *   until the run ends);
   * - it has not started: the caller holds a fork, and waiting in it for a connect that waits for a
   *   fork could wait for ever;
   * - it failed before the play came (unreachable, a lock another run held): the play tries again
   *   instead of reporting what was true earlier in the run.
   * A connect still being made when the play comes is waited for. If it then finds the host
   * unreachable, that is reported, in the play that took it: it was still being tried when that play
   * came (a host that comes back meanwhile answers its retransmitted SYN), and a second try would cost
   * a down host a second connect timeout. A lock it could not take is tried again (that costs no
   * timeout).
   */
  take(host: string, env: TakeEnv): Promise<Opened | undefined> | undefined {
    const a = this.open.get(host);
    if (!a) return undefined;
    this.open.delete(host);
    if (!a.started) {
      a.dropped = true;
      this.hooks.dropped?.(host);
      return undefined;
    }
    if (connectKey(env) !== a.key) {
      a.dropped = true;
      this.hooks.dropped?.(host);
      // Kept open, its lock held, until the run ends: the host's new connection may meet this lock's
      // record and go on under it (as a second name for one machine does), and the host must not be
      // unlocked when this one closes.
      this.kept.push(a.opened);
      return undefined;
    }
    const settledBefore = a.settled;
    return a.opened.then((o) => {
      if (!o?.result) return o;
      // It was opened for the host's first play; a task of an earlier one may take it (delegate_to).
      if (!settledBefore && o.unreachable !== undefined) return { ...o, result: { ...o.result, play: env.play } };
      this.hooks.dropped?.(host);
      return this.closeTracked(Promise.resolve(o)).then(() => undefined);
    });
  }

  /** `dispose` once made, with the run's end waiting for it. */
  private closeTracked(o: Promise<Opened | undefined>): Promise<void> {
    const p = o.then(dispose);
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
    return p;
  }

  /** The run is over: connections nobody took are released and closed (one still being made, once made). */
  async close(): Promise<void> {
    this.stopped = true;
    const left = [...this.open.values()];
    this.open.clear();
    for (const a of left) a.dropped = true;
    // One still queued resolves without connecting once a fork is free; only those started are waited for.
    for (const a of left) if (a.started) void this.closeTracked(a.opened);
    for (const o of this.kept.splice(0)) void this.closeTracked(o);
    await Promise.all([...this.closing]);
  }
}
