import { sh } from '../transport/shell.js';
import { z } from './args.js';
import { exec, noop, type Plan, type TaskModule } from './types.js';

/** Words of the rule; iptables arguments never need quoting inside, so whitespace splits them. */
const words = (r: string): string[] => r.trim().split(/\s+/);

/*
 * The rule is iptables words, so options are expected; what is refused is any word that would turn
 * the command into another one: a command (-A -D -F ...), -t, or --modprobe/-M (runs a program as
 * root). Short options must stand alone (`-vM/tmp/x` is -v plus -M), and a long option must not be
 * an abbreviation of a refused one (getopt accepts `--modp=`).
 */
const COMMANDS = [
  'append',
  'check',
  'delete',
  'insert',
  'replace',
  'list',
  'list-rules',
  'flush',
  'zero',
  'new-chain',
  'delete-chain',
  'policy',
  'rename-chain',
  'modprobe',
  'table',
  'wait',
  'wait-interval',
  'help',
  'version',
];
const SHORT = new Set(['-p', '-s', '-d', '-i', '-o', '-j', '-g', '-m', '-f', '-c', '-4', '-6']);

export function badRuleWord(w: string): string | undefined {
  if (w.startsWith('--')) {
    const opt = w.slice(2).split('=')[0]!;
    const refused = !opt || COMMANDS.some((c) => c.startsWith(opt));
    return refused ? `'${w}' is an iptables command or global option, not part of a rule` : undefined;
  }
  if (w.startsWith('-') && w.length > 1 && !SHORT.has(w)) {
    return `'${w}': short options in a rule are ${[...SHORT].join(' ')}, each a word of its own`;
  }
  return /[\x00-\x1f\x7f]/.test(w) ? 'control characters in a rule word' : undefined;
}

const schema = z
  .object({
    table: z.enum(['filter', 'nat', 'mangle', 'raw']).default('filter'),
    chain: z
      .string()
      .max(28)
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'a chain name such as INPUT (no leading dash)'),
    /** The rule's match and target as iptables words, e.g. "-s 10.0.0.0/24 ! -d 10.0.0.0/24 -j MASQUERADE". */
    rule: z
      .string()
      .min(1)
      .max(4096)
      .superRefine((r, ctx) => {
        for (const w of words(r)) {
          const m = badRuleWord(w);
          if (m) {
            ctx.addIssue({ code: 'custom', message: m });
            return;
          }
        }
      }),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .strict();
type Args = z.infer<typeof schema>;

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
      ? {
          action: 'create',
          summary: `add ${p.table}/${p.chain}: ${p.rule}`,
          steps: [add],
          undo: [del],
          diff: [{ path: `iptables ${p.table}/${p.chain}`, before: '', after: line }],
        }
      : {
          action: 'delete',
          summary: `delete ${p.table}/${p.chain}: ${p.rule}`,
          steps: [del],
          undo: [add],
          diff: [{ path: `iptables ${p.table}/${p.chain}`, before: line, after: '' }],
        };
  },
};
