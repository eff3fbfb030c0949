import { ConfigError, LvsrunError } from '../errors.js';
import { EXIT, exitCodeForError } from '../exit-codes.js';
import { RUN_CMD, runCommand } from './commands/run.js';
import { INVENTORY_CMD, inventoryCommand } from './commands/inventory.js';
import {
  LAB_DOWN_CMD,
  LAB_SSH_CMD,
  LAB_STATUS_CMD,
  LAB_UP_CMD,
  labDownCommand,
  labSshCommand,
  labStatusCommand,
  labUpCommand,
} from './commands/lab.js';
import { ROLLBACK_CMD, rollbackCommand } from './commands/rollback.js';
import { RUNS_CMD, runsCommand } from './commands/runs.js';
import { VALIDATE_CMD, validateCommand } from './commands/validate.js';
import { DRILL_CMD, drillCommand } from './commands/drill.js';
import { INIT_CMD, initCommand } from './commands/init.js';
import { COMPLETION_CMD, completionCommand } from './commands/completion.js';
import {
  VAULT_DECRYPT_CMD,
  VAULT_EDIT_CMD,
  VAULT_ENCRYPT_CMD,
  VAULT_ENCRYPT_STRING_CMD,
  VAULT_REKEY_CMD,
  VAULT_VIEW_CMD,
  vaultDecryptCommand,
  vaultEditCommand,
  vaultEncryptCommand,
  vaultEncryptStringCommand,
  vaultRekeyCommand,
  vaultViewCommand,
} from './commands/vault.js';
import { helpText, optionLabel } from './spec.js';
import { packageVersion } from './version.js';
import { Redactor } from '../text/redact.js';
import type { Command, Io } from './io.js';

/**
 * Every subcommand: its definition (parser, --help and completion all read it) and its handler.
 * A new subcommand is one entry here. The first entry, named '', runs a playbook.
 */
export const COMMANDS: readonly Command[] = [
  { def: RUN_CMD, run: runCommand },
  { def: VALIDATE_CMD, run: validateCommand },
  { def: INIT_CMD, run: initCommand },
  { def: INVENTORY_CMD, run: inventoryCommand },
  { def: ROLLBACK_CMD, run: rollbackCommand },
  { def: RUNS_CMD, run: runsCommand },
  { def: DRILL_CMD, run: drillCommand },
  { def: LAB_UP_CMD, run: labUpCommand },
  { def: LAB_DOWN_CMD, run: labDownCommand },
  { def: LAB_STATUS_CMD, run: labStatusCommand },
  { def: LAB_SSH_CMD, run: labSshCommand },
  { def: VAULT_ENCRYPT_CMD, run: vaultEncryptCommand },
  { def: VAULT_DECRYPT_CMD, run: vaultDecryptCommand },
  { def: VAULT_VIEW_CMD, run: vaultViewCommand },
  { def: VAULT_EDIT_CMD, run: vaultEditCommand },
  { def: VAULT_ENCRYPT_STRING_CMD, run: vaultEncryptStringCommand },
  { def: VAULT_REKEY_CMD, run: vaultRekeyCommand },
  { def: COMPLETION_CMD, run: (argv, io) => completionCommand(argv, io, COMMANDS) },
];

/** The command named by the first words of argv (longest name first), and the words after it. */
export function findCommand(argv: readonly string[]): { cmd: Command; rest: string[] } | undefined {
  let best: { cmd: Command; rest: string[] } | undefined;
  for (const cmd of COMMANDS) {
    const words = cmd.def.name ? cmd.def.name.split(' ') : [];
    if (!words.length || !words.every((w, i) => argv[i] === w)) continue;
    if (!best || words.length > best.cmd.def.name.split(' ').length) best = { cmd, rest: argv.slice(words.length) };
  }
  return best;
}

/** `lvsrun lab`: the commands under a group word such as lab. */
function groupOf(word: string | undefined): Command[] {
  return word ? COMMANDS.filter((c) => c.def.name.startsWith(`${word} `)) : [];
}

/** The column the summaries start at: past the longest command name. */
const nameWidth = (cmds: readonly Command[]): number => Math.max(14, ...cmds.map((c) => c.def.name.length));

export function overviewText(): string {
  const named = COMMANDS.filter((c) => c.def.name);
  const lines = ['usage: lvsrun PLAYBOOK -i INVENTORY [options]', '       lvsrun COMMAND [options]', '', 'commands:'];
  const w = nameWidth(named);
  for (const c of named) lines.push(`  ${c.def.name.padEnd(w)} ${c.def.summary}`);
  lines.push('', "options of lvsrun PLAYBOOK (lvsrun COMMAND --help shows each command's own):");
  for (const [k, o] of Object.entries(RUN_CMD.options)) lines.push(`  ${optionLabel(k, o).padEnd(34)} ${o.help}`);
  lines.push(`  ${'    --version'.padEnd(34)} print the version and exit`);
  lines.push(
    '',
    'exit codes: 0 ok, 1 bad input, 2 a task failed, 3 a rollback failed, 4 hosts unreachable, ' +
      '5 lvsrun could not write its journal or start the lab, 70 internal error, 130 interrupted',
  );
  return `${lines.join('\n')}\n`;
}

function groupHelp(word: string, cmds: Command[]): string {
  const lines = cmds.flatMap((c) => c.def.usage.map((u) => `lvsrun ${u}`));
  const list = cmds.map((c) => `  ${c.def.name.padEnd(nameWidth(cmds))} ${c.def.summary}`).join('\n');
  return (
    `usage: ${lines.join('\n       ')}\n\n${list}\n\n` + `lvsrun ${word} COMMAND --help shows each command's options\n`
  );
}

export async function main(argv: string[], rawIo: Io): Promise<number> {
  const red = rawIo.redactor ?? new Redactor();
  // Text for the terminal is redacted last, whatever wrote it; values were redacted before encoding.
  const io: Io = { ...rawIo, redactor: red, out: (s) => rawIo.out(red.text(s)), err: (s) => rawIo.err(red.text(s)) };
  try {
    const [first, second] = argv;
    if (!first || first === '-h' || first === '--help') {
      io.out(overviewText());
      return first ? EXIT.OK : EXIT.BAD_INPUT;
    }
    if (first === '--version' || first === '-V') {
      io.out(`lvsrun ${packageVersion()}\n`);
      return EXIT.OK;
    }
    if (first === 'help') {
      const hit = findCommand(argv.slice(1));
      const group = groupOf(second);
      if (!second) io.out(overviewText());
      else if (hit) io.out(helpText(hit.cmd.def));
      else if (group.length) io.out(groupHelp(second, group));
      else throw new ConfigError('E_USAGE', `no command '${second}'`, { hint: 'lvsrun --help lists the commands' });
      return EXIT.OK;
    }
    const hit = findCommand(argv);
    if (hit) return await hit.cmd.run(hit.rest, io);
    const group = groupOf(first);
    if (group.length) {
      if (!second || second === '-h' || second === '--help') {
        io.out(groupHelp(first, group));
        return second ? EXIT.OK : EXIT.BAD_INPUT;
      }
      throw new ConfigError('E_USAGE', `unknown ${first} command '${second}'`, {
        hint: `lvsrun ${first} --help lists them`,
      });
    }
    return await runCommand(argv, io);
  } catch (e) {
    if (e instanceof LvsrunError) {
      io.err(`${e.format()}\n`);
      return exitCodeForError(e.code);
    }
    const err = e as Error;
    // parseArgs errors and other usage mistakes: one line, no stack.
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      const cmd = findCommand(argv)?.cmd.def.name;
      io.err(`error[E_USAGE]: ${err.message}\n  hint: lvsrun ${cmd ? `${cmd} ` : ''}--help lists the options\n`);
      return EXIT.BAD_INPUT;
    }
    io.err(
      `internal error: ${err.message}\n` +
        `${io.env.LVSRUN_DEBUG ? (err.stack ?? '') : '  (set LVSRUN_DEBUG=1 for a stack trace)'}\n`,
    );
    return EXIT.INTERNAL;
  }
}
