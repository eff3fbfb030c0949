import { splitHostPort, type Forward, type Proto } from './ipvs-table.js';

/**
 * `ipvsadm -L -n` listings (plain and `--thresholds`) as data. A host's output is read strictly:
 * every line must be one ipvsadm prints, so a listing that is cut, padded with other text,
 * binary or too large is refused instead of being half-read into a wrong connection count.
 * Pure: no I/O.
 */
export interface ListedReal {
  addr: string;
  port: number;
  /** Plain listing: the forwarding method; `--thresholds`: undefined. */
  forward?: Forward | 'local';
  /** Plain listing: the weight. */
  weight?: number;
  /** `--thresholds` listing: the upper and lower connection thresholds (0 = none). */
  upper?: number;
  lower?: number;
  active: number;
  inactive: number;
}
export interface ListedService {
  proto: Proto;
  /** "VIP:port" for tcp/udp/sctp (IPv6 as "[addr]:port"), the mark for fwmark. */
  addr: string;
  reals: ListedReal[];
}

export class IpvsListError extends Error {}

/** Larger than any table a director holds (about 100 bytes a line): anything bigger is not a listing. */
export const MAX_LISTING = 4 * 1024 * 1024;

const PROTO: Record<string, Proto> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp', FWM: 'fwmark' };
const FORWARD: Record<string, Forward | 'local'> = { Route: 'dr', Masq: 'nat', Tunnel: 'tun', Local: 'local' };
const HEADERS = [
  /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)$/,
  /^Prot LocalAddress:Port Scheduler Flags$/,
  /^ {2}-> RemoteAddress:Port +Forward Weight ActiveConn InActConn$/,
  /^Prot LocalAddress:Port +Uthreshold Lthreshold ActiveConn InActConn$/,
  /^ {2}-> RemoteAddress:Port$/,
];
const SERVICE = /^(TCP|UDP|SCTP|FWM) {2}(\S+) [a-z]+( .*)?$/;
const REAL_PLAIN = /^ {2}-> (\S+) +(Route|Masq|Tunnel|Local) +(\d{1,5}) +(\d{1,10}) +(\d{1,10})$/;
const REAL_THRESH = /^ {2}-> (\S+) +(\d{1,10}) +(\d{1,10}) +(\d{1,10}) +(\d{1,10})$/;

/** A line of host output as it may be quoted in an error: printable, bounded. */
const shown = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);

export function parseIpvsList(text: string): ListedService[] {
  if (text.length > MAX_LISTING) throw new IpvsListError(`the listing is ${text.length} bytes: not ipvsadm output`);
  const services: ListedService[] = [];
  const seen = new Set<string>();
  let cur: ListedService | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, raw] of lines.entries()) {
    // ipvsadm pads the counter columns with trailing spaces; nothing else may differ.
    const line = raw.replace(/ +$/, '');
    if (/[^\x20-\x7e]/.test(line))
      throw new IpvsListError(`line ${i + 1}: a byte ipvsadm does not print in ${shown(line)}`);
    if (HEADERS.some((h) => h.test(line))) continue;
    const s = SERVICE.exec(line);
    if (s) {
      const proto = PROTO[s[1]!]!;
      const addr = s[2]!;
      if (proto === 'fwmark' ? !/^\d{1,10}$/.test(addr) : !/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(addr))
        throw new IpvsListError(`line ${i + 1}: cannot read the service ${shown(line)}`);
      const key = `${proto} ${addr}`;
      if (seen.has(key)) throw new IpvsListError(`line ${i + 1}: service ${addr} listed twice`);
      seen.add(key);
      cur = { proto, addr, reals: [] };
      services.push(cur);
      continue;
    }
    const p = REAL_PLAIN.exec(line);
    const t = p ? undefined : REAL_THRESH.exec(line);
    const m = p ?? t;
    if (!m) throw new IpvsListError(`line ${i + 1}: not a line of ipvsadm -L -n: ${shown(line)}`);
    if (!cur) throw new IpvsListError(`line ${i + 1}: a real server before any service: ${shown(line)}`);
    const hp = splitHostPort(m[1]!);
    if (!/:\d{1,5}$/.test(m[1]!) || hp.port > 65535)
      throw new IpvsListError(`line ${i + 1}: cannot read the real server address ${shown(m[1]!)}`);
    if (cur.reals.some((r) => r.addr === hp.host && r.port === hp.port))
      throw new IpvsListError(`line ${i + 1}: real server ${m[1]} listed twice in ${cur.addr}`);
    const n = (k: number): number => Number(m[k]);
    cur.reals.push(
      p
        ? { addr: hp.host, port: hp.port, forward: FORWARD[m[2]!]!, weight: n(3), active: n(4), inactive: n(5) }
        : { addr: hp.host, port: hp.port, upper: n(2), lower: n(3), active: n(4), inactive: n(5) },
    );
  }
  return services;
}

/** The service key as ipvsadm lists it: "VIP:port" ("[v6]:port") or the mark. */
export function listedServiceAddr(s: { vip?: string; port?: number; fwmark?: number }): string {
  if (s.fwmark !== undefined) return String(s.fwmark);
  return `${s.vip!.includes(':') ? `[${s.vip}]` : s.vip}:${s.port}`;
}
