import type { InventoryMagic } from '../engine/vars.js';
import type { Inventory, Origin } from '../inventory/types.js';
import type { Playbook } from '../playbook/types.js';
import type { TemplateEngine } from '../template/render.js';
import type { RealServerFacts, Val } from './model.js';
import { forEachTask, valuer } from './task-directors.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

const CONF = /^net[./]ipv4[./]conf[./]([^./]+)[./](arp_ignore|arp_announce|rp_filter)$/;
type Key = 'arp_ignore' | 'arp_announce' | 'rp_filter';

interface HostTasks {
  gateway?: Val;
  /** sysctl values per `iface key`, the last task's. */
  conf: Map<string, Val>;
  /** Interfaces a `vip` task puts an address on. */
  vipIfaces: Set<string>;
  /** The host's last `vip` task takes an address away: it is leaving the service (a teardown). */
  leaving?: boolean;
}

/**
 * What each host's own `route`, `ifcfg`, `sysctl` and `vip` tasks set that the real-server rules
 * check: the default gateway (a default route's `via`, an ifcfg `GATEWAY`), and arp_ignore,
 * arp_announce and rp_filter as the kernel applies them to the VIP's interface: the larger of the
 * `all` value and the interface's own.
 */
export function realServerFacts(
  inv: Inventory,
  pb: Playbook | undefined,
  templates: TemplateEngine,
  extraVars: Obj,
  magic: InventoryMagic,
  origins: (host: string) => Record<string, Origin>,
): Map<string, RealServerFacts> {
  const seen = new Map<string, HostTasks>();
  const of = (h: string): HostTasks => {
    let t = seen.get(h);
    if (!t) seen.set(h, (t = { conf: new Map(), vipIfaces: new Set() }));
    return t;
  };
  forEachTask(inv, pb, templates, extraVars, magic, ['route', 'ifcfg', 'sysctl', 'vip'], (host, task, raw, a, vars) => {
    const val = valuer(task, origins(host), vars);
    const t = of(host);
    const present = a.state === undefined || a.state === 'present';
    if (task.module === 'route' && present && ['default', '0.0.0.0/0'].includes(String(a.dest ?? 'default'))) {
      const v = val(raw.via, a.via, 'via');
      if (v) t.gateway = v;
    } else if (task.module === 'ifcfg') {
      const settings = obj(a.settings);
      const k = Object.keys(settings).find((x) => x.toUpperCase() === 'GATEWAY');
      const v = k ? val(obj(raw.settings)[k], settings[k], `settings.${k}`) : undefined;
      if (v) t.gateway = v;
    } else if (task.module === 'sysctl' && present) {
      const m = CONF.exec(String(a.name ?? ''));
      const v = m ? val(raw.value, a.value, String(a.name)) : undefined;
      if (m && v) t.conf.set(`${m[1]} ${m[2]}`, v);
    } else if (task.module === 'vip') {
      if (present) t.vipIfaces.add(String(a.interface ?? 'lo'));
      t.leaving = !present;
    }
  });
  const out = new Map<string, RealServerFacts>();
  for (const [host, t] of seen) {
    // A host whose tasks end by removing its VIP no longer serves it: what they set for ARP and
    // routing is being undone, not configured for a real server.
    if (t.leaving) continue;
    const ifaces = t.vipIfaces.size ? [...t.vipIfaces] : ['lo'];
    const eff = (key: Key): Val | undefined => effective(t.conf, key, ifaces);
    const f: RealServerFacts = {};
    if (t.gateway) f.gateway = t.gateway;
    const ai = eff('arp_ignore');
    const aa = eff('arp_announce');
    const rp = eff('rp_filter');
    if (ai) f.arpIgnore = ai;
    if (aa) f.arpAnnounce = aa;
    if (rp) f.rpFilter = rp;
    if (Object.keys(f).length) out.set(host, f);
  }
  return out;
}

/**
 * The kernel uses max(all, interface) for these three: the effective value on the VIP's interface
 * (the lowest over several), under the task that set the deciding value. Undefined when no task sets it.
 */
function effective(conf: Map<string, Val>, key: Key, ifaces: string[]): Val | undefined {
  const all = conf.get(`all ${key}`);
  let worst: Val | undefined;
  for (const i of ifaces) {
    const own = conf.get(`${i} ${key}`);
    const pick = [all, own]
      .filter((v): v is Val => v !== undefined)
      .sort((a, b) => Number(b.value) - Number(a.value))[0];
    if (pick && (!worst || Number(pick.value) < Number(worst.value))) worst = pick;
  }
  return worst;
}
