import { ifcfgText } from '../lvs/ifcfg-text.js';
import { z, modeArg } from './args.js';
import { observeFile, planFileWrite, type FileWriteObserved } from './copy.js';
import type { TaskModule } from './types.js';

const schema = z.object({
  device: z.string().regex(/^[A-Za-z0-9_.:@-]+$/, 'an interface name such as eth0 or lo:0'),
  settings: z.record(z.union([z.string(), z.number(), z.boolean()])).default({}),
  dir: z.string().default('/etc/sysconfig/network-scripts'),
  mode: modeArg.default('0644'),
}).strict();
type Args = z.infer<typeof schema>;

/** `ifcfg-<device>` from structured data (DEVICE, BOOTPROTO, IPADDR, NETMASK, GATEWAY, ONBOOT, ...). */
export const ifcfg: TaskModule<Args, FileWriteObserved> = {
  name: 'ifcfg',
  schema,
  async check(ctx, p) {
    const dest = `${p.dir}/ifcfg-${p.device}`;
    return { state: await observeFile(ctx, dest), want: ifcfgText(p.device, p.settings), source: 'settings' };
  },
  plan: (p, o) => planFileWrite({ dest: `${p.dir}/ifcfg-${p.device}`, mode: p.mode, backup: false }, o),
};
