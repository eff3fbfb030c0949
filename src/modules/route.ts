import { sh } from '../transport/shell.js';
import { z, ifaceName, ipAddr } from './args.js';
import { isIpOrCidr } from '../lvs/addr.js';
import { exec, noop, type Plan, type TaskModule } from './types.js';

// Typed, so that no value reaches `ip route` as an option (a leading dash) or as two words.
const schema = z
  .object({
    dest: z
      .string()
      .refine((s) => s === 'default' || isIpOrCidr(s), 'default, an IP address or ADDR/LEN')
      .default('default'),
    via: ipAddr.optional(),
    dev: ifaceName.optional(),
    state: z.enum(['present', 'absent']).default('present'),
  })
  .strict()
  .refine((a) => a.state === 'absent' || a.via !== undefined || a.dev !== undefined, {
    message: 'give via or dev',
    path: ['via'],
  });
type Args = z.infer<typeof schema>;

/** `ip route` lines for the destination, as `ip -o route show` prints them (trailing spaces trimmed). */
export interface RouteObserved {
  lines: string[];
}

const want = (p: Args): string[] => [p.dest, ...(p.via ? ['via', p.via] : []), ...(p.dev ? ['dev', p.dev] : [])];

/**
 * A route (NAT real servers: default via the director's inside address), live; the undo puts back
 * the routes it replaced.
 */
export const route: TaskModule<Args, RouteObserved> = {
  name: 'route',
  schema,
  async check(ctx, p) {
    const r = await ctx.exec(sh`ip -o route show ${p.dest === 'default' ? 'default' : p.dest}`);
    return {
      lines: r.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    };
  },
  plan(p, o): Plan {
    const w = want(p);
    const matches = (l: string): boolean => {
      const t = l.split(/\s+/);
      return w.every((x, i) => i === 0 || t.includes(x)) && (!p.via || t[t.indexOf('via') + 1] === p.via);
    };
    const restore = o.lines.map((l) => exec(sh`ip route replace ${l.split(/\s+/)}`, { what: `restore route ${l}` }));
    if (p.state === 'absent') {
      if (!o.lines.length) return noop(`no route to ${p.dest}`);
      return {
        action: 'delete',
        summary: `remove route ${p.dest}`,
        steps: [exec(sh`ip route del ${p.dest}`)],
        undo: restore,
        diff: [{ path: `route ${p.dest}`, before: `${o.lines.join('\n')}\n`, after: '' }],
      };
    }
    if (o.lines.length === 1 && matches(o.lines[0]!)) return noop(`route ${w.join(' ')} present`);
    return {
      action: o.lines.length ? 'update' : 'create',
      summary: `route ${w.join(' ')}`,
      steps: [exec(sh`ip route replace ${w}`)],
      undo: o.lines.length ? restore : [exec(sh`ip route del ${p.dest}`)],
      diff: [
        { path: `route ${p.dest}`, before: o.lines.length ? `${o.lines.join('\n')}\n` : '', after: `${w.join(' ')}\n` },
      ],
    };
  },
};
