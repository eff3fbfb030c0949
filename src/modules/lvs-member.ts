import { fileStateCmd, parseFileState, type FileState } from '../facts/file.js';
import { multiProbe, splitProbe } from '../facts/probe.js';
import { IpvsListError, listedServiceAddr, parseIpvsList, type ListedReal } from '../lvs/ipvs-list.js';
import { realArgs, type Forward, type VirtualService } from '../lvs/ipvs-table.js';
import { findRealWeight, withWeight, type WeightLookup } from '../lvs/keepalived-weight.js';
import { joinCmds, raw, sh, type ShellCmd } from '../transport/shell.js';
import type { ExecResult } from '../transport/types.js';
import { z, ipAddr } from './args.js';
import { putFile, restorePath } from './file-steps.js';
import { parseServiceProbe, serviceAction, serviceProbe, type ServiceObserved } from './service.js';
import { exec, failPlan, noop, type Plan, type Step, type TaskModule } from './types.js';

const port = z.coerce.number().int().min(0).max(65535);
const schema = z
  .object({
    protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
    vip: ipAddr.optional(),
    port: port.optional(),
    fwmark: z.coerce.number().int().min(1).max(4294967295).optional(),
    /** The real server's address, and its port (default: the service port; none under a fwmark). */
    real_server: ipAddr,
    real_port: port.optional(),
    weight: z.coerce.number().int().min(0).max(65535).optional(),
    /** drained: weight 0 and no active connection left; enabled: `weight` (at least 1). */
    state: z.enum(['drained', 'enabled']).optional(),
    /** Seconds to wait for the weight to show in the live table and, drained, for ActiveConn 0. */
    timeout: z.coerce.number().min(0).max(86400).default(300),
    /** Who owns the table: keepalived (edit keepalived.conf and reload), ipvsadm (edit the live table), auto. */
    manager: z.enum(['auto', 'keepalived', 'ipvsadm']).default('auto'),
    keepalived_conf: z
      .string()
      .regex(/^\/[^\0\n]*$/, 'an absolute path')
      .default('/etc/keepalived/keepalived.conf'),
    service: z
      .string()
      .regex(/^[A-Za-z0-9_@:][A-Za-z0-9_.@:-]*$/, 'a service name')
      .default('keepalived'),
  })
  .strict()
  .refine((s) => (s.fwmark !== undefined) !== (s.vip !== undefined && s.port !== undefined), {
    message: 'give vip and port, or fwmark',
    path: ['vip'],
  })
  .refine((s) => s.weight !== undefined || s.state === 'drained', {
    message: 'give weight: N, or state: drained (state: enabled needs the weight to restore)',
    path: ['weight'],
  })
  .refine((s) => !(s.state === 'drained' && s.weight !== undefined && s.weight !== 0), {
    message: 'state: drained means weight 0',
    path: ['weight'],
  })
  .refine((s) => !(s.state === 'enabled' && s.weight === 0), {
    message: 'state: enabled needs a weight of at least 1 (weight 0 is state: drained)',
    path: ['weight'],
  });

type Args = z.infer<typeof schema>;

export interface MemberObserved {
  /** What reading the live table said when it could not be read (no IPVS, no such service, not a listing). */
  error?: string;
  real?: ListedReal & { upper: number; lower: number };
  keepalived: ServiceObserved;
  conf: FileState;
  canTest: boolean;
}

const WAIT_MARK = '__lvsrun_member_wait';

const svcWords = (p: Args): string[] =>
  p.fwmark !== undefined
    ? ['-f', String(p.fwmark)]
    : [{ tcp: '-t', udp: '-u', sctp: '--sctp-service' }[p.protocol], listedServiceAddr(p)];
const realPort = (p: Args): number => p.real_port ?? (p.fwmark !== undefined ? 0 : p.port!);
const realKey = (p: Args): string =>
  `${p.real_server.includes(':') ? `[${p.real_server}]` : p.real_server}:${realPort(p)}`;
const target = (p: Args): number => (p.state === 'drained' ? 0 : p.weight!);
const where = (p: Args): string =>
  `${realKey(p)} in ${p.fwmark !== undefined ? `fwmark ${p.fwmark}` : `${p.protocol} ${listedServiceAddr(p)}`}`;

/**
 * Polls this service's listing on the host until the real server shows `weight` (and, when
 * `drained`, no active connection), or `timeout` seconds pass; then prints how long it waited and
 * the listing, which the module reads strictly. The loop's own test (awk) only decides when to
 * stop polling. With `strict`, a timeout is a failed step (the undo's wait).
 */
export function waitCmd(p: Args, weight: number, drained: boolean, strict: boolean): ShellCmd {
  const list = sh`ipvsadm -L -n ${svcWords(p)}`;
  const lateMsg = `${where(p)} did not reach weight ${weight} within ${p.timeout} s`;
  const test = sh`awk -v rs=${realKey(p)} -v w=${weight} -v d=${drained ? 1 : 0}`;
  return joinCmds(
    [
      sh`end=$(( $(date +%s) + ${Math.ceil(p.timeout)} )); t0=$(date +%s%N); late=0`,
      joinCmds(
        [
          raw('while :; do'),
          list,
          raw(`2>/dev/null |`),
          test,
          // Listed once at weight w (and, drained, no active connection); or, drained, no longer listed at all.
          raw(`'$1=="->" && $2==rs {n++; ok=($4==w && (d==0 || $5==0))}`),
          raw(`END {exit !((n==1 && ok) || (d==1 && n==0))}' && break`),
        ],
        ' ',
      ),
      raw(`  [ "$(date +%s)" -ge "$end" ] && { late=1; break; }; sleep 0.2; done`),
      raw(`echo "${WAIT_MARK} ms=$(( ($(date +%s%N) - t0) / 1000000 )) late=$late"`),
      joinCmds([list, raw('2>&1')], ' '),
      ...(strict ? [sh`[ $late = 0 ] || { echo ${lateMsg} >&2; exit 1; }`] : []),
    ],
    '\n',
  );
}

/** What a wait step printed: how long it waited, whether it gave up, and the real server as listed then. */
export function readWait(
  p: Args,
  stdout: string,
): { ms: number; late: boolean; real?: ListedReal; missing?: boolean; error?: string } {
  const m = new RegExp(`^${WAIT_MARK} ms=(\\d+) late=([01])$`, 'm').exec(stdout);
  if (!m) return { ms: 0, late: true, error: 'the wait printed no result' };
  const listing = stdout.slice(m.index + m[0].length + 1);
  const ms = Number(m[1]);
  const late = m[2] === '1';
  try {
    const real = findReal(p, parseIpvsList(listing));
    return real ? { ms, late, real } : { ms, late, missing: true };
  } catch (e) {
    return { ms, late, error: e instanceof IpvsListError ? `ipvsadm -L -n: ${e.message}` : String(e) };
  }
}

function findReal(p: Args, services: ReturnType<typeof parseIpvsList>): ListedReal | undefined {
  const want = p.fwmark !== undefined ? String(p.fwmark) : listedServiceAddr(p);
  const proto = p.fwmark !== undefined ? 'fwmark' : p.protocol;
  const s = services.find((x) => x.proto === proto && x.addr === want);
  return s?.reals.find((r) => r.addr.toLowerCase() === p.real_server.toLowerCase() && r.port === realPort(p));
}

const TEST = raw(
  'command -v keepalived >/dev/null || { echo missing; exit 0; }; ' +
    'if keepalived --help 2>&1 | grep -q -- --config-test; then echo test; else echo notest; fi',
);

/**
 * One real server's weight in one virtual service of this director. keepalived owns its table:
 * a weight set with ipvsadm is put back when the health checker re-adds the server, so with
 * keepalived the weight is changed in keepalived.conf (checked with `keepalived -t`) and applied
 * by a reload; otherwise with `ipvsadm -e` in the live table. `state: drained` waits until the
 * server has no active connection. The undo puts the previous weight (and file bytes) back.
 */
export const lvsMember: TaskModule<Args, MemberObserved> = {
  name: 'lvs_member',
  schema,
  async check(ctx, p) {
    const list = sh`ipvsadm -L -n ${svcWords(p)} 2>&1`;
    const thresholds = sh`ipvsadm -L -n --thresholds ${svcWords(p)} 2>&1`;
    const r = await ctx.exec(
      multiProbe([
        joinCmds([raw('modprobe ip_vs 2>/dev/null;'), list], ' '),
        thresholds,
        fileStateCmd(p.keepalived_conf),
        serviceProbe(p.service),
        TEST,
      ]),
    );
    const [l, t, f, s, k] = splitProbe(r, 5) as [ExecResult, ExecResult, ExecResult, ExecResult, ExecResult];
    const base = {
      keepalived: parseServiceProbe(s.stdout),
      conf: parseFileState(f, p.keepalived_conf),
      canTest: k.stdout.trim() === 'test',
    };
    if (l.code !== 0) {
      const said = l.stdout
        .replace(/[^\x20-\x7e\n]/g, '?')
        .trim()
        .split('\n')[0]
        ?.slice(0, 200);
      return { ...base, error: said || `ipvsadm exit ${l.code}` };
    }
    try {
      const real = findReal(p, parseIpvsList(l.stdout));
      const th = t.code === 0 ? findReal(p, parseIpvsList(t.stdout)) : undefined;
      if (!real) return { ...base, error: `${where(p)} is not in the live table` };
      return { ...base, real: { ...real, upper: th?.upper ?? 0, lower: th?.lower ?? 0 } };
    } catch (e) {
      if (e instanceof IpvsListError) return { ...base, error: `ipvsadm -L -n: ${e.message}` };
      throw e;
    }
  },
  plan(p, o): Plan {
    if (!o.real) {
      const why = o.error ?? 'no listing';
      return failPlan(
        /No such service/i.test(why) ? `no virtual service ${where(p).split(' in ')[1]} on this director` : why,
      );
    }
    const want = target(p);
    const prev = o.real.weight!;
    const drained = p.state === 'drained';
    const result = {
      previous_weight: prev,
      weight: want,
      active_conns: o.real.active,
      waited_s: 0,
    };
    const lookup: WeightLookup | undefined =
      o.conf.exists && o.conf.content !== undefined
        ? findRealWeight(
            o.conf.content,
            {
              protocol: p.protocol,
              ...(p.fwmark !== undefined ? { fwmark: p.fwmark } : { vip: p.vip!, port: p.port! }),
            },
            {
              addr: p.real_server,
              ...(p.fwmark !== undefined && p.real_port === undefined ? {} : { port: realPort(p) }),
            },
          )
        : undefined;
    if (p.manager !== 'ipvsadm' && o.keepalived.active && o.conf.exists && o.conf.content === undefined)
      return failPlan(
        `${p.keepalived_conf} could not be read (not a regular file, or over 4 MiB): it may declare ${where(p)}`,
      );
    const managed = p.manager === 'keepalived' || (p.manager === 'auto' && o.keepalived.active && lookup !== undefined);
    if (p.manager === 'keepalived' && !o.keepalived.active)
      return failPlan(`manager: keepalived, but ${p.service} is not running on this director`);
    if (managed && lookup && !lookup.ok && (lookup.declared || p.manager === 'keepalived'))
      return failPlan(`${p.keepalived_conf}: ${lookup.reason}`);
    const viaKeepalived = managed && lookup?.ok === true;
    if (p.manager === 'keepalived' && !viaKeepalived)
      return failPlan(`${p.keepalived_conf}: cannot be read to find ${where(p)}`);
    const manager = viaKeepalived ? 'keepalived' : 'ipvsadm';
    const wait = (strict: boolean, w: number, d: boolean): Step =>
      exec(waitCmd(p, w, d, strict), {
        ...(strict ? {} : { anyCode: true }),
        what: `wait for ${realKey(p)} at weight ${w}${d ? ' with no active connection' : ''}`,
      });
    // keepalived's own idea of the weight: the one it applies on a reload or when a check re-adds the server.
    const conf = viaKeepalived ? (lookup.site.weight ?? 1) : prev;
    if (conf === want && prev === want) {
      if (!drained || o.real.active === 0)
        return noop(`${where(p)} at weight ${want}${drained ? ', drained' : ''} (${manager})`, { ...result, manager });
      // Already at weight 0: only the wait for its connections to end.
      return {
        ...noop(`${where(p)} at weight 0: waiting for its ${o.real.active} active connection(s)`),
        steps: [wait(false, 0, true)],
        result: { ...result, manager },
      };
    }
    if (o.real.forward === 'local')
      return failPlan(`${where(p)} is a local real server: ipvsadm -e cannot keep its forwarding`);
    const svc: VirtualService = {
      proto: p.fwmark !== undefined ? 'fwmark' : p.protocol,
      addr: p.fwmark !== undefined ? String(p.fwmark) : listedServiceAddr(p),
      scheduler: '',
      reals: [],
    };
    const real = o.real;
    // ipvsadm -e resets what it is not given: the forwarding method and thresholds go with every edit.
    const edit = (w: number): Step =>
      exec(
        sh`ipvsadm -e ${realArgs(
          svc,
          {
            addr: real.addr,
            port: real.port,
            forward: real.forward as Forward,
            weight: w,
            ...(real.upper ? { upper: real.upper } : {}),
            ...(real.lower ? { lower: real.lower } : {}),
          },
          true,
        )}`,
        { what: `ipvsadm -e ${where(p)} -w ${w}` },
      );
    const steps: Step[] = [];
    const undo: Step[] = [];
    let diff: Plan['diff'];
    const byConf = viaKeepalived && conf !== want;
    if (byConf) {
      const reload = exec(serviceAction(o.keepalived.init, p.service, 'reload'), { what: `reload ${p.service}` });
      steps.push(
        putFile(p.keepalived_conf, withWeight(o.conf.content!, lookup.site, want), {
          ...(o.canTest ? { validate: 'keepalived -t -f %s' } : {}),
        }),
        reload,
      );
      // keepalived applies the restored file's weight; a live weight set by hand before is then put back too.
      undo.push(...restorePath(p.keepalived_conf, o.conf), reload, wait(true, conf, false));
      if (prev !== conf) undo.push(edit(prev));
      diff = [
        {
          path: `${p.keepalived_conf} (real_server ${p.real_server}, line ${lookup.site.line})`,
          before: lookup.site.weight === undefined ? '' : `weight ${conf}\n`,
          after: `weight ${want}\n`,
        },
      ];
    } else {
      // ipvsadm-managed, or keepalived.conf already says `want` and only the live table differs.
      steps.push(edit(want));
      undo.push(edit(prev));
      diff = [{ path: `ipvs ${where(p)} (live)`, before: `weight ${prev}\n`, after: `weight ${want}\n` }];
    }
    steps.push(wait(false, want, drained));
    return {
      action: 'update',
      summary:
        `${where(p)}: weight ${prev} → ${want}${drained ? ', then drained of connections' : ''} ` +
        `(${byConf ? `${p.keepalived_conf}, reloaded` : 'ipvsadm -e'})`,
      steps,
      undo,
      diff,
      result: { ...result, manager },
    };
  },
  result(p, o, plan, execs) {
    const base = { ...(plan.result ?? {}) };
    const last = execs.at(-1);
    if (!last || !plan.steps.length) return base;
    const w = readWait(p, last.stdout);
    const want = target(p);
    const drained = p.state === 'drained';
    const out = {
      ...base,
      waited_s: w.ms / 1000,
      ...(w.real ? { active_conns: w.real.active } : {}),
    };
    const fail = (msg: string) => ({ ...out, failed: true, rc: 1, stderr: msg });
    if (w.error) return fail(w.error);
    // Taken out by keepalived's health checker while it drained: no connection can reach it, and keepalived
    // re-adds it at the weight now in keepalived.conf.
    if (w.missing && drained && !w.late) return { ...out, active_conns: 0, listed: false };
    if (w.missing) return fail(`${where(p)} is not in the live table`);
    if (w.real!.weight !== want)
      return fail(`${where(p)} is at weight ${w.real!.weight}, not ${want}, after ${p.timeout} s`);
    if (drained && w.real!.active !== 0)
      return fail(`${where(p)} still has ${w.real!.active} active connection(s) after ${p.timeout} s`);
    if (w.late) return fail(`${where(p)}: the wait timed out`);
    return out;
  },
};
