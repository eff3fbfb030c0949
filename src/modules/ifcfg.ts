import { IFCFG_KEY, ifcfgText } from '../lvs/ifcfg-text.js';
import { z, ifaceLabel, modeArg } from './args.js';
import { observeFile, planFileWrite, type FileWriteObserved } from './copy.js';
import type { TaskModule } from './types.js';

const schema = z
  .object({
    device: ifaceLabel,
    // Keys become shell variable names in a file the network scripts source; values are quoted there,
    // and one line each (NetworkManager's ifcfg-rh reader takes the file line by line).
    settings: z
      .record(
        z.string().regex(IFCFG_KEY, 'a variable name such as IPADDR (letters, digits, _; not starting with a digit)'),
        z.union([
          z
            .string()
            .max(4096)
            .regex(/^[^\x00-\x1f\x7f]*$/, 'one line, no control characters'),
          z.number(),
          z.boolean(),
        ]),
      )
      .default({}),
    dir: z.string().default('/etc/sysconfig/network-scripts'),
    mode: modeArg.default('0644'),
  })
  .strict();
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
