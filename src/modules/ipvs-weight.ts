import { parseIpvsSave, realArgs, type VirtualService } from '../lvs/ipvs-table.js';
import { raw, sh } from '../transport/shell.js';
import { z } from './args.js';
import { exec, noop, type Plan, type TaskModule } from './types.js';

const schema = z.object({ addr: z.string(), weight: z.number().int().min(0).max(65535) }).strict();
type Args = z.infer<typeof schema>;

/**
 * A drill-only module: one real server's weight in every live service of this director, with the
 * undo that puts each weight back. (Weight 0 = quiescent: no new connections, existing ones finish.)
 */
export const rsWeight: TaskModule<Args, VirtualService[]> = {
  name: 'ipvs_weight',
  schema,
  async check(ctx) {
    const r = await ctx.exec(raw('ipvsadm -S -n'));
    return r.code === 0 ? parseIpvsSave(r.stdout) : [];
  },
  plan(p, table): Plan {
    const hits = table.flatMap((s) =>
      s.reals.filter((r) => r.addr === p.addr && r.weight !== p.weight).map((r) => ({ s, r })),
    );
    if (!hits.length) return noop(`${p.addr} already at weight ${p.weight} (or not in the table)`);
    return {
      action: 'update',
      summary: `weight of ${p.addr} → ${p.weight} in ${hits.length} service(s)`,
      steps: hits.map(({ s, r }) => exec(sh`ipvsadm -e ${realArgs(s, { ...r, weight: p.weight }, true)}`)),
      undo: hits.map(({ s, r }) => exec(sh`ipvsadm -e ${realArgs(s, r, true)}`)).reverse(),
    };
  },
};
