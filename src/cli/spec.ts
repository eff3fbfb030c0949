import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';

/**
 * One definition per subcommand feeds both the parser and `--help` (and shell completion), so the
 * options a command accepts and the options its help lists cannot drift apart.
 */
export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  default?: string;
  /** The value's name in help, e.g. INVENTORY. */
  arg?: string;
  help: string;
}

export type OptionDefs = Readonly<Record<string, OptionDef>>;

export interface CommandDef<O extends OptionDefs = OptionDefs> {
  /** Words after `lvsrun`, e.g. 'validate' or 'lab up'; '' for the default (run a playbook). */
  name: string;
  summary: string;
  /** Synopsis lines, each without the leading `lvsrun `. */
  usage: readonly string[];
  /** Positional words, for help: [name, meaning]. */
  args?: ReadonlyArray<readonly [string, string]>;
  /** The words the first positional can be, for shell completion (drill failover|drain|rs-down). */
  words?: readonly string[];
  options: O;
  examples: readonly string[];
  exits: Readonly<Record<number, string>>;
  /** Leave everything after the positionals unparsed (lab ssh HOST CMD...). */
  passThrough?: boolean;
}

/** Every command answers -h/--help; it is added here so no definition can forget it. */
export const HELP_OPTION = {
  type: 'boolean',
  short: 'h',
  help: 'show this help and exit',
} as const satisfies OptionDef;

interface ParseConfig<O extends OptionDefs> {
  options: O & { help: typeof HELP_OPTION };
  allowPositionals: true;
  strict: true;
}
export type Parsed<O extends OptionDefs> = ReturnType<typeof parseArgs<ParseConfig<O>>>;

/** Parse argv with the command's own definition. `help` is true when -h/--help was given. */
export function parseCommand<O extends OptionDefs>(def: CommandDef<O>, argv: string[]): Parsed<O> & { help: boolean } {
  if (def.passThrough) {
    const help = argv[0] === '-h' || argv[0] === '--help';
    return { values: {}, positionals: argv, help } as unknown as Parsed<O> & { help: boolean };
  }
  const options: Record<string, Omit<OptionDef, 'arg' | 'help'>> = {};
  for (const [k, o] of Object.entries<OptionDef>({ ...def.options, help: HELP_OPTION })) {
    options[k] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
    };
  }
  const r = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as unknown as Parsed<O>;
  return Object.assign(r, { help: Boolean((r.values as Record<string, unknown>).help) });
}

/** `-i, --inventory INVENTORY` */
export function optionLabel(name: string, o: OptionDef): string {
  return `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
}

export function helpText(def: CommandDef): string {
  const lines = def.usage.map((u, i) => `${i ? '       ' : 'usage: '}lvsrun ${u}`);
  lines.push('', def.summary);
  if (def.args?.length) {
    lines.push('', 'arguments:');
    for (const [a, h] of def.args) lines.push(`  ${a.padEnd(28)} ${h}`);
  }
  lines.push('', 'options:');
  for (const [k, o] of Object.entries<OptionDef>({ ...def.options, help: HELP_OPTION })) {
    const label = optionLabel(k, o);
    const more = [o.multiple ? 'repeatable' : '', o.default !== undefined ? `default ${o.default}` : ''].filter(
      Boolean,
    );
    const text = `${o.help}${more.length ? ` (${more.join('; ')})` : ''}`;
    lines.push(label.length > 28 ? `  ${label}\n  ${''.padEnd(28)} ${text}` : `  ${label.padEnd(28)} ${text}`);
  }
  if (def.examples.length) lines.push('', 'examples:', ...def.examples.map((e) => `  ${e}`));
  lines.push('', 'exit codes:', ...Object.entries(def.exits).map(([c, t]) => `  ${c.padStart(3)}  ${t}`));
  return `${lines.join('\n')}\n`;
}

/** Commands that take no positional words say so instead of ignoring them. */
export function noArgs(def: CommandDef, positionals: readonly string[]): void {
  if (positionals.length) {
    throw new ConfigError('E_USAGE', `unexpected argument '${positionals[0]}'`, { hint: `lvsrun ${def.name} --help` });
  }
}

/** The exit codes most commands share (see docs/cli.md). */
export const EXITS_BASIC = { 0: 'success', 1: 'bad input or usage: nothing was touched' } as const;

/** `-e` as every command that renders the playbook or the inventory takes it. */
export const EXTRA_VARS_OPTION = {
  'extra-vars': {
    type: 'string',
    short: 'e',
    multiple: true,
    arg: 'VARS',
    help: 'k=v, @file.yaml or a JSON/YAML mapping (highest precedence)',
  },
} as const satisfies OptionDefs;

/** How the commands that connect to hosts treat unknown host keys and another run's lock. */
export const HOST_ACCESS_OPTIONS = {
  'accept-new-host-keys': { type: 'boolean', help: 'trust unknown host keys on first use and record them' },
  'break-lock': { type: 'boolean', help: 'take the per-host lock even if another run holds it (ends that hold)' },
} as const satisfies OptionDefs;

/**
 * The vault options (Ansible's names) of every command that reads inventories or playbooks, and of
 * `lvsrun vault`: defined once here, spread into each command's definition; vault-options.ts opens
 * the keyring they name.
 */
export const VAULT_OPTIONS = {
  'vault-password-file': {
    type: 'string',
    multiple: true,
    arg: 'FILE',
    help: "the vault password: FILE's content, or its output if executable; also $ANSIBLE_VAULT_PASSWORD_FILE",
  },
  'vault-id': {
    type: 'string',
    multiple: true,
    arg: 'LABEL@SOURCE',
    help: 'a labelled vault password; SOURCE is a file, an executable or prompt',
  },
  'ask-vault-pass': { type: 'boolean', short: 'J', help: 'ask for the vault password on the terminal (no echo)' },
} as const satisfies OptionDefs;
