import { z, boolish, emptyIsUnset, strList, hostOrIp, ifaceName, ipAddr } from './args.js';
import { isIpOrCidr, isIpv4 } from '../lvs/addr.js';

/**
 * keepalived.conf as data. Names follow keepalived.conf(5) so its manual reads across; lvsrun
 * only adds `reals_from` (real servers from an inventory group) and `check` on a virtual server
 * (the default health check of its real servers).
 */

// A role passes optional values as "{{default x ''}}": an empty string means "not set".
const opt = <T extends z.ZodTypeAny>(t: T) => z.preprocess(emptyIsUnset, t.optional());
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const port = int(0, 65535);
const name = z
  .string()
  .max(255)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (a keepalived identifier)');
/*
 * Quoted in keepalived.conf. keepalived's reader ends the string at the next double quote (a
 * backslash does not escape it), treats a trailing backslash as a line continuation, reads at most
 * 1023 bytes per line (the rest becomes a new line: a new directive) and expands ${NAME}: so no
 * double quote, backslash, brace or control character, and short enough for one line.
 */
const quotable = z
  .string()
  .min(1)
  .max(512, 'at most 512 characters (keepalived splits longer lines)')
  .regex(/^[^"\\{}\x00-\x1f\x7f]+$/, 'no double quotes, backslashes, braces, newlines or control characters');
/** An e-mail address as keepalived takes it: one word, no comment (# !) or quote characters. */
const email = z
  .string()
  .max(254)
  .regex(/^[A-Za-z0-9_.+=%-]+@[A-Za-z0-9.-]+$/, 'an e-mail address such as ops@example.com');
/** auth_pass is written unquoted: printable, and nothing keepalived reads as a comment, quote, brace or variable. */
const authPass = z.coerce
  .string()
  .min(1)
  .max(8, 'keepalived uses only the first 8 characters of auth_pass')
  .regex(/^[^\s"'\\{}#!$]+$/, 'printable characters except quotes, backslash, braces, # ! $ and spaces')
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII characters only');
/** virtual_ipaddress entry: ADDR[/LEN] followed by keyword/value pairs (dev eth0, label eth0:1, scope global). */
const vipEntry = z
  .string()
  .max(255)
  .refine((s) => {
    const [addr, ...rest] = s.split(' ');
    return (
      isIpOrCidr(addr!) &&
      rest.length % 2 === 0 &&
      rest.every((w, i) => (i % 2 === 0 ? /^[a-z_]+$/.test(w) : /^[A-Za-z0-9_.:@+-]+$/.test(w)))
    );
  }, 'ADDR[/LEN] [dev IFACE] [label LABEL]');
/** smtp_server: an IP address or host name, optionally followed by a port. */
const smtpServer = z.string().refine((s) => {
  const [h, p, ...rest] = s.split(' ');
  return !rest.length && hostOrIp.safeParse(h).success && (p === undefined || /^\d{1,5}$/.test(p));
}, 'an IP address or host name, optionally followed by a port');
const ifaceList = strList.pipe(z.array(ifaceName));

export const checkSchema = z
  .object({
    type: z.enum(['TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'MISC_CHECK']).default('TCP_CHECK'),
    connect_timeout: opt(int(1, 3600)),
    retry: opt(int(0, 100)),
    delay_before_retry: opt(int(0, 3600)),
    connect_port: opt(port),
    url: z
      .array(
        z
          .object({ path: quotable, status_code: opt(int(100, 599)), digest: opt(z.string().regex(/^[0-9a-f]{32}$/)) })
          .strict(),
      )
      .default([]),
    misc_path: opt(quotable),
    misc_timeout: opt(int(1, 3600)),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.type === 'HTTP_GET' || c.type === 'SSL_GET') && !c.url.length)
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `${c.type} needs at least one url: [{path: /, status_code: 200}]`,
      });
    if (c.type === 'MISC_CHECK' && !c.misc_path)
      ctx.addIssue({ code: 'custom', path: ['misc_path'], message: 'MISC_CHECK needs misc_path (the script to run)' });
    if (c.type === 'MISC_CHECK' && c.connect_port !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['connect_port'],
        message: 'MISC_CHECK has no connect_port (keepalived refuses it)',
      });
  });

const realServer = z
  .object({
    address: ipAddr,
    port: opt(port),
    weight: int(0, 65535).default(1),
    check: opt(checkSchema),
  })
  .strict();

const lbKind = z.string().transform((s, c) => {
  const k = s.toUpperCase();
  return k === 'DR' || k === 'NAT' || k === 'TUN'
    ? k
    : (c.addIssue({ code: 'custom', message: 'lb_kind must be DR, NAT or TUN' }), z.NEVER);
});

const virtualServer = z
  .object({
    vip: opt(ipAddr),
    port: opt(port),
    fwmark: opt(int(1, 0xffffffff)),
    protocol: z
      .string()
      .default('TCP')
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(['TCP', 'UDP', 'SCTP'])),
    // keepalived's own default is NAT; lvsrun always writes lb_kind, and defaults to DR like ipvsadm.
    lb_kind: lbKind.default('DR'),
    lb_algo: z
      .string()
      .regex(/^[a-z]+$/)
      .default('wlc'),
    delay_loop: int(1, 3600).default(6),
    persistence_timeout: opt(int(1, 2678400)),
    sorry_server: opt(z.object({ address: ipAddr, port: port }).strict()),
    check: checkSchema.default({}),
    real_servers: z.array(realServer).default([]),
    /** Real servers from an inventory group: each host's service address, lvs_rs_port and lvs_weight. */
    reals_from: opt(z.object({ group: z.string().min(1) }).strict()),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.fwmark !== undefined) === (v.vip !== undefined && v.port !== undefined))
      ctx.addIssue({ code: 'custom', path: ['vip'], message: 'give vip and port, or fwmark' });
    // keepalived clears a real server's port under a fwmark service: say so instead of writing it.
    if (v.fwmark !== undefined)
      v.real_servers.forEach((r, i) => {
        if (r.port !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['real_servers', i, 'port'],
            message: 'real servers of a fwmark service take no port; put the port to probe in check.connect_port',
          });
      });
  });

const vrrpScript = z
  .object({
    script: quotable,
    interval: opt(int(1, 3600)),
    weight: opt(int(-253, 253)),
    fall: opt(int(1, 100)),
    rise: opt(int(1, 100)),
    timeout: opt(int(1, 3600)),
    user: opt(name),
  })
  .strict();

const instance = z
  .object({
    name,
    state: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(['MASTER', 'BACKUP'])),
    interface: ifaceName,
    virtual_router_id: int(1, 255),
    priority: int(1, 255),
    advert_int: z.coerce.number().positive().default(1),
    nopreempt: boolish.default(false),
    preempt_delay: opt(int(0, 1000)),
    // keepalived silently uses only the first 8 characters: refuse rather than surprise.
    auth_pass: opt(authPass),
    virtual_ipaddress: strList.pipe(z.array(vipEntry).min(1)),
    track_script: strList.pipe(z.array(name)).default([]),
    track_interface: ifaceList.default([]),
    unicast_src_ip: opt(ipAddr),
    unicast_peer: strList.pipe(z.array(ipAddr)).default([]),
    /**
     * Unicast to the other hosts of this inventory group (their service address); unicast_src_ip
     * defaults to this host's.
     */
    unicast_peer_group: opt(z.string().min(1)),
    notify_master: opt(quotable),
    notify_backup: opt(quotable),
    notify_fault: opt(quotable),
    garp_master_delay: opt(int(0, 255)),
  })
  .strict()
  .superRefine((i, ctx) => {
    if (i.nopreempt && i.state === 'MASTER')
      ctx.addIssue({
        code: 'custom',
        path: ['nopreempt'],
        message: 'nopreempt needs state BACKUP (keepalived clears it on a MASTER)',
      });
    if (i.nopreempt && i.preempt_delay !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['preempt_delay'],
        message: 'preempt_delay has no effect with nopreempt (keepalived resets it)',
      });
  });

/** Seconds as keepalived reads them (microsecond resolution); 0 is refused by keepalived 2.2. */
const seconds = (what: string) =>
  z.coerce
    .number()
    .min(0.000001, `${what} must be above 0: keepalived 2.2 refuses 0` + ' (range 0.000001-4294.967295 s)')
    .max(4294.967295)
    .refine((n) => Number.isInteger(Math.round(n * 1e6)));
/** A keyword written alone (`vrrp_strict`): true writes it, false leaves it out. */
const flag = boolish.optional();

/**
 * global_defs keys of keepalived.conf(5) that take a flag, a number, an address or a name. Each is
 * typed, so nothing but that value reaches the file. The order here is the order they are written.
 */
export const GLOBAL_DEFS_KEYS = {
  router_id: opt(name),
  enable_script_security: flag,
  script_user: opt(name),
  notification_email: strList.pipe(z.array(email)).default([]),
  notification_email_from: opt(email),
  smtp_server: opt(smtpServer),
  smtp_connect_timeout: opt(int(1, 3600)),
  default_interface: opt(ifaceName),
  dynamic_interfaces: flag,
  vrrp_skip_check_adv_addr: flag,
  vrrp_strict: flag,
  vrrp_check_unicast_src: flag,
  vrrp_version: opt(
    z.coerce
      .number()
      .int()
      .refine((n) => n === 2 || n === 3, 'vrrp_version is 2 or 3'),
  ),
  vrrp_mcast_group4: opt(z.string().refine(isIpv4, 'an IPv4 multicast address such as 224.0.0.18')),
  vrrp_mcast_group6: opt(ipAddr),
  vrrp_garp_interval: opt(seconds('vrrp_garp_interval')),
  vrrp_gna_interval: opt(seconds('vrrp_gna_interval')),
  vrrp_garp_master_delay: opt(int(0, 255)),
  vrrp_garp_master_repeat: opt(int(1, 255)),
  vrrp_garp_master_refresh: opt(int(0, 86400)),
  vrrp_garp_master_refresh_repeat: opt(int(1, 255)),
  vrrp_garp_lower_prio_delay: opt(int(0, 255)),
  vrrp_garp_lower_prio_repeat: opt(int(1, 255)),
  vrrp_lower_prio_no_advert: flag,
  vrrp_higher_prio_send_advert: flag,
  vrrp_startup_delay: opt(seconds('vrrp_startup_delay')),
  vrrp_no_swap: flag,
  checker_no_swap: flag,
  vrrp_priority: opt(int(-20, 19)),
  checker_priority: opt(int(-20, 19)),
  max_auto_priority: opt(int(-1, 99)),
} as const;
const globalDefs = z.object(GLOBAL_DEFS_KEYS).strict();

/** The shipped template (templates/keepalived/keepalived.conf.hbs), found like any template src. */
export const KEEPALIVED_TEMPLATE = 'keepalived/keepalived.conf.hbs';

export const keepalivedSchema = z
  .object({
    dest: z.string().min(1).default('/etc/keepalived/keepalived.conf'),
    /** A .hbs file in templates/; it receives these arguments, normalised (see docs/modules.md). */
    template: z.string().min(1).default(KEEPALIVED_TEMPLATE),
    global_defs: globalDefs.default({}),
    // A map keyed by name (as lvs_vrrp_scripts is) or a list with a name on each entry.
    vrrp_scripts: z
      .union([z.record(name, vrrpScript), z.array(vrrpScript.extend({ name }))])
      .transform((s) => (Array.isArray(s) ? s : Object.entries(s).map(([n, v]) => ({ name: n, ...v }))))
      .default({}),
    vrrp_instances: z.array(instance).default([]),
    virtual_servers: z.array(virtualServer).default([]),
    /** Run `keepalived -t` on the candidate file before it replaces the live one (where -t exists). */
    validate: boolish.default(true),
    /** Start keepalived if it is not running. A changed file is always applied by a reload. */
    start: boolish.default(true),
    service: name.default('keepalived'),
  })
  .strict()
  .superRefine((a, ctx) => {
    const defined = new Set(a.vrrp_scripts.map((s) => s.name));
    a.vrrp_instances.forEach((i, n) =>
      i.track_script.forEach((t) => {
        if (!defined.has(t))
          ctx.addIssue({
            code: 'custom',
            path: ['vrrp_instances', n, 'track_script'],
            message: `track_script '${t}' is not defined in vrrp_scripts (${[...defined].join(', ') || 'none'})`,
          });
      }),
    );
    if (!a.vrrp_instances.length && !a.virtual_servers.length)
      ctx.addIssue({
        code: 'custom',
        path: ['vrrp_instances'],
        message: 'give at least one vrrp_instance or virtual_server',
      });
  })
  .transform((a) => {
    // keepalived 2.x refuses to run scripts without script security unless a keepalived_script user
    // exists (`keepalived -t` exits 6, "SECURITY VIOLATION"): turn it on, as root, unless told otherwise.
    const g = a.global_defs;
    const secure = g.enable_script_security ?? runsScripts(a);
    const user = g.script_user ?? (secure ? 'root' : undefined);
    return { ...a, global_defs: { ...g, enable_script_security: secure, ...(user ? { script_user: user } : {}) } };
  });

type Parsed = {
  vrrp_scripts: unknown[];
  vrrp_instances: Array<Record<string, unknown>>;
  virtual_servers: Array<{ check: { type: string }; real_servers: Array<{ check?: { type: string } }> }>;
};
/** Whether keepalived.conf makes keepalived run a program: a vrrp_script, a notify script or MISC_CHECK. */
function runsScripts(a: Parsed): boolean {
  return (
    a.vrrp_scripts.length > 0 ||
    a.vrrp_instances.some((i) => i.notify_master || i.notify_backup || i.notify_fault) ||
    a.virtual_servers.some(
      (v) => v.check.type === 'MISC_CHECK' || v.real_servers.some((r) => r.check?.type === 'MISC_CHECK'),
    )
  );
}

export type KeepalivedArgs = z.infer<typeof keepalivedSchema>;
