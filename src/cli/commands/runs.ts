import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { readJournal } from '../../rollback/journal.js';
import { describeRun, type RunInfo } from '../../rollback/outstanding.js';
import { planPrune } from '../../rollback/prune.js';
import { runIds } from '../../rollback/restore.js';
import { EXIT } from '../../exit-codes.js';
import type { Io } from '../io.js';
import { noArgs, parseCommand } from '../spec.js';
import { RUNS_CMD } from '../command-defs.js';
import { runsDir } from '../io.js';

/** lvsrun runs: every run this folder journaled, newest first, with what a rollback would still revert. */
export async function runsCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(RUNS_CMD, argv);
  noArgs(RUNS_CMD, positionals);
  const infos = runIds(runsDir(io))
    .reverse()
    .map((id) => describeRun(id, readJournal(join(runsDir(io), id, 'journal.jsonl'))));
  if (v.prune || v.keep !== undefined || v['older-than'] !== undefined || v.force) return prune(v, infos, io);
  if (v.json) {
    io.out(`${JSON.stringify(infos, null, 2)}\n`);
    return EXIT.OK;
  }
  if (!infos.length) {
    io.out('no runs yet\n');
    return EXIT.OK;
  }
  for (const r of infos) {
    const what = r.meta
      ? `${r.meta.kind} ${r.meta.playbook ?? ''}${r.meta.check ? ' (check)' : ''} by ${r.meta.operator}`
      : '';
    io.out(`${r.id}  ${r.outcome.padEnd(18)} ${what}\n`);
    if (r.outstandingHosts.length)
      io.out(
        `    changes in effect on: ${r.outstandingHosts.join(', ')}` +
          `${r.pendingHosts.length ? `; rollback pending on: ${r.pendingHosts.join(', ')}` : ''}\n`,
      );
    for (const [h, hs] of Object.entries(r.owedHandlers))
      io.out(`    handlers notified but not run on ${h}: ${hs.join(', ')}\n`);
    if (r.failedHosts.length && r.meta?.kind === 'run') {
      io.out(
        `    failed or unreachable: ${r.failedHosts.join(', ')}; run them again with:` +
          ` lvsrun ${r.meta.playbook ?? 'PLAYBOOK'} -i ${r.meta.inventory ?? 'INVENTORY'} --limit @failed\n`,
      );
    }
  }
  return EXIT.OK;
}

function count(v: string | undefined, opt: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw new ConfigError('E_USAGE', `--${opt} must be a whole number, got '${v}'`, { hint: `e.g. --${opt} 30` });
  }
  return n;
}

/** lvsrun runs --prune: remove old runs' folders; never one whose changes are in effect unless --force. */
function prune(
  v: { prune?: boolean; keep?: string; 'older-than'?: string; force?: boolean; json?: boolean },
  infos: RunInfo[],
  io: Io,
): number {
  const keep = count(v.keep, 'keep');
  const olderThanDays = count(v['older-than'], 'older-than');
  if (!v.prune) {
    throw new ConfigError('E_USAGE', '--keep, --older-than and --force go with --prune', {
      hint: 'lvsrun runs --prune --keep 20',
    });
  }
  if (keep === undefined && olderThanDays === undefined) {
    throw new ConfigError('E_USAGE', '--prune needs --keep N or --older-than DAYS (or both)', {
      hint: 'lvsrun runs --prune --keep 20 keeps the newest 20 runs',
    });
  }
  const plan = planPrune(infos, {
    ...(keep !== undefined ? { keep } : {}),
    ...(olderThanDays !== undefined ? { olderThanDays } : {}),
    force: Boolean(v.force),
    now: Date.now(),
  });
  for (const r of plan.remove) rmSync(join(runsDir(io), r.id), { recursive: true, force: true });
  if (v.json) {
    const spared = plan.spared.map((s) => ({ id: s.run.id, why: s.why }));
    io.out(`${JSON.stringify({ removed: plan.remove.map((r) => r.id), spared }, null, 2)}\n`);
    return EXIT.OK;
  }
  for (const r of plan.remove) io.out(`removed ${r.id}\n`);
  for (const s of plan.spared) io.out(`kept ${s.run.id}: ${s.why} (--force removes it)\n`);
  io.out(`${plan.remove.length} run(s) removed, ${plan.spared.length} kept\n`);
  return EXIT.OK;
}
