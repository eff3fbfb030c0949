import { joinCmds, sh } from '../transport/shell.js';
import { ifaceName, z } from './args.js';
import { exec, type TaskModule } from './types.js';

/**
 * Cut the MASTER's link with a dead-man switch on the host itself: the interface comes back after
 * `seconds` even though this run loses its connection meanwhile. The undo (link up) is journaled.
 */
export const linkCut: TaskModule<{ iface: string; seconds: number }, null> = {
  name: 'link_cut',
  schema: z.object({ iface: ifaceName, seconds: z.number().int().min(1).max(120) }).strict(),
  check: async () => null,
  plan: (p) => ({
    action: 'update',
    summary: `${p.iface} down for ${p.seconds} s`,
    steps: [
      exec(
        joinCmds(
          [
            sh`nohup /bin/sh -c ${`ip link set ${p.iface} down; sleep ${p.seconds}; ip link set ${p.iface} up`} `,
            sh`>/dev/null 2>&1 &`,
          ],
          '',
        ),
      ),
    ],
    undo: [exec(sh`ip link set ${p.iface} up`)],
  }),
};
