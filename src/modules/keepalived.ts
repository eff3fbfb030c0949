import { parseFileState, fileStateCmd, type FileState } from '../facts/file.js';
import { multiProbe, splitProbe } from '../facts/probe.js';
import { groupRealsProblem } from '../lvs/group-reals.js';
import { hideAuthPass, keepalivedContext } from '../lvs/keepalived-conf.js';
import { raw } from '../transport/shell.js';
import { KEEPALIVED_TEMPLATE, keepalivedSchema, type KeepalivedArgs } from './keepalived-args.js';
import { planFileWrite } from './copy.js';
import { parseServiceProbe, serviceAction, serviceProbe, type ServiceObserved } from './service.js';
import { exec, failPlan, noop, type ModuleCtx, type Plan, type Step, type TaskModule } from './types.js';

/** `checkMode`: a --check run on a fresh host has not installed keepalived yet (the package task only planned it). */
export interface KeepalivedObserved {
  file: FileState;
  want: string;
  svc: ServiceObserved;
  installed: boolean;
  canTest: boolean;
  checkMode: boolean;
  /** What `keepalived -t` said of the candidate file when it refused it (--check only). */
  refused?: string;
}

const MODE = '0640'; // keepalived.conf holds auth_pass

/**
 * keepalived.conf from structured data through a Handlebars template, checked with
 * `keepalived -t` before it replaces the live file, applied with a reload (SIGHUP: no new
 * election) when keepalived runs, started when it does not. Undo puts the old file back and
 * reloads (or stops what it started).
 */
export const keepalived: TaskModule<KeepalivedArgs, KeepalivedObserved> = {
  name: 'keepalived',
  schema: keepalivedSchema,
  localTemplate: (a) => a.template ?? KEEPALIVED_TEMPLATE,
  vet(p, vars) {
    for (const [i, v] of p.virtual_servers.entries()) {
      const m = v.reals_from && groupRealsProblem(vars, v.reals_from.group);
      if (m) return { path: `virtual_servers.${i}.reals_from.group`, message: m };
    }
    for (const [i, v] of p.vrrp_instances.entries()) {
      const m = v.unicast_peer_group && groupRealsProblem(vars, v.unicast_peer_group);
      if (m) return { path: `vrrp_instances.${i}.unicast_peer_group`, message: m };
    }
    return undefined;
  },
  async check(ctx, p) {
    const tpl = ctx.readLocal(p.template, 'templates');
    const want = ctx.render(
      tpl.text,
      { file: tpl.path },
      { ...keepalivedContext(p, ctx.vars), inventory_hostname: ctx.host },
    );
    const r = await ctx.exec(
      multiProbe([
        fileStateCmd(p.dest),
        serviceProbe(p.service),
        // -t (--config-test) arrived in keepalived 2.0.x: older hosts get the file unchecked.
        raw(
          'command -v keepalived >/dev/null || { echo missing; exit 0; }; ' +
            'if keepalived --help 2>&1 | grep -q -- --config-test; then echo test; else echo notest; fi',
        ),
      ]),
    );
    const [f, s, k] = splitProbe(r, 3) as [typeof r, typeof r, typeof r];
    const bin = k.stdout.trim();
    const file = parseFileState(f, p.dest);
    const canTest = bin === 'test';
    const o: KeepalivedObserved = {
      file,
      want,
      svc: parseServiceProbe(s.stdout),
      installed: bin !== 'missing',
      canTest,
      checkMode: ctx.check,
    };
    // --check writes nothing, so the write step's -t never runs: test a throwaway copy instead.
    if (ctx.check && canTest && p.validate && (!file.exists || file.content !== want)) {
      const refused = await configTestRefusal(ctx, want);
      if (refused) return { ...o, refused };
    }
    return o;
  },
  plan(p, o): Plan {
    const st = o.file;
    // The file itself is written like copy/template; the service steps go after it.
    const file = planFileWrite(
      {
        dest: p.dest,
        mode: MODE,
        backup: false,
        ...(p.validate && o.canTest ? { validate: 'keepalived -t -f %s' } : {}),
      },
      { state: st, want: o.want, source: p.template },
    );
    if (file.fail) return file;
    if (o.refused) return failPlan(`keepalived -t refuses the new ${p.dest}: ${o.refused}`);
    const changed = !st.exists || st.content !== o.want;
    const steps: Step[] = [...file.steps];
    const undo: Step[] = [...file.undo];
    const act = (a: 'start' | 'stop' | 'reload'): Step =>
      exec(serviceAction(o.svc.init, p.service, a), { what: `${a} ${p.service}` });
    let applied: 'reloaded' | 'started' | undefined;
    if (o.svc.active && changed) {
      steps.push(act('reload'));
      undo.push(act('reload'));
      applied = 'reloaded';
    }
    if (!o.svc.active && p.start) {
      steps.push(act('start'));
      undo.unshift(act('stop'));
      applied = 'started';
    }
    const result = { dest: p.dest, changed_config: changed, ...(applied ? { [applied]: true } : {}) };
    if (!steps.length)
      return noop(`${p.dest} as declared, ${p.service} ${o.svc.active ? 'running' : 'not running'}`, result);
    const summary =
      `${changed ? `${st.exists ? 'update' : 'create'} ${p.dest}` : p.dest}` +
      `${applied ? `, ${applied} ${p.service}` : ''}`;
    const plan: Plan = {
      action: st.exists ? 'update' : 'create',
      summary,
      steps,
      undo,
      result,
      ...(file.diff
        ? { diff: file.diff.map((d) => ({ ...d, before: hideAuthPass(d.before), after: hideAuthPass(d.after) })) }
        : {}),
    };
    if (!o.installed) {
      if (o.checkMode) return { ...plan, summary: `${summary} (keepalived not installed yet: not validated)` };
      return failPlan('keepalived is not installed on this host; install the keepalived package before this task');
    }
    if (!o.svc.exists && applied)
      return failPlan(
        'keepalived is installed but ' +
          `${o.svc.init === 'systemd' ? `has no unit ${p.service}` : `/etc/init.d/${p.service} is missing`}`,
        { summary: plan.summary, ...(plan.diff ? { diff: plan.diff } : {}) },
      );
    return plan;
  },
};

const TEST_END = '__lvsrun_ktest_rc';

/**
 * `keepalived -t` on the candidate file in a private folder (mktemp -d: 0700) that is removed
 * afterwards, whatever the outcome: a throwaway file, not a change. Returns keepalived's complaint
 * (printable, bounded) when it refuses the file.
 */
async function configTestRefusal(ctx: ModuleCtx, want: string): Promise<string | undefined> {
  const r = await ctx.exec(
    raw(`(d=$(mktemp -d) || exit 1
cat > "$d/keepalived.conf"
keepalived -t -f "$d/keepalived.conf" 2>&1; rc=$?
rm -rf -- "$d"
echo "${TEST_END}=$rc")`),
    { stdin: want },
  );
  const m = new RegExp(`${TEST_END}=(\\d+)\\s*$`).exec(r.stdout);
  if (!m) return undefined; // no answer from the test: the write step still runs -t
  if (m[1] === '0') return undefined;
  const said = r.stdout
    .slice(0, m.index)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?')
    .trim();
  return `exit ${m[1]}${said ? `: ${said.split('\n').slice(0, 6).join('; ').slice(0, 600)}` : ''}`;
}
