import { connectKey, openHost, type ConnectEnv, type Connector, type Opened } from './connect-host.js';

type OpenEnv = Omit<ConnectEnv, 'record' | 'bus' | 'ahead'>;

/** See ConnectAhead's maxAgeMs. */
export const PROBES_AHEAD_MAX_AGE_MS = 5000;

interface Ahead {
  /** connectKey of the variables it was opened with */
  key: string;
  started: boolean;
  /** When the host was connected and its play's first probes went out (performance.now()). */
  readyAt?: number;
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
  private closing = false;

  constructor(
    private readonly connect: Connector,
    /** Runs a connect when the run has a fork to spare (work already asked for goes first). */
    private readonly spare: (fn: () => Promise<Opened | undefined>) => Promise<Opened | undefined>,
    private readonly hooks: {
      /** The host is connected (and locked): it may be asked read-only questions over `o` now. */
      ready?: (host: string, o: Opened) => void;
      /** What was asked over a connection that will not be used is void. */
      dropped?: (host: string) => void;
      /** What was asked when the host was connected is too old to trust when its play comes. */
      expired?: (host: string) => void;
    } = {},
    /**
     * How old the answers asked for at `ready` may be when the host's play comes: about what a probe
     * sent ahead within a play may be. Older ones (a long play before, a later serial batch) are
     * asked again, so that a task never acts on what a host said minutes ago.
     */
    private readonly maxAgeMs = PROBES_AHEAD_MAX_AGE_MS,
  ) {}

  /** Start connecting `host` with the variables of the play that will first use it. */
  start(host: string, env: OpenEnv): void {
    const key = connectKey(env.vars, env.templates);
    if (key === undefined || this.open.has(host)) return;
    const a: Ahead = { key, started: false, dropped: false, opened: Promise.resolve(undefined) };
    a.opened = this.spare(() => {
      if (this.closing || a.dropped) return Promise.resolve(undefined);
      a.started = true;
      return openHost(host, env, this.connect).then((o) => {
        if (o.transport && !o.result && !a.dropped && !this.closing) {
          a.readyAt = performance.now();
          this.hooks.ready?.(host, o);
        }
        return o;
      });
    }).catch(() => undefined); // openHost keeps its failures in its result: nothing here may reject unseen
    this.open.set(host, a);
  }

  /**
   * The connection opened ahead for `host`, if it was made from the same variables (`key`) the play
   * has now; otherwise the caller connects afresh (as it does when this gives undefined). One not
   * started yet is dropped too: the caller holds a fork, and waiting in it for a connect that waits
   * for a fork could wait for ever.
   */
  take(host: string, key: string | undefined): Promise<Opened | undefined> | undefined {
    const a = this.open.get(host);
    if (!a) return undefined;
    this.open.delete(host);
    if (!a.started || key !== a.key) {
      a.dropped = true;
      this.hooks.dropped?.(host);
      void a.opened.then(dispose);
      return undefined;
    }
    if (a.readyAt !== undefined && performance.now() - a.readyAt > this.maxAgeMs) this.hooks.expired?.(host);
    return a.opened;
  }

  /** The run is over: connections nobody took are released and closed (one still being made, once made). */
  async close(): Promise<void> {
    this.closing = true;
    const left = [...this.open.values()];
    this.open.clear();
    for (const a of left) a.dropped = true;
    // One still queued resolves without connecting once a fork is free; only those started are waited for.
    await Promise.all(left.filter((a) => a.started).map((a) => a.opened.then(dispose)));
  }
}

async function dispose(o: Opened | undefined): Promise<void> {
  o?.lock?.release();
  await o?.transport?.close().catch(() => undefined);
}
