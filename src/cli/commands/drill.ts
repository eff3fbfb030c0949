import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { becomeSpec } from '../../engine/connect.js';
import { lockHost, operatorName, type HostLock } from '../../engine/host-lock.js';
import { DrillChanges } from '../../drills/change.js';
import { failoverDrill, type DirectorConn } from '../../drills/failover.js';
import { drainDrill, rsDownDrill } from '../../drills/realserver.js';
import { drillHtml } from '../../drills/report-html.js';
import type { DrillResult } from '../../drills/timeline.js';
import { ConfigError } from '../../errors.js';
import { selectHosts } from '../../inventory/select.js';
import { Journal, newRunId } from '../../rollback/journal.js';
import { TemplateEngine } from '../../template/render.js';
import { sh } from '../../transport/shell.js';
import { sshConnector } from '../connector.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { loadInventoryArg } from './run.js';

/** lvsrun drill failover -i INV: a measured, journaled, self-restoring failover of the VRRP pair. */
export async function drillCommand(argv: string[], io: Io): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind !== 'failover' && kind !== 'drain' && kind !== 'rs-down') throw new ConfigError('E_USAGE', `unknown drill '${kind ?? ''}'`, { hint: 'lvsrun drill failover|drain HOST|rs-down HOST -i INVENTORY (see docs/drills.md)' });
  const { values: v, positionals } = parseArgs({ args: rest, strict: true, allowPositionals: true, options: {
    inventory: { type: 'string', short: 'i' }, directors: { type: 'string', default: 'directors' }, probe: { type: 'string', default: 'icmp' },
    'max-wait': { type: 'string', default: '10' }, mode: { type: 'string', default: 'stop' }, service: { type: 'string' }, json: { type: 'boolean' },
    'accept-new-host-keys': { type: 'boolean' }, 'break-lock': { type: 'boolean' }, timeout: { type: 'string', default: '60' }, run: { type: 'string' },
  } });
  const rsName = positionals[0];
  if (kind !== 'failover' && !rsName) throw new ConfigError('E_USAGE', `drill ${kind} needs the real server: lvsrun drill ${kind} HOST -i INVENTORY`);
  if (v.mode !== 'stop' && v.mode !== 'service' && v.mode !== 'link') throw new ConfigError('E_USAGE', `--mode must be stop, service or link, got ${v.mode}`);
  if (v.mode === 'service' && !v.service) throw new ConfigError('E_USAGE', '--mode service needs --service NAME (the service a vrrp_script tracks)');
  const inv = loadInventoryArg(v.inventory, io);
  const names = selectHosts(inv, v.directors);
  if (rsName && !inv.hosts.has(rsName)) throw new ConfigError('E_PATTERN', `no host '${rsName}' in the inventory`);
  if (kind === 'failover' && names.length < 2) throw new ConfigError('E_PATTERN', `a failover drill needs at least two directors; '${v.directors}' matches ${names.length}`);
  const vars = names.map((n) => inv.hosts.get(n)!.vars);
  const vip = String(vars[0]!.lvs_vip ?? '');
  if (!vip) throw new ConfigError('E_CONFIG', `no lvs_vip on ${names[0]}`, { hint: 'the drill probes the VIP the directors share' });
  const runId = newRunId();
  const runDir = join(io.cwd, '.lvsrun', 'runs', runId);
  const journal = new Journal(runDir);
  journal.write({ phase: 'run-start', meta: { playbook: `drill ${kind} ${rsName ?? vip}`, ...(inv.sources[0] ? { inventory: inv.sources[0] } : {}), operator: operatorName(), pid: process.pid, argv, check: false, kind: 'drill' } });
  const connect = sshConnector(inv, io.cwd, { acceptNewHostKeys: Boolean(v['accept-new-host-keys']), connectTimeoutMs: 10000 });
  const ctl = new AbortController();
  const onSig = (): void => { io.err('\ninterrupted: restoring the cluster\n'); ctl.abort(); };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  const conns: DirectorConn[] = [];
  const locks: HostLock[] = [];
  const templates = new TemplateEngine();
  try {
    for (const [k, n] of names.entries()) {
      const hv: Record<string, unknown> = { ...vars[k], inventory_hostname: n };
      const t = await connect(n, hv);
      conns.push({ name: n, t, vars: hv, become: becomeSpec(hv, false, 'root') });
      locks.push(await lockHost(t, hv, templates, runId, operatorName(), Boolean(v['break-lock'])));
    }
    // "as configured" means as the hosts are configured now: read nopreempt from their keepalived.conf.
    const conf = await Promise.all(conns.map((c) => c.t.exec(sh`grep -Eqs '^[[:space:]]*nopreempt' ${String(c.vars.lvs_keepalived_conf ?? '/etc/keepalived/keepalived.conf')}`)));
    const nopreempt = conf.some((r) => r.code === 0);
    const changes = new DrillChanges(journal);
    let r: DrillResult;
    if (kind !== 'failover') {
      const hv: Record<string, unknown> = { ...inv.hosts.get(rsName!)!.vars, inventory_hostname: rsName };
      const t = await connect(rsName!, hv);
      const rs = { name: rsName!, t, vars: hv, become: becomeSpec(hv, false, 'root'), addr: String(hv.ansible_host ?? rsName) };
      conns.push(rs);
      const probe = v.probe === 'icmp' ? `http:${Number(vars[0]!.lvs_port ?? 80)}` : v.probe;
      io.err(`drill ${runId}: ${kind} of ${rsName} (${rs.addr}) behind ${vip} (probe ${probe})\n`);
      const input = { runId, directors: conns.filter((c) => c !== rs), rs, vip, port: Number(vars[0]!.lvs_port ?? 80), probe, timeoutMs: Number(v.timeout) * 1000, changes, signal: ctl.signal,
        ...(v.run ? { runCmd: v.run } : {}), ...(v.service ? { service: v.service } : {}) };
      r = kind === 'drain' ? await drainDrill(input) : await rsDownDrill(input);
    } else {
      io.err(`drill ${runId}: failover of ${vip} between ${names.join(', ')} (probe ${v.probe}; ${nopreempt ? 'nopreempt' : 'preemptive'} as configured)\n`);
      r = await failoverDrill({ runId, directors: conns, vip, probe: v.probe, mode: v.mode as 'stop' | 'service' | 'link', ...(v.service ? { service: v.service } : {}),
        nopreempt, maxWaitMs: Number(v['max-wait']) * 1000, changes, signal: ctl.signal, log: io.err });
    }
    writeFileSync(join(runDir, 'drill.json'), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(runDir, 'drill.html'), drillHtml(r));
    if (v.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
    else {
      io.out(`${r.ok ? 'PASS' : 'FAIL'}: ${r.verdict}\n`);
      for (const [k, x] of Object.entries(r.metrics)) io.out(`  ${k}: ${x}\n`);
      io.out(`timeline: ${join(runDir, 'drill.json')}\nreport:   ${join(runDir, 'drill.html')}\n`);
    }
    journal.write({ phase: 'run-end', outcome: ctl.signal.aborted ? 'interrupted' : r.ok ? '0' : '2' });
    if (ctl.signal.aborted) return EXIT.INTERRUPTED;
    return r.ok ? EXIT.OK : EXIT.TASK_FAILED;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    for (const l of locks) l.release();
    await Promise.all(conns.map((c) => c.t.close().catch(() => undefined)));
    await journal.close();
  }
}
