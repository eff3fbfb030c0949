import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { readJournal } from './journal.js';
import { describeRun } from './outstanding.js';
import { runIds } from './restore.js';

/**
 * The hosts `--limit @failed` (or Ansible's `--limit @FILE`, one host per line) names: the hosts that failed
 * or were unreachable in the newest finished run of a playbook in this folder (not a check, rollback or drill).
 */
export function limitFromAt(arg: string, runsDir: string, cwd: string): { hosts: string[]; from: string } {
  if (arg !== '@failed') {
    const file = resolve(cwd, arg.slice(1));
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError('E_USAGE', `--limit ${arg}: cannot read ${file}: ${(e as Error).message}`, {
        hint: '--limit @failed takes the failed hosts of the newest run; --limit @FILE reads host names from FILE',
      });
    }
    return {
      hosts: text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#')),
      from: file,
    };
  }
  for (const id of runIds(runsDir).reverse()) {
    const info = describeRun(id, readJournal(join(runsDir, id, 'journal.jsonl')));
    if (info.meta?.kind !== 'run' || info.meta.check || !info.ended) continue;
    if (!info.failedHosts.length) {
      throw new ConfigError('E_USAGE', `--limit @failed: the newest run, ${id}, had no failed or unreachable host`, {
        hint: 'lvsrun runs lists the runs and their failed hosts',
      });
    }
    return { hosts: info.failedHosts, from: `run ${id}` };
  }
  throw new ConfigError('E_USAGE', '--limit @failed: no finished run in this folder', {
    hint: 'runs are journaled in .lvsrun/runs of the folder lvsrun runs in',
  });
}
