import { setMaxListeners } from 'node:events';
import { join, resolve } from 'node:path';
import { operatorName } from '../../engine/host-lock.js';
import { EventBus } from '../../engine/events.js';
import { runPlaybook } from '../../engine/runner.js';
import { checkConnectVars, connVarError } from '../../engine/connect-vars.js';
import { ConfigError } from '../../errors.js';
import { selectHosts } from '../../inventory/select.js';
import { loadPlaybook } from '../../playbook/load.js';
import { JsonReporter } from '../../report/json.js';
import { PlainReporter } from '../../report/plain.js';
import { sshConnector } from '../connector.js';
import { formatFindings, validateInventory } from '../../lvs/validate.js';
import { TemplateEngine } from '../../template/render.js';
import { newRunId } from '../../rollback/journal.js';
import { EXIT } from '../../exit-codes.js';
import type { Reporter } from '../../engine/types.js';
import type { Redactor } from '../../text/redact.js';
import { loadConfig } from '../config.js';
import { parseExtraVars } from '../extra-vars.js';
import { vaultKeyring } from '../vault-options.js';
import { runsDir, type Io } from '../io.js';
import { loadInventoryArg, outputRedactor } from '../inputs.js';
import { parseCommand } from '../spec.js';
import { RUN_CMD } from '../command-defs.js';

/** The command line as journaled: values of -e are dropped (they may hold secrets). */
function redactArgv(argv: string[]): string[] {
  return argv.map((a, i) =>
    argv[i - 1] === '-e' || argv[i - 1] === '--extra-vars'
      ? '<redacted>'
      : a.startsWith('--extra-vars=')
        ? '--extra-vars=<redacted>'
        : a,
  );
}

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(RUN_CMD, argv);
  if (positionals.length !== 1)
    throw new ConfigError(
      'E_USAGE',
      positionals.length ? `expected one playbook, got ${positionals.join(' ')}` : 'no playbook given',
      { hint: 'lvsrun site.yaml -i INVENTORY' },
    );
  const cfg = loadConfig(io.cwd, io.env);
  const forks = v.forks === undefined ? (cfg.forks ?? 50) : Number(v.forks);
  if (!Number.isInteger(forks) || forks < 1)
    throw new ConfigError('E_USAGE', `--forks must be a positive whole number, got ${v.forks}`);
  if (v.strategy && v.strategy !== 'linear' && v.strategy !== 'free')
    throw new ConfigError('E_USAGE', `--strategy must be linear or free`);
  const vault = await vaultKeyring(v, io);
  const inv = loadInventoryArg(v.inventory?.at(-1), io, vault);
  const extraVars = parseExtraVars(v['extra-vars'] ?? [], io.cwd, vault);
  const pb = loadPlaybook(resolve(io.cwd, positionals[0]!), { rolesPath: cfg.rolesPath, vault, vars: extraVars });
  let limit: Set<string> | undefined;
  // --limit @failed and @FILE read earlier runs' journals: that code loads only for them.
  const named = v.limit?.startsWith('@')
    ? (await import('../../rollback/rerun.js')).limitFromAt(v.limit, runsDir(io), io.cwd)
    : undefined;
  if (named) {
    const unknown = named.hosts.filter((h) => !inv.hosts.has(h));
    if (unknown.length) {
      throw new ConfigError(
        'E_PATTERN',
        `--limit ${v.limit}: ${unknown.join(', ')} (from ${named.from}) not in this inventory`,
        {
          hint: 'pass the inventory the hosts came from with -i',
        },
      );
    }
    io.err(`--limit ${v.limit}: ${named.hosts.join(', ')} (from ${named.from})\n`);
    limit = new Set(named.hosts);
  } else if (v.limit) {
    const hit = selectHosts(inv, v.limit);
    if (!hit.length) throw new ConfigError('E_PATTERN', `--limit '${v.limit}' matches no host`);
    limit = new Set(hit);
  }
  // How each targeted host is reached is checked before any host is touched, --skip-validate or not.
  const connProblems = checkConnectVars(inv, pb, extraVars, limit).map(connVarError);
  if (connProblems.length === 1) throw connProblems[0]!;
  if (connProblems.length) {
    io.err(connProblems.map((e) => `${e.format()}\n`).join(''));
    throw new ConfigError('E_INVENTORY', `${connProblems.length} bad connection variables: nothing was touched`);
  }
  // The whole-inventory LVS rules run before any host is touched; errors stop the run.
  const red = outputRedactor(inv, pb, extraVars, vault, io.redactor);
  const findings = v['skip-validate'] ? [] : validateInventory(inv, pb, new TemplateEngine(), extraVars);
  // Findings quote rendered values (a too-long auth_pass): they go through the redactor like all output.
  if (findings.some((f) => f.severity !== 'info')) io.err(red.text(formatFindings(findings)));
  if (findings.some((f) => f.severity === 'error')) {
    throw new ConfigError(
      'E_VALIDATION',
      `${findings.filter((f) => f.severity === 'error').length} validation error(s): nothing was touched`,
      { hint: 'fix them, or see lvsrun validate --help; --skip-validate runs anyway' },
    );
  }
  const bus = new EventBus();
  const verbose = v.verbose?.length ?? 0;
  if (!v.json) bus.add(await terminalReporter(io, red, verbose, Boolean(v.diff)));
  if (v.json || v.report)
    bus.add(new JsonReporter(red, v.report ? resolve(io.cwd, v.report) : undefined, v.json ? io.out : undefined));

  const runId = newRunId();
  const ctl = new AbortController();
  // Every command in flight on every host listens on it (and stops listening when it ends): many at once is normal.
  setMaxListeners(0, ctl.signal);
  let interrupts = 0;
  const onSig = (): void => {
    interrupts++;
    if (interrupts === 1) {
      io.err(
        '\ninterrupted: finishing the steps in flight, then rolling back per policy (Ctrl-C again to stop at once)\n',
      );
      ctl.abort();
    } else process.exit(EXIT.INTERRUPTED);
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    const summary = await runPlaybook(
      pb,
      inv,
      {
        check: Boolean(v.check),
        forks,
        ...(named ? { limitHosts: named.hosts } : v.limit ? { limit: v.limit } : {}),
        tags: (v.tags ?? []).flatMap((t) => t.split(',')),
        skipTags: (v['skip-tags'] ?? []).flatMap((t) => t.split(',')),
        extraVars,
        redactor: red,
        ...(v.strategy ? { strategy: v.strategy as 'linear' | 'free' } : {}),
        runId,
        runDir: join(runsDir(io), runId),
        signal: ctl.signal,
        meta: {
          playbook: pb.file,
          ...(inv.sources[0] ? { inventory: inv.sources[0] } : {}),
          operator: operatorName(),
          pid: process.pid,
          argv: redactArgv(argv),
          check: Boolean(v.check),
          kind: 'run',
        },
        lock: { enabled: !v['no-lock'], breakLock: Boolean(v['break-lock']), operator: operatorName() },
      },
      sshConnector(inv, io.cwd, {
        env: io.env,
        acceptNewHostKeys: Boolean(v['accept-new-host-keys']),
        connectTimeoutMs: Number(v['connect-timeout'] ?? 10) * 1000,
      }),
      bus,
    );
    await bus.close();
    const pending = Object.entries(summary.rolledBack)
      .filter(([, o]) => o.pending)
      .map(([h]) => h);
    if (pending.length)
      io.err(
        `rollback pending on ${pending.join(', ')} (unreachable): ` +
          `run \`lvsrun rollback ${runId}\` when they are back\n`,
      );
    if (ctl.signal.aborted) {
      io.err(
        `interrupted: run ${runId} stopped; ${Object.keys(summary.rolledBack).length} host(s) rolled back; ` +
          `journal in .lvsrun/runs/${runId}\n`,
      );
      return EXIT.INTERRUPTED;
    }
    if (v.check && v['detailed-exitcode'] && summary.exitCode === 0) {
      return Object.values(summary.recap).some((c) => c.changed > 0) ? 2 : 0;
    }
    return summary.exitCode;
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

/** The terminal's reporter. listr2 (live progress) and the diff package load only when this run shows them. */
async function terminalReporter(io: Io, red: Redactor, verbose: number, diff: boolean): Promise<Reporter> {
  if (io.isTTY && !verbose && !diff) {
    const { ListrReporter } = await import('../../report/listr.js');
    return new ListrReporter(red, io.out);
  }
  const diffText = diff ? (await import('../../report/diff.js')).unifiedDiff : undefined;
  return new PlainReporter({ diff: diffText, verbose, write: io.out, color: io.isTTY }, red);
}
