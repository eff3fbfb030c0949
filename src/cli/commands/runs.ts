import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readJournal } from '../../rollback/journal.js';
import { describeRun } from '../../rollback/outstanding.js';
import { runIds } from '../../rollback/restore.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';
import { runsDir } from './rollback.js';

/** lvsrun runs: every run this folder journaled, newest first, with what a rollback would still revert. */
export async function runsCommand(argv: string[], io: Io): Promise<number> {
  const { values: v } = parseArgs({ args: argv, strict: true, options: { json: { type: 'boolean' } } });
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
