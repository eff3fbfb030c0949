import { sh } from '../transport/shell.js';
import { z } from './args.js';
import { exec, noop, type Plan, type TaskModule } from './types.js';

const schema = z.object({
  table: z.enum(['filter', 'nat', 'mangle', 'raw']).default('filter'),
  chain: z.string().regex(/^[A-Za-z0-9_-]+$/),
  /** The rule's match and target as iptables words, e.g. "-s 10.0.0.0/24 ! -d 10.0.0.0/24 -j MASQUERADE". */
  rule: z.string().min(1),
  state: z.enum(['present', 'absent']).default('present'),
}).strict();
type Args = z.infer<typeof schema>;

/** Words of the rule; iptables arguments never need quoting inside, so whitespace splits them. */
const words = (r: string): string[] => r.trim().split(/\s+/);

/**
 * One iptables rule, checked with `iptables -C`: added only when missing, removed only when
 * present, and the undo reverses exactly that (a rule that was already there is never deleted).
 */
export const iptables: TaskModule<Args, { present: boolean }> = {
  name: 'iptables',
  schema,
  async check(ctx, p) {
    const r = await ctx.exec(sh`iptables -w -t ${p.table} -C ${p.chain} ${words(p.rule)}`);
    return { present: r.code === 0 };
  },
  plan(p, o): Plan {
    const add = exec(sh`iptables -w -t ${p.table} -A ${p.chain} ${words(p.rule)}`, { what: `add ${p.chain} rule` });
    const del = exec(sh`iptables -w -t ${p.table} -D ${p.chain} ${words(p.rule)}`, { what: `delete ${p.chain} rule` });
    const line = `-t ${p.table} -A ${p.chain} ${words(p.rule).join(' ')}\n`;
    if ((p.state === 'present') === o.present) return noop(`rule ${p.state} in ${p.table}/${p.chain}`);
    return p.state === 'present'
      ? { action: 'create', summary: `add ${p.table}/${p.chain}: ${p.rule}`, steps: [add], undo: [del], diff: [{ path: `iptables ${p.table}/${p.chain}`, before: '', after: line }] }
      : { action: 'delete', summary: `delete ${p.table}/${p.chain}: ${p.rule}`, steps: [del], undo: [add], diff: [{ path: `iptables ${p.table}/${p.chain}`, before: line, after: '' }] };
  },
};
