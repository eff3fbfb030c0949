import { fileStateCmd, parseFileState, type FileState } from '../facts/file.js';
import { osFamily } from '../facts/os.js';
import { multiProbe, splitProbe } from '../facts/probe.js';
import { groupReals, groupRealsProblem } from '../lvs/group-reals.js';
import { FORWARD, parseIpvsSave, planEdits, renderRules, type VirtualService } from '../lvs/ipvs-table.js';
import { raw, sh } from '../transport/shell.js';
import { z, boolish, ipAddr } from './args.js';
import { isIpv4 } from '../lvs/addr.js';
import { putFile, restorePath } from './file-steps.js';
import { exec, noop, type Plan, type Step, type TaskModule } from './types.js';

const forward = z
  .string()
  .transform(
    (s, c) =>
      FORWARD[s.toLowerCase()] ?? (c.addIssue({ code: 'custom', message: 'forward must be dr, nat or tun' }), z.NEVER),
  );
const port = z.coerce.number().int().min(0).max(65535);

const real = z
  .object({
    addr: ipAddr,
    port: port.optional(),
    forward: forward.default('dr'),
    weight: z.coerce.number().int().min(0).max(65535).default(1),
    upper: z.coerce.number().int().min(0).optional(),
    lower: z.coerce.number().int().min(0).optional(),
  })
  .strict();

const service = z
  .object({
    protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
    vip: ipAddr.optional(),
    port: port.optional(),
    fwmark: z.coerce.number().int().min(1).optional(),
    scheduler: z
      .string()
      .regex(/^[a-z]+$/)
      .default('wlc'),
    persistence: z.coerce.number().int().min(1).optional(),
    /** Persistence granularity: an IPv4 netmask, or an IPv6 prefix length. */
    netmask: z
      .union([z.string().refine(isIpv4, 'a netmask such as 255.255.255.0'), z.coerce.number().int().min(1).max(128)])
      .transform(String)
      .optional(),
    reals: z.array(real).default([]),
    /** Real servers from an inventory group: each host's service address, lvs_rs_port and lvs_weight. */
    reals_from: z
      .object({ group: z.string().min(1), forward: forward.default('dr') })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => (s.fwmark !== undefined) !== (s.vip !== undefined && s.port !== undefined), {
    message: 'give vip and port, or fwmark',
    path: ['vip'],
  });

const schema = z
  .object({
    services: z.array(service),
    /** The declaration owns the whole table: live services not declared are removed. */
    own_table: boolish.default(false),
    persist: boolish.default(true),
    /** Default: /etc/sysconfig/ipvsadm on RHEL-family hosts, /etc/ipvsadm.rules elsewhere. */
    rules_file: z.string().optional(),
  })
  .strict();

type Args = z.infer<typeof schema>;
export interface IpvsObserved {
  reals?: Record<number, Array<z.infer<typeof real>>>;
  available: boolean;
  error?: string;
  live: VirtualService[];
  saved: string;
  family: 'rhel' | 'debian';
  file: FileState;
  rulesFile: string;
}

/** Declared services in the table model (real-server port defaults to the service port). */
export function declared(p: Args, from: Record<number, Array<z.infer<typeof real>>> = {}): VirtualService[] {
  return p.services
    .map((s0, i) => ({ ...s0, reals: [...s0.reals, ...(from[i] ?? [])] }))
    .map((s) => ({
      proto: s.fwmark !== undefined ? 'fwmark' : s.protocol,
      addr: s.fwmark !== undefined ? String(s.fwmark) : `${s.vip}:${s.port}`,
      scheduler: s.scheduler,
      ...(s.persistence !== undefined ? { persistent: s.persistence } : {}),
      ...(s.netmask ? { netmask: s.netmask } : {}),
      reals: s.reals.map((r) => ({
        addr: r.addr,
        port: r.port ?? (s.fwmark !== undefined ? 0 : s.port!),
        forward: r.forward,
        weight: r.weight,
        ...(r.upper ? { upper: r.upper } : {}),
        ...(r.lower ? { lower: r.lower } : {}),
      })),
    }));
}

/** reals_from: the group's hosts as real servers, read from the inventory the task sees. */
function realsFromGroups(p: Args, vars: Record<string, unknown>): Record<number, Array<z.infer<typeof real>>> {
  const out: Record<number, Array<z.infer<typeof real>>> = {};
  p.services.forEach((s, i) => {
    if (s.reals_from)
      out[i] = groupReals(vars, s.reals_from.group).map(({ host: _h, ...r }) => ({
        ...r,
        forward: s.reals_from!.forward,
      }));
  });
  return out;
}

export const rulesFileFor = (family: 'rhel' | 'debian'): string =>
  family === 'rhel' ? '/etc/sysconfig/ipvsadm' : '/etc/ipvsadm.rules';

/**
 * The IPVS table as data: reads `ipvsadm -S -n`, applies the smallest set of edits, persists the
 * result to the distribution's rules file, and undoes by restoring the saved table exactly.
 */
export const ipvs: TaskModule<Args, IpvsObserved> = {
  name: 'ipvs',
  schema,
  vet(p, vars) {
    for (const [i, s] of p.services.entries()) {
      const m = s.reals_from && groupRealsProblem(vars, s.reals_from.group);
      if (m) return { path: `services.${i}.reals_from.group`, message: m };
    }
    return undefined;
  },
  async check(ctx, p) {
    const family = await osFamily(ctx);
    const rulesFile = p.rules_file ?? rulesFileFor(family);
    const reals = realsFromGroups(p, ctx.vars);
    const r = await ctx.exec(
      multiProbe([raw('modprobe ip_vs 2>/dev/null; ipvsadm -S -n 2>&1'), fileStateCmd(rulesFile)]),
    );
    const [t, f] = splitProbe(r, 2) as [typeof r, typeof r];
    const file = parseFileState(f, rulesFile);
    if (t.code !== 0)
      return {
        reals,
        available: false,
        error: t.stdout.trim() || `ipvsadm exit ${t.code}`,
        live: [],
        saved: '',
        family,
        file,
        rulesFile,
      };
    return { reals, available: true, live: parseIpvsSave(t.stdout), saved: t.stdout, family, file, rulesFile };
  },
  plan(p, o): Plan {
    const want = declared(p, o.reals);
    const edits = planEdits(o.live, want, p.own_table);
    const after = o.live.filter((l) => !p.own_table || want.some((w) => w.proto === l.proto && w.addr === l.addr));
    // The resulting table: declared services replace live ones; undeclared live ones stay unless owned.
    const result = [...after.filter((l) => !want.some((w) => w.proto === l.proto && w.addr === l.addr)), ...want];
    const rules = renderRules(result);
    const steps: Step[] = edits.map((e) => exec(sh`ipvsadm ${e}`, { what: `ipvsadm ${e.join(' ')}` }));
    const undo: Step[] = [];
    if (edits.length)
      undo.push(exec(sh`ipvsadm -C && ipvsadm -R`, { stdin: o.saved, what: 'restore the saved IPVS table' }));
    // The commands themselves, in order: what --diff, -v and --json show of the edit, not only its result.
    const commands = steps.map((s) => String(s.cmd));
    const diff = edits.length
      ? [
          { path: 'ipvsadm commands', before: '', after: commands.map((c) => `${c}\n`).join('') },
          { path: 'ipvs table (live)', before: renderRules(o.live), after: rules },
        ]
      : [];
    const edited = edits.length ? `${edits.length} ipvsadm edit(s) (${commands.join('; ')})` : '0 ipvsadm edit(s)';
    if (p.persist && (o.file.content ?? null) !== rules) {
      steps.push(putFile(o.rulesFile, rules, { mode: '0600', mkdirs: Boolean(o.file.missingFrom) }));
      undo.unshift(...restorePath(o.rulesFile, o.file));
      diff.push({ path: o.rulesFile, before: o.file.content ?? '', after: rules });
    }
    if (!o.available) {
      const why = `IPVS is not available on this host (${o.error}); the kernel needs the ip_vs module`;
      // In check mode show what would be done against an empty table; a real run must not pretend.
      return {
        action: 'update',
        summary: `${edited} planned against an empty table`,
        steps,
        undo,
        diff,
        checkOnly: why,
      };
    }
    if (!steps.length) return noop(`${want.length} virtual service(s) as declared`);
    return {
      action: 'update',
      summary: `${edited}${p.persist ? `, saved to ${o.rulesFile}` : ''}`,
      steps,
      undo,
      diff,
    };
  },
};
