import { join } from 'node:path';
import { operatorName } from '../../engine/host-lock.js';
import { ConfigError } from '../../errors.js';
import { selectHosts } from '../../inventory/select.js';
import { readJournal } from '../../rollback/journal.js';
import { outstanding } from '../../rollback/outstanding.js';
import { restoreRun, runIds } from '../../rollback/restore.js';
import { TemplateEngine } from '../../template/render.js';
import { sshConnector } from '../connector.js';
import { EXIT } from '../../exit-codes.js';
import { parseExtraVars } from '../extra-vars.js';
import { runsDir, type Io } from '../io.js';
import { parseCommand } from '../spec.js';
import { ROLLBACK_CMD } from '../command-defs.js';
import { vaultKeyring } from '../vault-options.js';
import { loadInventoryArg, outputRedactor } from '../inputs.js';

/**
 * A run id given in full, by a unique prefix, or (none) the newest run with changes still in effect
 * (a newer run that changed nothing, or was rolled back, hides nothing); the newest run if none has.
 */
export function pickRun(io: Io, id: string | undefined): string {
  const journals = runIds(runsDir(io))
    .map((r) => ({ r, recs: readJournal(join(runsDir(io), r, 'journal.jsonl')) }))
    .filter(({ recs }) => recs.some((x) => x.phase === 'run-start'));
  const ids = journals.map(({ r }) => r);
  if (!ids.length)
    throw new ConfigError('E_JOURNAL', `no runs in ${runsDir(io)}`, {
      hint: 'run lvsrun from the folder where the run was started',
    });
  if (!id) return [...journals].reverse().find(({ recs }) => outstanding(recs).size > 0)?.r ?? ids.at(-1)!;
  const hit = ids.filter((r) => r === id || r.startsWith(id));
  if (hit.length !== 1)
    throw new ConfigError(
      'E_JOURNAL',
      hit.length ? `run id '${id}' is ambiguous (${hit.slice(0, 3).join(', ')}...)` : `no run '${id}'`,
      { hint: 'lvsrun runs lists them' },
    );
  return hit[0]!;
}

/** lvsrun rollback [RUN-ID]: revert what a run left in effect (finished, failed, interrupted or crashed). */
export async function rollbackCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(ROLLBACK_CMD, argv);
  const id = pickRun(io, positionals[0]);
  const runDir = join(runsDir(io), id);
  const start = readJournal(join(runDir, 'journal.jsonl')).find((r) => r.phase === 'run-start');
  const invArg = v.inventory ?? start?.meta?.inventory;
  if (!invArg)
    throw new ConfigError('E_USAGE', `run ${id} did not record its inventory`, { hint: 'pass -i INVENTORY' });
  const vault = await vaultKeyring(v, io);
  const inv = loadInventoryArg(invArg, io, vault);
  const hosts = v.limit ? new Set(selectHosts(inv, v.limit)) : undefined;
  const extraVars = parseExtraVars(v['extra-vars'] ?? [], io.cwd, vault);
  // Undo errors quote hosts' output: the inventory's secrets are masked in them like in a run's.
  outputRedactor(inv, undefined, extraVars, vault, io.redactor);
  const newest = runIds(runsDir(io)).at(-1);
  const why = !positionals[0] && newest !== id ? ' (the newest run with changes still in effect)' : '';
  io.out(`rolling back run ${id}${why}\n`);
  const res = await restoreRun({
    runDir,
    inv,
    templates: new TemplateEngine(),
    extraVars,
    ...(hosts ? { hosts } : {}),
    lock: { operator: operatorName(), breakLock: Boolean(v['break-lock']) },
    connect: sshConnector(inv, io.cwd, {
      env: io.env,
      acceptNewHostKeys: Boolean(v['accept-new-host-keys']),
      connectTimeoutMs: Number(v['connect-timeout'] ?? 10) * 1000,
    }),
    onHost: (r) => {
      if (!r.ok) io.out(`${r.pending ? 'pending' : 'FAILED'}: [${r.host}] ${r.error ?? ''}\n`);
      else if (r.changes) io.out(`restored: [${r.host}] ${r.changes} change(s), ${r.steps} undo step(s)\n`);
      if (r.noUndo?.length) {
        io.out(
          `not restored: [${r.host}] ${r.noUndo.length} change(s) made without an undo: ` +
            `${r.noUndo.map((t) => `'${t}'`).join(', ')}\n`,
        );
      }
    },
  });
  // Changes made without an undo are listed above, but they leave nothing a rollback could do.
  if (!res.some((r) => r.changes > 0 || !r.ok)) {
    io.out('nothing to roll back: no change of this run is still in effect\n');
    return EXIT.OK;
  }
  if (res.some((r) => !r.ok && !r.pending)) return EXIT.ROLLBACK_FAILED;
  if (res.some((r) => r.pending)) {
    io.err(`some hosts are still pending: run \`lvsrun rollback ${id}\` again when they are reachable\n`);
    return EXIT.UNREACHABLE;
  }
  return EXIT.OK;
}
