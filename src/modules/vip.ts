import { fileStateCmd, parseFileState, type FileState } from '../facts/file.js';
import { osFamily } from '../facts/os.js';
import { multiProbe, splitProbe } from '../facts/probe.js';
import { ifcfgText, ifupdownText, nmDummyKeyfile, prefixToNetmask } from '../lvs/ifcfg-text.js';
import { sh } from '../transport/shell.js';
import { z, boolish, ifaceLabel, ifaceName, ipAddr } from './args.js';
import { putFile, restorePath } from './file-steps.js';
import { exec, failPlan, noop, type Plan, type Step, type TaskModule } from './types.js';
import { interfacesToCreate } from './would-be.js';

const schema = z
  .object({
    address: ipAddr,
    prefix: z.coerce.number().int().min(1).max(128).default(32),
    interface: ifaceName.default('lo'),
    /** lo:0 for DR real servers; defaults to <interface>:0 on lo. */
    label: ifaceLabel.optional(),
    /** Create the interface when missing: a dummy interface, or tunl0 (ipip) for TUN real servers. */
    create: z.enum(['dummy', 'ipip']).optional(),
    state: z.enum(['present', 'absent']).default('present'),
    persist: boolish.default(true),
  })
  .strict();
type Args = z.infer<typeof schema>;
export interface VipObserved {
  linkExists: boolean;
  linkUp?: boolean;
  hasAddr: boolean;
  family: 'rhel' | 'debian';
  file: FileState;
  persistFile: string;
}

const labelOf = (p: Args): string => p.label ?? (p.interface === 'lo' ? 'lo:0' : p.interface);
const fileLabel = (label: string): string => label.replace(/[^A-Za-z0-9_-]/g, '-');
/** The persisted file: a dummy interface on a RHEL-family host is a NetworkManager keyfile (see nmDummyKeyfile). */
export const persistFileFor = (family: 'rhel' | 'debian', label: string, create?: Args['create']): string =>
  family === 'rhel'
    ? create === 'dummy'
      ? `/etc/NetworkManager/system-connections/lvsrun-${fileLabel(label)}.nmconnection`
      : `/etc/sysconfig/network-scripts/ifcfg-${label}`
    : `/etc/network/interfaces.d/lvsrun-${fileLabel(label)}`;

export function persistText(p: Args, family: 'rhel' | 'debian'): string {
  const label = labelOf(p);
  if (family === 'rhel' && p.create === 'dummy')
    return nmDummyKeyfile(`lvsrun-${fileLabel(label)}`, p.interface, p.address, p.prefix);
  return family === 'rhel'
    ? ifcfgText(label, { IPADDR: p.address, NETMASK: prefixToNetmask(p.prefix), ONBOOT: 'yes', NAME: 'lvs-vip' })
    : ifupdownText(label, p.address, p.prefix, p.create ? { kind: p.create, iface: p.interface } : undefined);
}

/** A VIP on an interface with a label, /32 by default, live (ip addr) and persisted (ifcfg or ifupdown). */
export const vip: TaskModule<Args, VipObserved> = {
  name: 'vip',
  schema,
  async check(ctx, p) {
    const family = await osFamily(ctx);
    const persistFile = persistFileFor(family, labelOf(p), p.create);
    const r = await ctx.exec(
      multiProbe([
        sh`ip -o addr show dev ${p.interface}`,
        fileStateCmd(persistFile),
        sh`ip -o link show dev ${p.interface}`,
      ]),
    );
    const [a, f, l] = splitProbe(r, 3) as [typeof r, typeof r, typeof r];
    const hasAddr = a.code === 0 && a.stdout.split('\n').some((x) => x.includes(` ${p.address}/${p.prefix} `));
    // An interface left down (tunl0 after an earlier rollback, a dummy set down by hand) receives nothing.
    const linkUp = l.code === 0 && /<([^>]*,)?UP[,>]/.test(l.stdout);
    if (ctx.check && a.code !== 0 && p.create && p.state === 'present')
      (await interfacesToCreate(ctx)).add(p.interface);
    return { linkExists: a.code === 0, linkUp, hasAddr, family, file: parseFileState(f, persistFile), persistFile };
  },
  plan(p, o): Plan {
    const steps: Step[] = [];
    const undo: Step[] = [];
    const diff = [];
    const cidr = `${p.address}/${p.prefix}`;
    if (p.state === 'present') {
      if (!o.linkExists) {
        if (!p.create)
          return failPlan(`interface ${p.interface} does not exist; set create: dummy (or ipip for tunl0)`);
        steps.push(
          exec(
            p.create === 'ipip'
              ? sh`modprobe ipip && ip link set ${p.interface} up`
              : sh`ip link add ${p.interface} type dummy && ip link set ${p.interface} up`,
            { what: `create ${p.interface}` },
          ),
        );
        undo.unshift(
          exec(p.create === 'ipip' ? sh`ip link set ${p.interface} down` : sh`ip link del ${p.interface}`, {
            what: `remove ${p.interface}`,
          }),
        );
      } else if (o.linkUp === false) {
        steps.push(exec(sh`ip link set ${p.interface} up`, { what: `bring ${p.interface} up` }));
        undo.unshift(exec(sh`ip link set ${p.interface} down`, { what: `set ${p.interface} down` }));
      }
      if (!o.hasAddr) {
        steps.push(exec(sh`ip addr add ${cidr} dev ${p.interface} label ${labelOf(p)}`, { what: `add ${cidr}` }));
        undo.unshift(exec(sh`ip addr del ${cidr} dev ${p.interface}`, { what: `remove ${cidr}` }));
        diff.push({ path: `${p.interface} addresses (live)`, before: '', after: `${cidr} label ${labelOf(p)}\n` });
      }
    } else if (o.hasAddr) {
      steps.push(exec(sh`ip addr del ${cidr} dev ${p.interface}`, { what: `remove ${cidr}` }));
      undo.unshift(exec(sh`ip addr add ${cidr} dev ${p.interface} label ${labelOf(p)}`, { what: `re-add ${cidr}` }));
      diff.push({ path: `${p.interface} addresses (live)`, before: `${cidr}\n`, after: '' });
    }
    if (p.persist) {
      const want = p.state === 'present' ? persistText(p, o.family) : undefined;
      if (want !== undefined && o.file.content !== want) {
        // NetworkManager ignores a keyfile others can read.
        const mode = o.persistFile.endsWith('.nmconnection') ? '0600' : '0644';
        steps.push(putFile(o.persistFile, want, { mode, mkdirs: Boolean(o.file.missingFrom) }));
        undo.unshift(...restorePath(o.persistFile, o.file));
        diff.push({ path: o.persistFile, before: o.file.content ?? '', after: want });
      } else if (want === undefined && o.file.exists) {
        steps.push(exec(sh`rm -f -- ${o.persistFile}`));
        undo.unshift(...restorePath(o.persistFile, o.file));
        diff.push({ path: o.persistFile, before: o.file.content ?? '', after: '' });
      }
    }
    if (!steps.length) return noop(`${cidr} ${p.state} on ${p.interface}`);
    return {
      action: 'update',
      summary: `${cidr} ${p.state === 'present' ? 'on' : 'off'} ${labelOf(p)}`,
      steps,
      undo,
      diff,
    };
  },
};
