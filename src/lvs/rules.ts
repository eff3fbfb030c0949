import type { Origin } from '../inventory/types.js';
import type { Director, LvsModel, RealServerHost, Val } from './model.js';

/** One problem found before any host is touched. Rules and their sources: docs/lvs.md, "lvsrun validate". */
export interface Finding {
  rule: string;
  severity: 'error' | 'warn' | 'info';
  host: string;
  variable?: string;
  origin?: Origin;
  message: string;
  hint?: string;
}

export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
  'twos',
];
const METHODS = ['DR', 'NAT', 'TUN'];

const num = (v?: Val): number | undefined => (v === undefined ? undefined : Number(v.value));
const str = (v?: Val): string | undefined => (v === undefined ? undefined : String(v.value));
const truthy = (v?: Val): boolean =>
  v !== undefined && v.value !== false && v.value !== 'false' && v.value !== 'no' && v.value !== 0 && v.value !== '';
const intIn = (v: Val | undefined, lo: number, hi: number): boolean => {
  const n = num(v);
  return n !== undefined && Number.isInteger(n) && n >= lo && n <= hi;
};

export function validateModel(m: LvsModel): Finding[] {
  const out: Finding[] = [];
  const at: At = (d, v, rule, severity, message, hint) => {
    out.push({
      rule,
      severity,
      host: d.host,
      ...(v ? { variable: v.var } : {}),
      ...(v?.origin ? { origin: v.origin } : {}),
      message,
      ...(hint ? { hint } : {}),
    });
  };
  for (const d of m.directors) perDirector(d, at);
  const groups = new Map<string, Director[]>();
  for (const d of m.directors.filter((x) => x.vrrp))
    groups.set(`${d.cluster}/${d.instance}`, [...(groups.get(`${d.cluster}/${d.instance}`) ?? []), d]);
  for (const [name, peers] of groups) perInstance(name, peers, at);
  vridCollisions(groups, at);
  vipClaims(groups, at);
  routerIds(
    m.directors.filter((x) => x.vrrp),
    at,
  );
  for (const d of m.directors) realServerRules(d, [...(m.realservers.get(d.rsGroup) ?? []), ...(d.reals ?? [])], at);
  return dedupe(out);
}

type At = (
  d: { host: string },
  v: Val | undefined,
  rule: string,
  severity: Finding['severity'],
  message: string,
  hint?: string,
) => void;

function perDirector(d: Director, at: At): void {
  if (d.scheduler !== undefined && !SCHEDULERS.includes(String(d.scheduler.value)))
    at(
      d,
      d.scheduler,
      'scheduler',
      'error',
      `unknown scheduler '${str(d.scheduler)}'`,
      `one of ${SCHEDULERS.join(', ')}`,
    );
  if (d.method !== undefined && !METHODS.includes(String(d.method.value).toUpperCase()))
    at(d, d.method, 'method', 'error', `unknown forwarding method '${str(d.method)}'`, 'DR, NAT or TUN');
  if (!d.vrrp) return;
  // Not an error: a playbook that does not configure keepalived needs no VRID (the template would say so).
  if (d.vrid === undefined)
    at(
      d,
      undefined,
      'vrid-missing',
      'info',
      `director ${d.host} has no lvs_vrid`,
      'set lvs_vrid (1-255), the same on every peer of the instance',
    );
  else if (!intIn(d.vrid, 1, 255))
    at(
      d,
      d.vrid,
      'vrid-range',
      'error',
      `virtual_router_id ${str(d.vrid)} is not a whole number in 1-255`,
      'keepalived refuses the instance: "VRID not valid - must be between 1 & 255"',
    );
  if (d.priority !== undefined && !intIn(d.priority, 1, 255))
    at(
      d,
      d.priority,
      'priority-range',
      'error',
      `priority ${str(d.priority)} is not in 1-255`,
      'keepalived falls back to the default priority with an error; 255 means address owner',
    );
  if (d.state !== undefined && !['MASTER', 'BACKUP'].includes(String(d.state.value).toUpperCase()))
    at(d, d.state, 'state-value', 'error', `state ${str(d.state)} is neither MASTER nor BACKUP`);
  if (
    d.advert !== undefined &&
    (!Number.isFinite(num(d.advert)) || num(d.advert)! <= 0 || num(d.advert)! > 255 || !Number.isInteger(num(d.advert)))
  ) {
    at(
      d,
      d.advert,
      'advert-int',
      'error',
      `advert_int ${str(d.advert)} is not a whole number of seconds in 1-255`,
      'VRRPv2 rounds fractions down with an error',
    );
  }
  const auth = str(d.auth);
  if (auth !== undefined && auth.length > 8)
    at(
      d,
      d.auth,
      'auth-pass-length',
      'error',
      `auth_pass has ${auth.length} characters; keepalived uses only the first 8`,
      'use at most 8 characters, the same on every peer',
    );
  if (auth !== undefined)
    at(
      d,
      d.auth,
      'auth-deprecated',
      'info',
      'VRRP PASS authentication was removed by RFC 3768; it gives no security',
      'keep it only for compatibility with existing peers',
    );
  if (truthy(d.nopreempt)) {
    if (String(d.state?.value ?? '').toUpperCase() === 'MASTER')
      at(
        d,
        d.state,
        'nopreempt-master',
        'error',
        'nopreempt does not work with initial state MASTER (keepalived clears it)',
        'set keepalived_state: BACKUP on every peer and let priority decide',
      );
    if (num(d.priority) === 255)
      at(d, d.priority, 'nopreempt-owner', 'error', 'nopreempt is incompatible with priority 255 (address owner)');
    if (d.preemptDelay !== undefined)
      at(d, d.preemptDelay, 'preempt-delay-nopreempt', 'error', 'preempt_delay is incompatible with nopreempt');
  }
  if (d.preemptDelay !== undefined && !intIn(d.preemptDelay, 0, 1000))
    at(d, d.preemptDelay, 'preempt-delay-range', 'error', `preempt_delay ${str(d.preemptDelay)} is not in 0-1000 s`);
  trackScripts(d, at);
}

function trackScripts(d: Director, at: At): void {
  const used = Array.isArray(d.trackScripts?.value)
    ? (d.trackScripts.value as unknown[]).map(String)
    : d.trackScripts
      ? [String(d.trackScripts.value)]
      : [];
  const defined =
    d.vrrpScripts && typeof d.vrrpScripts.value === 'object'
      ? (d.vrrpScripts.value as Record<string, { weight?: number }>)
      : {};
  for (const s of used)
    if (!(s in defined))
      at(
        d,
        d.trackScripts,
        'track-script-undefined',
        'error',
        `track_script '${s}' is not defined in lvs_vrrp_scripts`,
        `defined: ${Object.keys(defined).join(', ') || 'none'}`,
      );
  for (const [name, def] of Object.entries(defined)) {
    const w = def?.weight;
    if (w !== undefined && (!Number.isInteger(Number(w)) || Number(w) < -253 || Number(w) > 253))
      at(d, d.vrrpScripts, 'track-weight', 'error', `vrrp_script ${name} weight ${w} is not in -253..253`);
    if (w !== undefined && Number(w) !== 0 && num(d.priority) === 255)
      at(
        d,
        d.vrrpScripts,
        'track-weight-owner',
        'error',
        `vrrp_script ${name} has weight ${w} but priority is 255: an address owner's tracking weight must be 0`,
      );
  }
}

function perInstance(name: string, peers: Director[], at: At): void {
  const first = peers[0]!;
  // keepalived's defaults count as values: advert_int 1 unless set
  const val = (p: Director, f: 'vrid' | 'vip' | 'advert' | 'auth'): string =>
    JSON.stringify(p[f]?.value ?? (f === 'advert' ? 1 : null));
  for (const [field, label] of [
    ['vrid', 'virtual_router_id'],
    ['vip', 'VIP'],
    ['advert', 'advert_int'],
    ['auth', 'auth_pass'],
  ] as const) {
    for (const p of peers.slice(1))
      if (val(p, field) !== val(first, field)) {
        // A password is never quoted, masked or not: naming the two hosts is enough to find it.
        const sides =
          field === 'auth'
            ? `${p.host} and ${first.host} disagree`
            : `${p.host} has ${val(p, field)}, ${first.host} has ${val(first, field)}`;
        at(
          p,
          p[field],
          'peer-mismatch',
          'error',
          `${label} differs between peers of ${name}: ${sides}`,
          'every director of one vrrp_instance must share VRID, VIP, advert_int and auth, or both may become MASTER',
        );
      }
  }
  if (peers.length < 2) return;
  unicastPeers(name, peers, at);
  const masters = peers.filter((p) => String(p.state?.value ?? '').toUpperCase() === 'MASTER');
  const prio = (p: Director): number => num(p.priority) ?? 100;
  const top = Math.max(...peers.map(prio));
  if (masters.length !== 1 && !peers.some((p) => truthy(p.nopreempt))) {
    at(
      first,
      first.state,
      'one-master',
      'error',
      `${name} has ${masters.length} directors with state MASTER ` +
        `(${masters.map((m) => m.host).join(', ') || 'none'}); exactly one is intended`,
      'give one director keepalived_state: MASTER and the highest priority',
    );
  }
  for (const m of masters)
    if (prio(m) < top)
      at(
        m,
        m.priority,
        'master-priority',
        'error',
        `${m.host} is the intended MASTER of ${name} but its priority ${prio(m)} is below ${top}`,
        'the highest priority wins the election; give the MASTER the highest',
      );
  const seen = new Map<number, string>();
  for (const p of peers) {
    const other = seen.get(prio(p));
    if (other)
      at(
        p,
        p.priority,
        'priority-tie',
        'warn',
        `${p.host} and ${other} have the same priority ${prio(p)} in ${name}`,
        'distinct priorities make the election deterministic; leave a gap of about 50',
      );
    seen.set(prio(p), p.host);
  }
}

/** unicast_peer's addresses (task-directors always gives a list). */
function peersOf(d: Director): string[] {
  const v = d.unicastPeers?.value;
  return Array.isArray(v) ? v.map(String).filter(Boolean) : [];
}
const ownAddr = (d: Director): string | undefined => str(d.unicastSrc) ?? str(d.addr);

/**
 * Unicast VRRP: every peer sends to the others' addresses; a peer left out, or one still on
 * multicast, never hears the rest.
 */
function unicastPeers(name: string, peers: Director[], at: At): void {
  if (!peers.some((p) => peersOf(p).length)) return;
  for (const p of peers) {
    const list = peersOf(p);
    if (!list.length) {
      at(
        p,
        p.unicastPeers ?? p.vrid,
        'unicast-mixed',
        'error',
        `${p.host} uses multicast in ${name} while its peers use unicast_peer: they never hear each other`,
        "give every peer of the instance unicast_peer (the others' addresses), or none",
      );
      continue;
    }
    for (const q of peers) {
      const addr = ownAddr(q);
      if (q === p || addr === undefined || list.includes(addr)) continue;
      at(
        p,
        p.unicastPeers,
        'unicast-peers',
        'error',
        `${p.host}'s unicast_peer in ${name} lacks ${q.host} (${addr})`,
        `list every other peer's unicast_src_ip (or address): ${peers
          .filter((x) => x !== p)
          .map(ownAddr)
          .filter(Boolean)
          .join(', ')}`,
      );
    }
  }
}

/** Two unicast instances whose peer sets do not overlap never see each other's adverts: their VRIDs may repeat. */
function apart(a: Director[], b: Director[]): boolean {
  const set = (ps: Director[]): Set<string> | undefined => {
    if (!ps.every((p) => peersOf(p).length)) return undefined;
    return new Set(ps.flatMap((p) => [...peersOf(p), ...(ownAddr(p) ? [ownAddr(p)!] : [])]));
  };
  const sa = set(a);
  const sb = set(b);
  return sa !== undefined && sb !== undefined && ![...sa].some((x) => sb.has(x));
}

function vridCollisions(groups: Map<string, Director[]>, at: At): void {
  const byVrid = new Map<string, Array<[string, Director]>>();
  for (const [name, peers] of groups) {
    const d = peers[0]!;
    if (!intIn(d.vrid, 1, 255)) continue;
    const k = `${d.segment}/${String(d.iface?.value ?? '')}/${num(d.vrid)}`;
    byVrid.set(k, [...(byVrid.get(k) ?? []), [name, d]]);
  }
  for (const list of byVrid.values()) {
    if (list.length < 2) continue;
    for (const [name, d] of list.slice(1)) {
      if (apart(groups.get(name)!, groups.get(list[0]![0])!)) continue;
      at(
        d,
        d.vrid,
        'vrid-collision',
        'error',
        `VRID ${num(d.vrid)} on ${String(d.iface?.value ?? 'the same interface')} is used by ${name} ` +
          `and by ${list[0]![0]} (${list[0]![1].host}) in the same segment`,
        'give every vrrp_instance on one L2 segment its own virtual_router_id',
      );
    }
  }
}

/** One VIP held by two instances with different VRIDs: two elections, two MASTERs, the address on both. */
function vipClaims(groups: Map<string, Director[]>, at: At): void {
  const byVip = new Map<string, Array<[string, Director]>>();
  for (const [name, peers] of groups) {
    const d = peers[0]!;
    const vip = str(d.vip);
    if (vip === undefined || !intIn(d.vrid, 1, 255)) continue;
    const k = `${d.segment}/${vip}`;
    byVip.set(k, [...(byVip.get(k) ?? []), [name, d]]);
  }
  for (const list of byVip.values()) {
    const [firstName, first] = list[0]!;
    for (const [name, d] of list.slice(1)) {
      if (num(d.vrid) === num(first.vrid)) continue;
      at(
        d,
        d.vrid,
        'vip-split',
        'error',
        `VIP ${str(d.vip)} is claimed by ${name} (VRID ${num(d.vrid)}, ` +
          `${d.host}) and by ${firstName} (VRID ${num(first.vrid)}, ${first.host}): each elects its own MASTER, ` +
          'both hold the address',
        'one VIP belongs to one vrrp_instance: give its directors the same lvs_cluster/lvs_instance and VRID',
      );
    }
  }
}

/** keepalived's router_id names the host in notifications and SNMP: a copy on two directors confuses both. */
function routerIds(directors: Director[], at: At): void {
  const byId = new Map<string, string>();
  for (const d of directors) {
    const id = str(d.routerId);
    if (id === undefined || id === '') continue;
    const other = byId.get(id);
    if (other !== undefined && other !== d.host) {
      at(
        d,
        d.routerId,
        'router-id-duplicate',
        'warn',
        `router_id ${id} is used by ${d.host} and ${other}`,
        'give each director its own router_id (or leave it unset: keepalived uses the host name)',
      );
    }
    if (other === undefined) byId.set(id, d.host);
  }
}

function realServerRules(d: Director, rs: RealServerHost[], at: At): void {
  const vsPort = num(d.port);
  const seen = new Set<string>();
  // The director's own addresses: a DR/TUN real server routing through one of them is the NAT mistake.
  const directorAddrs = new Set([str(d.dip), str(d.addr)].filter((a): a is string => a !== undefined));
  for (const r of rs) {
    const method = String((r.method ?? d.method)?.value ?? 'DR').toUpperCase();
    const port = num(r.port) ?? vsPort;
    const k = `${str(r.addr) ?? r.host}:${port}`;
    if (seen.has(k))
      at(r, r.addr, 'duplicate-rs', 'error', `real server ${k} appears twice in the virtual service of ${d.host}`);
    seen.add(k);
    if (r.weight !== undefined && !intIn(r.weight, 0, 65535))
      at(
        r,
        r.weight,
        'weight-range',
        'error',
        `weight ${str(r.weight)} is not a whole number in 0-65535`,
        '0 means quiescent (drain), not removed',
      );
    if (
      (method === 'DR' || method === 'TUN') &&
      r.port !== undefined &&
      vsPort !== undefined &&
      num(r.port) !== vsPort
    ) {
      at(
        r,
        r.port,
        'port-remap',
        'error',
        `${method} cannot remap ports: real server port ${num(r.port)} differs from the service port ${vsPort}`,
        'use NAT to remap ports, or make them equal',
      );
    }
    // Nothing is known of how a listed address outside the inventory is configured.
    if (r.external) continue;
    if (method === 'NAT') {
      const dip = str(d.dip);
      if (r.gateway === undefined)
        at(
          r,
          undefined,
          'nat-gateway',
          'error',
          `NAT real server ${r.host} has no lvs_gateway; replies must go back through the director`,
          `set lvs_gateway to the director's inside address${dip ? ` (${dip})` : ''}`,
        );
      else if (dip !== undefined && str(r.gateway) !== dip)
        at(
          r,
          r.gateway,
          'nat-gateway',
          'error',
          `NAT real server ${r.host} routes via ${str(r.gateway)}, not the director's ${dip}`,
          'set lvs_gateway to lvs_dip of the director',
        );
    } else {
      if (r.arpIgnore !== undefined && num(r.arpIgnore) !== 1)
        at(
          r,
          r.arpIgnore,
          'arp-settings',
          'error',
          `${method} real server needs arp_ignore=1 (has ${str(r.arpIgnore)})`,
          'otherwise it answers ARP for the VIP and steals traffic from the director',
        );
      if (r.arpAnnounce !== undefined && num(r.arpAnnounce) !== 2)
        at(
          r,
          r.arpAnnounce,
          'arp-settings',
          'error',
          `${method} real server needs arp_announce=2 (has ${str(r.arpAnnounce)})`,
        );
      if (r.gateway !== undefined && directorAddrs.has(str(r.gateway)!))
        at(
          r,
          r.gateway,
          'mode-mismatch',
          'warn',
          `${method} real server routes through the director (${str(r.gateway)}) like a NAT one`,
          'in DR/TUN replies go straight to the client',
        );
    }
    if (method === 'TUN' && r.rpFilter !== undefined && num(r.rpFilter) === 1)
      at(
        r,
        r.rpFilter,
        'tun-rp-filter',
        'error',
        'TUN real server with strict rp_filter drops decapsulated packets',
        'set rp_filter to 0 or 2 on tunl0 and all',
      );
  }
}

function dedupe(fs: Finding[]): Finding[] {
  const seen = new Set<string>();
  return fs.filter((f) => {
    const k = `${f.rule}|${f.host}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
