import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { operatorName } from '../../engine/host-lock.js';
import { EventBus } from '../../engine/events.js';
import { runPlaybook } from '../../engine/runner.js';
import { checkConnectVars, connVarError } from '../../engine/connect-vars.js';
import { ConfigError } from '../../errors.js';
import { loadInventory, resolveInventoryPath } from '../../inventory/load.js';
import { selectHosts } from '../../inventory/select.js';
import { labInventoryPath } from '../../lab/paths.js';
import { loadPlaybook } from '../../playbook/load.js';
import { JsonReporter } from '../../report/json.js';
import { ListrReporter } from '../../report/listr.js';
import { PlainReporter } from '../../report/plain.js';
import { Redactor } from '../../report/redact.js';
import { sshConnector } from '../connector.js';
import { formatFindings, validateInventory } from '../../lvs/validate.js';
import { TemplateEngine } from '../../template/render.js';
import { newRunId } from '../../rollback/journal.js';
import { EXIT } from '../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import type { Io } from '../main.js';

export const RUN_OPTIONS = {
  inventory: { type: 'string', short: 'i', multiple: true },
  limit: { type: 'string', short: 'l' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  check: { type: 'boolean', short: 'C' },
  diff: { type: 'boolean', short: 'D' },
  tags: { type: 'string', short: 't', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  forks: { type: 'string', short: 'f' },
  strategy: { type: 'string' },
  json: { type: 'boolean' },
  report: { type: 'string' },
  'detailed-exitcode': { type: 'boolean' },
  'accept-new-host-keys': { type: 'boolean' },
  'connect-timeout': { type: 'string' },
  'break-lock': { type: 'boolean' },
  'no-lock': { type: 'boolean' },
  'skip-validate': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
} as const;

/** The command line as journaled: values of -e are dropped (they may hold secrets). */
function redactArgv(argv: string[]): string[] {
  return argv.map((a, i) => (argv[i - 1] === '-e' || argv[i - 1] === '--extra-vars' ? '<redacted>' : a.startsWith('--extra-vars=') ? '--extra-vars=<redacted>' : a));
}

export function loadInventoryArg(arg: string | undefined, io: Io) {
  if (!arg) throw new ConfigError('E_USAGE', 'no inventory given', { hint: 'pass -i INVENTORY (e.g. -i lab after `lvsrun lab up`)' });
  return loadInventory(resolveInventoryPath(arg, io.cwd, { lab: labInventoryPath(io.env) }));
}

export async function runCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: RUN_OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new ConfigError('E_USAGE', positionals.length ? `expected one playbook, got ${positionals.join(' ')}` : 'no playbook given', { hint: 'lvsrun site.yaml -i INVENTORY' });
  const forks = Number(v.forks ?? 50);
  if (!Number.isInteger(forks) || forks < 1) throw new ConfigError('E_USAGE', `--forks must be a positive whole number, got ${v.forks}`);
  if (v.strategy && v.strategy !== 'linear' && v.strategy !== 'free') throw new ConfigError('E_USAGE', `--strategy must be linear or free`);
  const inv = loadInventoryArg(v.inventory?.at(-1), io);
  const pb = loadPlaybook(resolve(io.cwd, positionals[0]!));
  const extraVars = parseExtraVars(v['extra-vars'] ?? [], io.cwd);
  let limit: Set<string> | undefined;
  if (v.limit) {
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
  const findings = v['skip-validate'] ? [] : validateInventory(inv, pb, new TemplateEngine(), extraVars);
  if (findings.some((f) => f.severity !== 'info')) io.err(formatFindings(findings));
  if (findings.some((f) => f.severity === 'error')) {
    throw new ConfigError('E_VALIDATION', `${findings.filter((f) => f.severity === 'error').length} validation error(s): nothing was touched`, { hint: 'fix them, or see lvsrun validate --help; --skip-validate runs anyway' });
  }
  const red = Redactor.fromVars([...[...inv.hosts.values()].map((h) => h.vars), ...pb.plays.map((p) => p.vars), extraVars]);
  const bus = new EventBus();
  const verbose = v.verbose?.length ?? 0;
  if (!v.json) bus.add(io.isTTY && !verbose && !v.diff ? new ListrReporter(red, io.out) : new PlainReporter({ diff: Boolean(v.diff), verbose, write: io.out, color: io.isTTY }, red));
  if (v.json || v.report) bus.add(new JsonReporter(red, v.report ? resolve(io.cwd, v.report) : undefined, v.json ? io.out : undefined));

  const runId = newRunId();
  const ctl = new AbortController();
  let interrupts = 0;
  const onSig = (): void => {
    interrupts++;
    if (interrupts === 1) {
      io.err('\ninterrupted: finishing the steps in flight, then rolling back per policy (Ctrl-C again to stop at once)\n');
      ctl.abort();
    } else process.exit(EXIT.INTERRUPTED);
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  try {
    const summary = await runPlaybook(pb, inv, {
      check: Boolean(v.check), diff: Boolean(v.diff), forks, ...(v.limit ? { limit: v.limit } : {}),
      tags: (v.tags ?? []).flatMap((t) => t.split(',')), skipTags: (v['skip-tags'] ?? []).flatMap((t) => t.split(',')),
      extraVars, ...(v.strategy ? { strategy: v.strategy as 'linear' | 'free' } : {}),
      acceptNewHostKeys: Boolean(v['accept-new-host-keys']), connectTimeoutMs: Number(v['connect-timeout'] ?? 10) * 1000,
      runId, runDir: join(io.cwd, '.lvsrun', 'runs', runId), signal: ctl.signal,
      meta: { playbook: pb.file, ...(inv.sources[0] ? { inventory: inv.sources[0] } : {}), operator: operatorName(), pid: process.pid, argv: redactArgv(argv), check: Boolean(v.check), kind: 'run' },
      lock: { enabled: !v['no-lock'], breakLock: Boolean(v['break-lock']), operator: operatorName() },
    }, sshConnector(inv, io.cwd, { acceptNewHostKeys: Boolean(v['accept-new-host-keys']), connectTimeoutMs: Number(v['connect-timeout'] ?? 10) * 1000 }), bus);
    await bus.close();
    const pending = Object.entries(summary.rolledBack).filter(([, o]) => o.pending).map(([h]) => h);
    if (pending.length) io.err(`rollback pending on ${pending.join(', ')} (unreachable): run \`lvsrun rollback ${runId}\` when they are back\n`);
    if (ctl.signal.aborted) {
      io.err(`interrupted: run ${runId} stopped; ${Object.keys(summary.rolledBack).length} host(s) rolled back; journal in .lvsrun/runs/${runId}\n`);
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
