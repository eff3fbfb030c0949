import { join } from 'node:path';
import { readJournal } from '../../rollback/journal.js';
import { describeRun } from '../../rollback/outstanding.js';
import { runIds } from '../../rollback/restore.js';
import { EXIT } from '../../exit-codes.js';
import type { Io } from '../main.js';
import { EXITS_BASIC, helpText, noArgs, parseCommand, type CommandDef } from '../spec.js';
import { runsDir } from './rollback.js';

export const RUNS_CMD = {
  name: 'runs',
  summary: 'List the runs journaled in this folder (.lvsrun/runs), newest first, '
    + 'with what a rollback would still revert.',
  usage: ['runs [--json]'],
  options: { json: { type: 'boolean', help: 'the list as JSON on stdout' } },
  examples: ['lvsrun runs', 'lvsrun runs --json'],
  exits: EXITS_BASIC,
} as const satisfies CommandDef;

/** lvsrun runs: every run this folder journaled, newest first, with what a rollback would still revert. */
export async function runsCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals, help } = parseCommand(RUNS_CMD, argv);
  if (help) { io.out(helpText(RUNS_CMD)); return EXIT.OK; }
  noArgs(RUNS_CMD, positionals);
  const infos = runIds(runsDir(io)).reverse().map((id) => describeRun(id, readJournal(join(runsDir(io), id, 'journal.jsonl'))));
  if (v.json) { io.out(`${JSON.stringify(infos, null, 2)}\n`); return EXIT.OK; }
  if (!infos.length) { io.out('no runs yet\n'); return EXIT.OK; }
  for (const r of infos) {
    const what = r.meta ? `${r.meta.kind} ${r.meta.playbook ?? ''}${r.meta.check ? ' (check)' : ''} by ${r.meta.operator}` : '';
    io.out(`${r.id}  ${r.outcome.padEnd(18)} ${what}\n`);
    if (r.outstandingHosts.length) io.out(`    changes in effect on: ${r.outstandingHosts.join(', ')}${r.pendingHosts.length ? `; rollback pending on: ${r.pendingHosts.join(', ')}` : ''}\n`);
    for (const [h, hs] of Object.entries(r.owedHandlers)) io.out(`    handlers notified but not run on ${h}: ${hs.join(', ')}\n`);
  }
  return EXIT.OK;
}
