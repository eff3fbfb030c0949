import { ConfigError, LvsrunError } from '../errors.js';
import { EXIT, exitCodeForError } from '../exit-codes.js';
import {
  COMPLETION_CMD,
  DRILL_CMD,
  INIT_CMD,
  INVENTORY_CMD,
  LAB_DOWN_CMD,
  LAB_SSH_CMD,
  LAB_STATUS_CMD,
  LAB_UP_CMD,
  ROLLBACK_CMD,
  RUN_CMD,
  RUNS_CMD,
  VALIDATE_CMD,
  VAULT_DECRYPT_CMD,
  VAULT_EDIT_CMD,
  VAULT_ENCRYPT_CMD,
  VAULT_ENCRYPT_STRING_CMD,
  VAULT_REKEY_CMD,
  VAULT_VIEW_CMD,
} from './command-defs.js';
import { helpText, optionLabel, parseCommand } from './spec.js';
import { packageVersion } from './version.js';
import { Redactor } from '../text/redact.js';
import type { Command, Io } from './io.js';

// Each handler's module is imported when its command runs, not before: Node's ESM loader pays for every
// module it loads, so `lvsrun --version`, any --help and a playbook run load none of the code of the
// commands they do not run (lab, drills, vault, init's schemas, ...).
const vault = () => import('./commands/vault.js');
const lab = () => import('./commands/lab.js');

/** Runs a playbook: the command `lvsrun PLAYBOOK` falls back to when no command is named. */
const RUN: Command = { def: RUN_CMD, run: async (a, io) => (await import('./commands/run.js')).runCommand(a, io) };

/**
 * Every subcommand: its definition (parser, --help and completion all read it) and its handler.
 * A new subcommand is one entry here. The first entry, named '', runs a playbook.
 */
export const COMMANDS: readonly Command[] = [
  RUN,
  { def: VALIDATE_CMD, run: async (a, io) => (await import('./commands/validate.js')).validateCommand(a, io) },
  { def: INIT_CMD, run: async (a, io) => (await import('./commands/init.js')).initCommand(a, io) },
  { def: INVENTORY_CMD, run: async (a, io) => (await import('./commands/inventory.js')).inventoryCommand(a, io) },
  { def: ROLLBACK_CMD, run: async (a, io) => (await import('./commands/rollback.js')).rollbackCommand(a, io) },
  { def: RUNS_CMD, run: async (a, io) => (await import('./commands/runs.js')).runsCommand(a, io) },
  { def: DRILL_CMD, run: async (a, io) => (await import('./commands/drill.js')).drillCommand(a, io) },
  { def: LAB_UP_CMD, run: async (a, io) => (await lab()).labUpCommand(a, io) },
  { def: LAB_DOWN_CMD, run: async (a, io) => (await lab()).labDownCommand(a, io) },
  { def: LAB_STATUS_CMD, run: async (a, io) => (await lab()).labStatusCommand(a, io) },
  { def: LAB_SSH_CMD, run: async (a, io) => (await lab()).labSshCommand(a, io) },
  { def: VAULT_ENCRYPT_CMD, run: async (a, io) => (await vault()).vaultEncryptCommand(a, io) },
  { def: VAULT_DECRYPT_CMD, run: async (a, io) => (await vault()).vaultDecryptCommand(a, io) },
  { def: VAULT_VIEW_CMD, run: async (a, io) => (await vault()).vaultViewCommand(a, io) },
  { def: VAULT_EDIT_CMD, run: async (a, io) => (await vault()).vaultEditCommand(a, io) },
  { def: VAULT_ENCRYPT_STRING_CMD, run: async (a, io) => (await vault()).vaultEncryptStringCommand(a, io) },
  { def: VAULT_REKEY_CMD, run: async (a, io) => (await vault()).vaultRekeyCommand(a, io) },
  {
    def: COMPLETION_CMD,
    run: async (a, io) => (await import('./commands/completion.js')).completionCommand(a, io, COMMANDS),
  },
];

/**
 * Runs a command. Its --help is answered from its definition, so help loads no handler; argv is parsed here
 * with the definition the handler parses it with, so a bad option fails with the same error as before.
 */
async function dispatch(cmd: Command, argv: string[], io: Io): Promise<number> {
  if (parseCommand(cmd.def, argv).help) {
    io.out(helpText(cmd.def));
    return EXIT.OK;
  }
  return cmd.run(argv, io);
}

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
    if (hit) return await dispatch(hit.cmd, hit.rest, io);
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
    return await dispatch(RUN, argv, io);
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
