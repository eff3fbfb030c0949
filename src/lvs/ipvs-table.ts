/**
 * The IPVS table as data, parsed from and rendered to `ipvsadm -S -n` rule lines, and the
 * smallest list of ipvsadm edits that turns one table into another. Pure: no I/O.
 */
export type Proto = 'tcp' | 'udp' | 'sctp' | 'fwmark';
export type Forward = 'dr' | 'nat' | 'tun';

/** ipvsadm's names for the forwarding methods (lower case), as the ipvs module accepts them. */
const FORWARD_NAMES: Record<string, Forward> = {
  dr: 'dr',
  g: 'dr',
  gatewaying: 'dr',
  route: 'dr',
  nat: 'nat',
  m: 'nat',
  masq: 'nat',
  masquerading: 'nat',
  tun: 'tun',
  i: 'tun',
  ipip: 'tun',
  tunnel: 'tun',
};
// Null prototype: a name such as 'constructor' is simply unknown.
export const FORWARD: Readonly<Record<string, Forward>> = Object.assign(
  Object.create(null) as Record<string, Forward>,
  FORWARD_NAMES,
);

export interface RealServer {
  addr: string;
  port: number;
  forward: Forward;
  weight: number;
  upper?: number;
  lower?: number;
}
export interface VirtualService {
  proto: Proto;
  /** "VIP:port" for tcp/udp/sctp, the mark for fwmark. */
  addr: string;
  scheduler: string;
  /** Persistence timeout in seconds; undefined = not persistent. */
  persistent?: number;
  netmask?: string;
  reals: RealServer[];
}

const PROTO_FLAG: Record<Proto, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service', fwmark: '-f' };
const FLAG_PROTO: Record<string, Proto> = { '-t': 'tcp', '-u': 'udp', '--sctp-service': 'sctp', '-f': 'fwmark' };
const FWD_FLAG: Record<Forward, string> = { dr: '-g', nat: '-m', tun: '-i' };
const FLAG_FWD: Record<string, Forward> = { '-g': 'dr', '-m': 'nat', '-i': 'tun' };

export const key = (s: Pick<VirtualService, 'proto' | 'addr'>): string => `${s.proto} ${s.addr}`;
const rkey = (r: Pick<RealServer, 'addr' | 'port'>): string => `${r.addr}:${r.port}`;

/** Split "a.b.c.d:port" or "[v6]:port". */
export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) return { host: s, port: 0 };
  return { host: m[1]!, port: Number(m[2]) };
}

export class IpvsParseError extends Error {}

/** Parse `ipvsadm -S -n` output. Unknown options are an error: a table we do not understand must not be edited. */
export function parseIpvsSave(text: string): VirtualService[] {
  const services = new Map<string, VirtualService>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const w = line.split(/\s+/);
    const op = w[0];
    const pflag = w[1]!;
    const proto = FLAG_PROTO[pflag];
    if ((op !== '-A' && op !== '-a') || !proto || w[2] === undefined)
      throw new IpvsParseError(`line ${i + 1}: cannot read '${line}'`);
    const addr = w[2];
    const opts = new Map<string, string>();
    for (let k = 3; k < w.length; k++) {
      const f = w[k]!;
      if (FLAG_FWD[f]) {
        opts.set('fwd', FLAG_FWD[f]);
        continue;
      }
      if (['-s', '-p', '-M', '-r', '-w', '-x', '-y'].includes(f)) {
        opts.set(f, w[++k] ?? '');
        continue;
      }
      throw new IpvsParseError(`line ${i + 1}: unsupported option '${f}' in '${line}'`);
    }
    if (op === '-A') {
      services.set(key({ proto, addr }), {
        proto,
        addr,
        scheduler: opts.get('-s') ?? 'wlc',
        reals: [],
        ...(opts.has('-p') ? { persistent: Number(opts.get('-p')) } : {}),
        ...(opts.has('-M') ? { netmask: opts.get('-M')! } : {}),
      });
    } else {
      const svc = services.get(key({ proto, addr }));
      if (!svc) throw new IpvsParseError(`line ${i + 1}: real server of an unknown service '${addr}'`);
      const { host, port } = splitHostPort(opts.get('-r') ?? '');
      svc.reals.push({
        addr: host,
        port,
        forward: (opts.get('fwd') as Forward | undefined) ?? 'dr',
        weight: Number(opts.get('-w') ?? 1),
        ...(opts.has('-x') && opts.get('-x') !== '0' ? { upper: Number(opts.get('-x')) } : {}),
        ...(opts.has('-y') && opts.get('-y') !== '0' ? { lower: Number(opts.get('-y')) } : {}),
      });
    }
  }
  return [...services.values()];
}

function svcArgs(s: VirtualService, withSched: boolean): string[] {
  const a = [PROTO_FLAG[s.proto], s.addr];
  if (!withSched) return a;
  a.push('-s', s.scheduler);
  if (s.persistent !== undefined) a.push('-p', String(s.persistent));
  if (s.persistent !== undefined && s.netmask) a.push('-M', s.netmask);
  return a;
}

/** A real server's ipvsadm words: its service and address, and with `full` its forwarding, weight and thresholds. */
export function realArgs(s: VirtualService, r: RealServer, full: boolean): string[] {
  const host = r.addr.includes(':') ? `[${r.addr}]` : r.addr;
  const a = [...svcArgs(s, false), '-r', `${host}:${r.port}`];
  if (!full) return a;
  a.push(FWD_FLAG[r.forward], '-w', String(r.weight));
  if (r.upper) a.push('-x', String(r.upper));
  if (r.lower) a.push('-y', String(r.lower));
  return a;
}

/** Rule lines as `ipvsadm -S -n` prints them (and `ipvsadm -R` reads them). */
export function renderRules(t: VirtualService[]): string {
  return (
    t
      .map((s) =>
        [['-A', ...svcArgs(s, true)].join(' '), ...s.reals.map((r) => ['-a', ...realArgs(s, r, true)].join(' '))].join(
          '\n',
        ),
      )
      .join('\n') + (t.length ? '\n' : '')
  );
}

/** One ipvsadm invocation, as argv (quoted by the caller). */
export type IpvsEdit = string[];

const sameSvc = (a: VirtualService, b: VirtualService): boolean =>
  a.scheduler === b.scheduler &&
  a.persistent === b.persistent &&
  (a.persistent === undefined || (a.netmask ?? '') === (b.netmask ?? ''));
// Thresholds are compared only when the live side shows them: `ipvsadm -S` does not save them.
const sameReal = (live: RealServer, want: RealServer): boolean =>
  live.forward === want.forward &&
  live.weight === want.weight &&
  (live.upper === undefined || live.upper === (want.upper ?? 0)) &&
  (live.lower === undefined || live.lower === (want.lower ?? 0));

/**
 * The smallest edit list from `live` to `want`: -E/-e change in place (so connections survive a
 * weight or scheduler change), -A/-a add, -d/-D remove. Services and real servers that are live
 * but not declared are removed only when `own` (the declaration owns the whole table).
 */
export function planEdits(live: VirtualService[], want: VirtualService[], own: boolean): IpvsEdit[] {
  const edits: IpvsEdit[] = [];
  const liveBy = new Map(live.map((s) => [key(s), s]));
  const wantBy = new Map(want.map((s) => [key(s), s]));
  for (const w of want) {
    const l = liveBy.get(key(w));
    if (!l) {
      edits.push(['-A', ...svcArgs(w, true)]);
      for (const r of w.reals) edits.push(['-a', ...realArgs(w, r, true)]);
      continue;
    }
    if (!sameSvc(l, w)) edits.push(['-E', ...svcArgs(w, true)]);
    const lr = new Map(l.reals.map((r) => [rkey(r), r]));
    const wr = new Set(w.reals.map(rkey));
    // Within a declared service the declaration is the truth: undeclared real servers go.
    for (const r of l.reals) if (!wr.has(rkey(r))) edits.push(['-d', ...realArgs(l, r, false)]);
    for (const r of w.reals) {
      const cur = lr.get(rkey(r));
      if (!cur) edits.push(['-a', ...realArgs(w, r, true)]);
      else if (!sameReal(cur, r)) edits.push(['-e', ...realArgs(w, r, true)]);
    }
  }
  if (own) for (const l of live) if (!wantBy.has(key(l))) edits.push(['-D', ...svcArgs(l, false)]);
  return edits;
}
