import { setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { becomeSpec } from '../../engine/connect.js';
import { lockHost, operatorName, type HostLock } from '../../engine/host-lock.js';
import { DrillChanges } from '../../drills/change.js';
import { failoverDrill, type DirectorConn } from '../../drills/failover.js';
import { drainDrill, rsDownDrill } from '../../drills/realserver.js';
import { rollingDrill } from '../../drills/rolling.js';
import { drillHtml } from '../../drills/report-html.js';
import type { DrillResult } from '../../drills/timeline.js';
import { ConfigError } from '../../errors.js';
import { selectHosts } from '../../inventory/select.js';
import type { Inventory } from '../../inventory/types.js';
import { formatFindings, validateInventory } from '../../lvs/validate.js';
import { loadPlaybook } from '../../playbook/load.js';
import type { VaultKeyring } from '../../vault/keyring.js';
import { loadConfig } from '../config.js';
import { parseExtraVars } from '../extra-vars.js';
import { Journal, newRunId } from '../../rollback/journal.js';
import { TemplateEngine } from '../../template/render.js';
import { sh } from '../../transport/shell.js';
import { sshConnector } from '../connector.js';
import { EXIT } from '../../exit-codes.js';
import { PACKAGE_ROOT } from '../../package-root.js';
import type { Io } from '../io.js';
import { parseCommand } from '../spec.js';
import { DRILL_CMD } from '../command-defs.js';
import { vaultKeyring } from '../vault-options.js';
import { loadInventoryArg, outputRedactor } from '../inputs.js';
import { runCommand } from './run.js';
import { serviceAddress } from '../../lvs/group-reals.js';

/** lvsrun drill failover -i INV: a measured, journaled, self-restoring failover of the VRRP pair. */
export async function drillCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(DRILL_CMD, argv);
  const [kind, rsName] = positionals;
  if (kind !== 'failover' && kind !== 'drain' && kind !== 'rs-down' && kind !== 'rolling') {
    throw new ConfigError('E_USAGE', `unknown drill '${kind ?? ''}'`, {
      hint: 'lvsrun drill failover|drain HOST|rs-down HOST|rolling -i INVENTORY (see lvsrun drill --help)',
    });
  }
  const rate = Number(v.rate);
  if (!Number.isFinite(rate) || rate < 1 || rate > 200)
    throw new ConfigError('E_USAGE', `--rate must be a number of requests a second from 1 to 200, got ${v.rate}`);
  if ((kind === 'drain' || kind === 'rs-down') && !rsName)
    throw new ConfigError('E_USAGE', `drill ${kind} needs the real server: lvsrun drill ${kind} HOST -i INVENTORY`);
  if (v.mode !== 'stop' && v.mode !== 'service' && v.mode !== 'link')
    throw new ConfigError('E_USAGE', `--mode must be stop, service or link, got ${v.mode}`);
  if (v.mode === 'service' && !v.service)
    throw new ConfigError('E_USAGE', '--mode service needs --service NAME (the service a vrrp_script tracks)');
  const vault = await vaultKeyring(v, io);
  const inv = loadInventoryArg(v.inventory, io, vault);
  // The drill's report and timeline quote hosts' output: the inventory's secrets are masked there.
  const red = outputRedactor(inv, undefined, {}, vault, io.redactor);
  const names = selectHosts(inv, v.directors);
  if (rsName && !inv.hosts.has(rsName)) throw new ConfigError('E_PATTERN', `no host '${rsName}' in the inventory`);
  if (kind === 'failover' && names.length < 2)
    throw new ConfigError(
      'E_PATTERN',
      `a failover drill needs at least two directors; '${v.directors}' matches ${names.length}`,
    );
  const vars = names.map((n) => inv.hosts.get(n)!.vars);
  const vip = String(vars[0]!.lvs_vip ?? '');
  if (!vip)
    throw new ConfigError('E_CONFIG', `no lvs_vip on ${names[0]}`, {
      hint: 'the drill probes the VIP the directors share',
    });
  // rolling: everything the rollout needs is checked before any host is touched, as a run checks it.
  const rolling = kind === 'rolling' ? rollingInput(inv, v, vars, names, io, vault) : undefined;
  const runId = newRunId();
  const runDir = join(io.cwd, '.lvsrun', 'runs', runId);
  const journal = new Journal(runDir);
  journal.write({
    phase: 'run-start',
    meta: {
      playbook: `drill ${kind} ${rsName ?? vip}`,
      ...(inv.sources[0] ? { inventory: inv.sources[0] } : {}),
      operator: operatorName(),
      pid: process.pid,
      argv,
      check: false,
      kind: 'drill',
    },
  });
  const connect = sshConnector(inv, io.cwd, {
    env: io.env,
    acceptNewHostKeys: Boolean(v['accept-new-host-keys']),
    connectTimeoutMs: 10000,
  });
  const ctl = new AbortController();
  // Every command in flight on every host listens on it (and stops listening when it ends): many at once is normal.
  setMaxListeners(0, ctl.signal);
  const onSig = (): void => {
    io.err('\ninterrupted: restoring the cluster\n');
    ctl.abort();
  };
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
      // rolling: the rollout's run takes the hosts' locks; the drill only reads the directors' tables.
      if (kind !== 'rolling')
        locks.push(await lockHost(t, hv, templates, runId, operatorName(), Boolean(v['break-lock'])));
    }
    // "as configured" means as the hosts are configured now: read nopreempt from their keepalived.conf.
    const conf = await Promise.all(
      conns.map((c) => {
        const path = String(c.vars.lvs_keepalived_conf ?? '/etc/keepalived/keepalived.conf');
        return c.t.exec(sh`grep -Eqs '^[[:space:]]*nopreempt' ${path}`);
      }),
    );
    const nopreempt = conf.some((r) => r.code === 0);
    const changes = new DrillChanges(journal);
    let r: DrillResult;
    if (kind === 'rolling') {
      const { port, probe, reals, protocol, playbook } = rolling!;
      io.err(`drill ${runId}: rolling ${playbook} over ${reals.map((x) => x.name).join(', ')} (probe ${probe})\n`);
      // The rollout's own output goes to stderr: stdout carries the drill's verdict (or --json).
      const sub: Io = { ...io, out: io.err, isTTY: false };
      const pass = (k: string, xs: readonly string[] | undefined): string[] => (xs ?? []).flatMap((x) => [k, x]);
      r = await rollingDrill({
        runId,
        directors: conns,
        reals,
        vip,
        port,
        protocol,
        probe,
        probeEveryMs: Math.round(1000 / rate),
        // A slow answer is not a failed request: each may take 2 s (the directors of the lab are emulated).
        probeTimeoutMs: 2000,
        watchEveryMs: 200,
        signal: ctl.signal,
        rollout: () =>
          runCommand(
            [
              playbook,
              '-i',
              v.inventory!,
              ...pass('-e', v['extra-vars']),
              ...pass('--vault-password-file', v['vault-password-file']),
              ...pass('--vault-id', v['vault-id']),
              ...(v['accept-new-host-keys'] ? ['--accept-new-host-keys'] : []),
              ...(v['break-lock'] ? ['--break-lock'] : []),
            ],
            sub,
          ),
      });
    } else if (kind !== 'failover') {
      const hv: Record<string, unknown> = { ...inv.hosts.get(rsName!)!.vars, inventory_hostname: rsName };
      const t = await connect(rsName!, hv);
      const rs = {
        name: rsName!,
        t,
        vars: hv,
        become: becomeSpec(hv, false, 'root'),
        addr: String(serviceAddress(hv) ?? rsName),
      };
      conns.push(rs);
      const probe = v.probe === 'icmp' ? `http:${Number(vars[0]!.lvs_port ?? 80)}` : v.probe;
      io.err(`drill ${runId}: ${kind} of ${rsName} (${rs.addr}) behind ${vip} (probe ${probe})\n`);
      const input = {
        runId,
        directors: conns.filter((c) => c !== rs),
        rs,
        vip,
        port: Number(vars[0]!.lvs_port ?? 80),
        probe,
        timeoutMs: Number(v.timeout) * 1000,
        changes,
        signal: ctl.signal,
        ...(v.run ? { runCmd: v.run } : {}),
        ...(v.service ? { service: v.service } : {}),
      };
      r = kind === 'drain' ? await drainDrill(input) : await rsDownDrill(input);
    } else {
      io.err(
        `drill ${runId}: failover of ${vip} between ${names.join(', ')} ` +
          `(probe ${v.probe}; ${nopreempt ? 'nopreempt' : 'preemptive'} as configured)\n`,
      );
      r = await failoverDrill({
        runId,
        directors: conns,
        vip,
        probe: v.probe,
        mode: v.mode,
        ...(v.service ? { service: v.service } : {}),
        nopreempt,
        maxWaitMs: Number(v['max-wait']) * 1000,
        changes,
        signal: ctl.signal,
        log: io.err,
      });
    }
    writeFileSync(join(runDir, 'drill.json'), `${JSON.stringify(red.deep(r), null, 2)}\n`);
    writeFileSync(join(runDir, 'drill.html'), drillHtml(r, red));
    if (v.json) io.out(`${JSON.stringify(red.deep(r), null, 2)}\n`);
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

/** The rolling drill's input from the inventory and options; bad input (and what validate refuses) throws. */
function rollingInput(
  inv: Inventory,
  v: { probe: string; reals: string; playbook?: string; 'extra-vars'?: string[] },
  vars: Array<Record<string, unknown>>,
  names: string[],
  io: Io,
  vault: VaultKeyring,
) {
  const port = Number(vars[0]!.lvs_port ?? 80);
  const probe = v.probe === 'icmp' ? `http:${port}` : v.probe;
  const reals = selectHosts(inv, v.reals).map((n) => {
    const hv = inv.hosts.get(n)!.vars;
    const addr = String(hv.ansible_host ?? n);
    return { name: n, key: `${addr.includes(':') ? `[${addr}]` : addr}:${Number(hv.lvs_rs_port ?? port)}` };
  });
  if (!reals.length) throw new ConfigError('E_PATTERN', `--reals '${v.reals}' matches no host`);
  const protocol = String(vars[0]!.lvs_protocol ?? 'tcp').toLowerCase();
  if (!isProto(protocol))
    throw new ConfigError('E_CONFIG', `lvs_protocol of ${names[0]} is ${protocol}: tcp, udp or sctp`);
  const playbook = resolve(io.cwd, v.playbook ?? join(PACKAGE_ROOT, 'playbooks', 'rolling.yaml'));
  const extraVars = parseExtraVars(v['extra-vars'] ?? [], io.cwd, vault);
  const pb = loadPlaybook(playbook, { rolesPath: loadConfig(io.cwd, io.env).rolesPath, vault, vars: extraVars });
  const errors = validateInventory(inv, pb, new TemplateEngine(), extraVars).filter((f) => f.severity === 'error');
  if (errors.length) {
    io.err(formatFindings(errors));
    throw new ConfigError('E_VALIDATION', `${errors.length} validation error(s) in the rollout: nothing was touched`);
  }
  return { port, probe, reals, protocol: protocol, playbook };
}

const isProto = (p: string): p is 'tcp' | 'udp' | 'sctp' => p === 'tcp' || p === 'udp' || p === 'sctp';
