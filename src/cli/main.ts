import { LvsrunError } from '../errors.js';
import { EXIT } from './exit-codes.js';
import { runCommand } from './commands/run.js';
import { inventoryCommand } from './commands/inventory.js';
import { labCommand } from './commands/lab.js';
import { rollbackCommand } from './commands/rollback.js';
import { runsCommand } from './commands/runs.js';
import { validateCommand } from './commands/validate.js';
import { drillCommand } from './commands/drill.js';

export const USAGE = `usage: lvsrun PLAYBOOK -i INVENTORY [options]
       lvsrun inventory -i INVENTORY (--list | --graph | --host HOST)
       lvsrun lab up [--directors N] [--realservers N] [--clients N] [--vm | --vm-all]
       lvsrun lab (down | status | ssh HOST [CMD...])
       lvsrun rollback [RUN-ID] [-i INVENTORY] [--limit PATTERN] [--break-lock]
       lvsrun runs [--json]
       lvsrun validate [PLAYBOOK] -i INVENTORY [--json] [-v]
       lvsrun drill failover -i INVENTORY [--probe icmp|tcp:PORT|http[:PORT]] [--max-wait S] [--mode stop|service --service NAME]
       lvsrun drill drain HOST -i INVENTORY [--timeout S] [--run CMD]
       lvsrun drill rs-down HOST -i INVENTORY [--service nginx] [--timeout S]

run options:
  -i, --inventory INV      inventory path, or NAME for inventories/NAME.{yaml,yml,ini} or inventories/NAME/
  -l, --limit PATTERN      only hosts matching the pattern (all, group, host, web*, a:&b, a:!b)
  -e, --extra-vars VARS    k=v, @file.yaml or a JSON mapping (repeatable, highest precedence)
  -C, --check              plan only: read every host, change nothing
  -D, --diff               show before/after of every change
  -t, --tags T / --skip-tags T
  -f, --forks N            hosts in parallel (default 50)
      --strategy linear|free
      --json               machine-readable result on stdout
      --report FILE        write the JSON result to FILE
      --detailed-exitcode  with --check: exit 2 when changes are pending
      --accept-new-host-keys  trust unknown host keys on first use and record them
      --break-lock         take the per-host lock even if another run holds it (ends that hold)
      --no-lock            do not take the per-host lock
  -v, --verbose            more detail per task
exit codes: 0 ok, 1 bad input, 2 a task failed, 3 a rollback failed, 4 hosts unreachable, 130 interrupted`;

export interface Io { out: (s: string) => void; err: (s: string) => void; isTTY: boolean; cwd: string; env: NodeJS.ProcessEnv }

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (!first || first === '-h' || first === '--help' || first === 'help') {
      io.out(`${USAGE}\n`);
      return first ? EXIT.OK : EXIT.BAD_INPUT;
    }
    if (first === '--version') { io.out('lvsrun 0.1.0\n'); return EXIT.OK; }
    if (first === 'inventory') return await inventoryCommand(rest, io);
    if (first === 'lab') return await labCommand(rest, io);
    if (first === 'rollback') return await rollbackCommand(rest, io);
    if (first === 'runs') return await runsCommand(rest, io);
    if (first === 'validate') return await validateCommand(rest, io);
    if (first === 'drill') return await drillCommand(rest, io);
    return await runCommand(argv, io);
  } catch (e) {
    if (e instanceof LvsrunError) {
      io.err(`${e.format()}\n`);
      return e.code === 'E_LAB' ? EXIT.TASK_FAILED : EXIT.BAD_INPUT;
    }
    const err = e as Error;
    // parseArgs errors and other usage mistakes: one line, no stack.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error[E_USAGE]: ${err.message}\n  hint: lvsrun --help lists the options\n`);
      return EXIT.BAD_INPUT;
    }
    io.err(`internal error: ${err.message}\n${io.env.LVSRUN_DEBUG ? err.stack ?? '' : '  (set LVSRUN_DEBUG=1 for a stack trace)'}\n`);
    return EXIT.TASK_FAILED;
  }
}
