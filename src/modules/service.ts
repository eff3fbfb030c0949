import { sh, nest, raw, joinCmds, type ShellCmd } from '../transport/shell.js';
import { z, boolish } from './args.js';
import { exec, failPlan, noop, type Plan, type Step, type TaskModule } from './types.js';

const schema = z
  .object({
    // No leading dash (systemctl would read an option) and no leading dot (/etc/init.d/..).
    name: z
      .string()
      .max(255)
      .regex(/^[A-Za-z0-9@_:][A-Za-z0-9@_.:-]*$/, 'a service name such as nginx'),
    state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
    enabled: boolish.optional(),
  })
  .strict()
  .refine((a) => a.state !== undefined || a.enabled !== undefined, {
    message: 'give state or enabled',
    path: ['state'],
  });
type Args = z.infer<typeof schema>;

export interface ServiceObserved {
  init: 'systemd' | 'sysv';
  exists: boolean;
  active: boolean;
  enabled: boolean;
  /** systemd only: masked (it cannot be started or enabled until unmasked). */
  masked?: boolean;
  /** systemd only: in the failed state (a start that fails leaves it there). */
  failed?: boolean;
  /** systemd only: its unit file changed on disk since systemd loaded it. */
  reloadNeeded?: boolean;
}

/**
 * One probe for both init systems. Without systemd as PID 1 (containers, the lab) lvsrun
 * drives /etc/init.d scripts and judges "running" by the pid file, then by pidof: Debian's
 * keepalived script has no status action.
 */
export function serviceProbe(name: string): ShellCmd {
  return joinCmds(
    [
      sh`n=${name}; s=/etc/init.d/$n
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo init=systemd; echo "active=$(systemctl is-active "$n" 2>/dev/null)"; `,
      raw(`echo "enabled=$(systemctl is-enabled "$n" 2>/dev/null)"
  echo "reload=$(systemctl show -p NeedDaemonReload --value "$n" 2>/dev/null)"
  if systemctl cat "$n" >/dev/null 2>&1; then echo exists=yes; else echo exists=no; fi
else
  echo init=sysv; if [ -x "$s" ]; then echo exists=yes; else echo exists=no; fi
  if [ -s "/run/$n.pid" ] && kill -0 "$(cat "/run/$n.pid")" 2>/dev/null; then echo active=active
  elif pidof "$n" >/dev/null 2>&1 || pidof "/usr/sbin/$n" >/dev/null 2>&1; then echo active=active; `),
      raw(`else echo active=inactive; fi
  if ls /etc/rc[2345].d/S*"$n" >/dev/null 2>&1; then echo enabled=enabled; else echo enabled=disabled; fi
fi`),
    ],
    '',
  );
}

export function parseServiceProbe(stdout: string): ServiceObserved {
  const kv = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const base = {
    init: kv.init === 'systemd' ? ('systemd' as const) : ('sysv' as const),
    exists: kv.exists === 'yes',
    active: kv.active === 'active' || kv.active === 'reloading',
    enabled: kv.enabled === 'enabled',
  };
  if (base.init !== 'systemd') return base;
  const masked = /^masked/.test(kv.enabled ?? '');
  return {
    ...base,
    exists: base.exists || masked,
    masked,
    failed: kv.active === 'failed',
    reloadNeeded: kv.reload === 'yes',
  };
}

/** Start/stop and wait until the process really is (or is not) there: init scripts return early. */
export function serviceAction(
  init: 'systemd' | 'sysv',
  name: string,
  action: 'start' | 'stop' | 'restart' | 'reload',
): ShellCmd {
  if (init === 'systemd') return sh`systemctl ${action} ${name}`;
  const wait = (want: 'up' | 'down') =>
    nest(
      joinCmds(
        [
          sh`i=0; while [ $i -lt 100 ]; do if pidof ${name} >/dev/null 2>&1; then [ ${want} = up ] && break; `,
          sh`else [ ${want} = down ] && break; fi; i=$((i+1)); sleep 0.1; done`,
        ],
        '',
      ),
    );
  const script = nest(sh`/etc/init.d/${name}`);
  switch (action) {
    case 'start':
      return sh`${script} start >/dev/null && ${wait('up')}; pidof ${name} >/dev/null`;
    case 'stop':
      return sh`${script} stop >/dev/null; ${wait('down')}; ! pidof ${name} >/dev/null`;
    case 'restart':
      return joinCmds(
        [
          sh`${script} stop >/dev/null; ${wait('down')}; `,
          sh`${script} start >/dev/null && ${wait('up')}; pidof ${name} >/dev/null`,
        ],
        '',
      );
    case 'reload':
      return sh`${script} reload >/dev/null`;
  }
}

/** The undo of a start: stop, and clear the failed state a start that failed leaves (it was not failed before). */
function undoStart(o: ServiceObserved, name: string): ShellCmd {
  if (o.init !== 'systemd' || o.failed) return serviceAction(o.init, name, 'stop');
  return sh`systemctl stop ${name} && systemctl reset-failed ${name}`;
}

function enableCmd(init: 'systemd' | 'sysv', name: string, on: boolean): ShellCmd {
  if (init === 'systemd') return sh`systemctl ${on ? 'enable' : 'disable'} ${name}`;
  return sh`update-rc.d ${name} ${on ? 'defaults' : 'disable'} >/dev/null`;
}

export const service: TaskModule<Args, ServiceObserved> = {
  name: 'service',
  schema,
  async check(ctx, p) {
    return parseServiceProbe((await ctx.exec(serviceProbe(p.name))).stdout);
  },
  plan(p, o): Plan {
    if (!o.exists) return failPlan(`service ${p.name} is not installed on this host (${o.init})`);
    const wantsUp = p.state !== undefined && p.state !== 'stopped';
    if (o.masked && (wantsUp || p.enabled === true)) {
      return failPlan(
        `service ${p.name} is masked on this host: systemd refuses to ` +
          `${wantsUp ? 'start' : 'enable'} it (unmask it first: systemctl unmask ${p.name})`,
      );
    }
    const steps: Step[] = [];
    const undo: Step[] = [];
    const act = (a: 'start' | 'stop' | 'restart' | 'reload'): Step =>
      exec(serviceAction(o.init, p.name, a), { what: `${a} ${p.name}` });
    const stopStarted = (): Step => exec(undoStart(o, p.name), { what: `stop ${p.name}` });
    // A changed unit file is loaded before anything else, so start/restart/enable act on what is on disk.
    if (o.reloadNeeded) steps.push(exec(sh`systemctl daemon-reload`, { what: 'daemon-reload' }));
    if (p.state === 'started' && !o.active) {
      steps.push(act('start'));
      undo.push(stopStarted());
    }
    if (p.state === 'stopped' && o.active) {
      steps.push(act('stop'));
      undo.push(act('start'));
    }
    if (p.state === 'restarted') {
      steps.push(act(o.active ? 'restart' : 'start'));
      if (!o.active) undo.push(stopStarted());
    }
    if (p.state === 'reloaded') {
      steps.push(act(o.active ? 'reload' : 'start'));
      if (!o.active) undo.push(stopStarted());
    }
    if (p.enabled !== undefined && p.enabled !== o.enabled) {
      steps.push(exec(enableCmd(o.init, p.name, p.enabled)));
      undo.unshift(exec(enableCmd(o.init, p.name, o.enabled)));
    }
    if (!steps.length)
      return noop(`${p.name} ${o.active ? 'running' : 'stopped'}`, {
        name: p.name,
        state: o.active ? 'started' : 'stopped',
      });
    return {
      action: 'update',
      summary: `${p.name}: ${steps.map((s) => s.what ?? 'enable').join(', ')}`,
      steps,
      undo: undo.reverse(),
      diff: [
        {
          path: `service ${p.name}`,
          before: `${o.active ? 'running' : 'stopped'}, ${o.enabled ? 'enabled' : 'disabled'}\n`,
          after:
            `${p.state ?? (o.active ? 'running' : 'stopped')}, ` +
            `${(p.enabled ?? o.enabled) ? 'enabled' : 'disabled'}\n`,
        },
      ],
    };
  },
  result: (p) => ({ name: p.name, state: p.state }),
};
