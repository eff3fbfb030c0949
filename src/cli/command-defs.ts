import {
  EXITS_BASIC,
  EXTRA_VARS_OPTION,
  HOST_ACCESS_OPTIONS,
  VAULT_OPTIONS,
  type CommandDef,
  type OptionDefs,
} from './spec.js';

// Every command's definition, as data: the parser, --help, completion and `lvsrun --help` read these
// without loading any command's implementation (cli/main.ts loads a handler only when its command runs).
// This file imports nothing but spec.ts.

export const RUN_CMD = {
  name: '',
  summary: 'Run a playbook over an inventory: check each host, change only what differs, roll a failed host back.',
  usage: ['PLAYBOOK -i INVENTORY [options]'],
  args: [['PLAYBOOK', 'the playbook file (YAML list of plays)']],
  options: {
    inventory: {
      type: 'string',
      short: 'i',
      multiple: true,
      arg: 'INVENTORY',
      help: 'inventory path, or NAME for inventories/NAME.{yaml,yml,ini} or inventories/NAME/',
    },
    limit: {
      type: 'string',
      short: 'l',
      arg: 'PATTERN',
      help:
        'only hosts matching the pattern (all, group, host, web*, a:&b, a:!b); @failed: the hosts that ' +
        'failed or were unreachable in the newest run; @FILE: host names from FILE',
    },
    ...EXTRA_VARS_OPTION,
    check: { type: 'boolean', short: 'C', help: 'plan only: read every host, change nothing' },
    diff: { type: 'boolean', short: 'D', help: 'show before/after of every change' },
    tags: {
      type: 'string',
      short: 't',
      multiple: true,
      arg: 'TAGS',
      help: 'only tasks with one of these tags (comma-separated)',
    },
    'skip-tags': { type: 'string', multiple: true, arg: 'TAGS', help: 'skip tasks with one of these tags' },
    forks: { type: 'string', short: 'f', arg: 'N', help: 'hosts in parallel (default 50, or forks in lvsrun.cfg)' },
    strategy: {
      type: 'string',
      arg: 'linear|free',
      help: 'linear: each task on every host before the next; free: hosts run ahead',
    },
    json: { type: 'boolean', help: 'machine-readable result on stdout' },
    report: { type: 'string', arg: 'FILE', help: 'write the JSON result to FILE (mode 0600)' },
    'detailed-exitcode': { type: 'boolean', help: 'with --check: exit 2 when changes are pending' },
    ...HOST_ACCESS_OPTIONS,
    'connect-timeout': { type: 'string', arg: 'S', help: 'SSH connect timeout in seconds (default 10)' },
    'no-lock': { type: 'boolean', help: 'do not take the per-host lock' },
    'skip-validate': { type: 'boolean', help: 'run even when lvsrun validate finds errors' },
    verbose: { type: 'boolean', short: 'v', multiple: true, help: 'more detail per task' },
    ...VAULT_OPTIONS,
  },
  examples: [
    'lvsrun site.yaml -i inventories/prod                 converge',
    'lvsrun site.yaml -i inventories/prod -C -D           what would change, as diffs',
    'lvsrun site.yaml -i prod -l lb1 -t keepalived        one host, tagged tasks only',
  ],
  exits: {
    0: 'success',
    1: 'bad input (YAML, template, arguments, inventory, usage): nothing was touched',
    2: 'a task failed (its host was rolled back); with --check --detailed-exitcode: changes pending',
    3: 'a rollback failed: the journal says what is left',
    4: 'hosts were unreachable',
    130: 'interrupted',
  },
} as const satisfies CommandDef;

export const VALIDATE_CMD = {
  name: 'validate',
  summary: 'Check the whole inventory (and a playbook) against the LVS rules of docs/lvs.md; touches no host.',
  usage: ['validate [PLAYBOOK] -i INVENTORY [--json] [-v]'],
  args: [['PLAYBOOK', 'also load this playbook and check every task for every host']],
  options: {
    inventory: { type: 'string', short: 'i', arg: 'INVENTORY', help: 'inventory path, or NAME for inventories/NAME' },
    ...EXTRA_VARS_OPTION,
    json: { type: 'boolean', help: 'the findings as JSON on stdout' },
    verbose: { type: 'boolean', short: 'v', help: 'also print notes (info findings)' },
    ...VAULT_OPTIONS,
  },
  examples: ['lvsrun validate site.yaml -i inventories/prod', 'lvsrun validate -i prod --json'],
  exits: { 0: 'no errors (warnings allowed)', 1: 'validation errors, bad input or usage' },
} as const satisfies CommandDef;

export const INIT_CMD = {
  name: 'init',
  summary:
    'Start an operations folder: site.yaml on the shipped roles, an example inventory, ' +
    'lvsrun.cfg, .gitignore, README.',
  usage: ['init [DIR] [--force]'],
  args: [['DIR', 'the folder to fill (created if missing); default: the current folder']],
  options: { force: { type: 'boolean', help: 'replace files that already exist' } },
  examples: ['lvsrun init lvs-ops && cd lvs-ops && lvsrun validate site.yaml -i inventories/example'],
  exits: { 0: 'the folder was written', 1: 'a file exists (nothing was written), or bad usage' },
} as const satisfies CommandDef;

export const INVENTORY_CMD = {
  name: 'inventory',
  summary: 'Show an inventory as lvsrun resolves it (secrets redacted).',
  usage: ['inventory -i INVENTORY (--list | --graph | --host HOST)'],
  options: {
    inventory: { type: 'string', short: 'i', arg: 'INVENTORY', help: 'inventory path, or NAME for inventories/NAME' },
    list: { type: 'boolean', help: 'every group and host with its variables, as ansible-inventory --list (default)' },
    graph: { type: 'boolean', help: 'the group tree' },
    host: { type: 'string', arg: 'HOST', help: "one host's variables" },
    ...VAULT_OPTIONS,
  },
  examples: ['lvsrun inventory -i inventories/prod --graph', 'lvsrun inventory -i prod --host lb1'],
  exits: EXITS_BASIC,
} as const satisfies CommandDef;

export const ROLLBACK_CMD = {
  name: 'rollback',
  summary: "Revert every change of a run that is still in effect, per host, newest first, from the run's journal.",
  usage: ['rollback [RUN-ID] [-i INVENTORY] [--limit PATTERN] [--break-lock]'],
  args: [
    [
      'RUN-ID',
      'the run (a unique prefix is enough); default: the newest run in .lvsrun/runs whose changes ' +
        'are still in effect',
    ],
  ],
  options: {
    inventory: {
      type: 'string',
      short: 'i',
      arg: 'INVENTORY',
      help: 'inventory to connect with (default: the one the run recorded)',
    },
    limit: { type: 'string', short: 'l', arg: 'PATTERN', help: 'only hosts matching the pattern' },
    ...EXTRA_VARS_OPTION,
    ...HOST_ACCESS_OPTIONS,
    'connect-timeout': { type: 'string', arg: 'S', help: 'SSH connect timeout in seconds (default 10)' },
    ...VAULT_OPTIONS,
  },
  examples: ['lvsrun rollback', 'lvsrun rollback 20250101T1200 -l lb1'],
  exits: {
    0: 'everything restored (or nothing to do)',
    1: 'bad input or usage',
    3: 'an undo step failed',
    4: 'hosts still unreachable: run it again when they are back',
  },
} as const satisfies CommandDef;

export const RUNS_CMD = {
  name: 'runs',
  summary:
    'List the runs journaled in this folder (.lvsrun/runs), newest first, ' +
    'with what a rollback would still revert; --prune removes old ones.',
  usage: ['runs [--json]', 'runs --prune (--keep N | --older-than DAYS) [--force] [--json]'],
  options: {
    json: { type: 'boolean', help: 'the list as JSON on stdout' },
    prune: { type: 'boolean', help: 'remove old journals (they hold earlier file contents); lists what it removed' },
    keep: { type: 'string', arg: 'N', help: 'with --prune: keep the newest N runs' },
    'older-than': { type: 'string', arg: 'DAYS', help: 'with --prune: only runs started more than DAYS days ago' },
    force: { type: 'boolean', help: 'with --prune: also remove runs whose changes are still in effect' },
  },
  examples: [
    'lvsrun runs',
    'lvsrun runs --json',
    'lvsrun runs --prune --keep 20',
    'lvsrun runs --prune --older-than 30',
  ],
  exits: EXITS_BASIC,
} as const satisfies CommandDef;

export const DRILL_CMD = {
  name: 'drill',
  summary:
    'A measured, journaled, self-restoring drill: VIP failover between directors, ' +
    'a real server drained or down, or a rolling maintenance of every real server.',
  usage: [
    'drill failover -i INVENTORY [--probe icmp|tcp:PORT|http[:PORT]] [--max-wait S] [--mode stop|service|link]',
    'drill drain HOST -i INVENTORY [--timeout S] [--run CMD]',
    'drill rs-down HOST -i INVENTORY [--service NAME] [--timeout S]',
    'drill rolling -i INVENTORY [--playbook FILE] [-e VARS] [--rate N] [--reals PATTERN]',
  ],
  args: [
    ['failover|drain|rs-down|rolling', 'which drill (see docs/drills.md)'],
    ['HOST', 'the real server (drain, rs-down)'],
  ],
  words: ['failover', 'drain', 'rs-down', 'rolling'],
  options: {
    inventory: { type: 'string', short: 'i', arg: 'INVENTORY', help: 'inventory path, or NAME for inventories/NAME' },
    directors: { type: 'string', default: 'directors', arg: 'PATTERN', help: 'the directors sharing the VIP' },
    probe: {
      type: 'string',
      default: 'icmp',
      arg: 'PROBE',
      help: 'how the VIP is probed: icmp, tcp:PORT or http[:PORT]',
    },
    'max-wait': { type: 'string', default: '10', arg: 'S', help: 'failover: seconds the VIP may take to move' },
    mode: { type: 'string', default: 'stop', arg: 'stop|service|link', help: 'failover: how the master is failed' },
    service: {
      type: 'string',
      arg: 'NAME',
      help: 'failover --mode service: the tracked service; rs-down: the service to stop',
    },
    json: { type: 'boolean', help: 'the drill result as JSON on stdout' },
    ...HOST_ACCESS_OPTIONS,
    timeout: {
      type: 'string',
      default: '60',
      arg: 'S',
      help: 'drain, rs-down: seconds to wait for the health checker',
    },
    run: { type: 'string', arg: 'CMD', help: 'drain: a command to run on the drained real server' },
    playbook: {
      type: 'string',
      arg: 'FILE',
      help: 'rolling: the rollout playbook (default: the shipped rolling.yaml)',
    },
    rate: { type: 'string', default: '20', arg: 'N', help: 'rolling: probe requests a second through the VIP' },
    reals: { type: 'string', default: 'realservers', arg: 'PATTERN', help: 'rolling: the real servers it rolls' },
    ...EXTRA_VARS_OPTION,
    ...VAULT_OPTIONS,
  },
  examples: [
    'lvsrun drill failover -i lab --probe http',
    'lvsrun drill drain rs1 -i lab --run "apt-get -y upgrade"',
    'lvsrun drill rolling -i lab -e rolling_tasks=$PWD/upgrade.yaml',
  ],
  exits: {
    0: 'the drill passed and the cluster is restored',
    1: 'bad input or usage',
    2: 'the drill failed its verdict',
    130: 'interrupted (the cluster was restored)',
  },
} as const satisfies CommandDef;

const LAB_EXITS = { 0: 'success', 1: 'bad input or usage', 2: 'the lab could not be built or removed' } as const;

export const LAB_UP_CMD = {
  name: 'lab up',
  summary: 'Start the built-in lab: directors, real servers and clients on this machine, each with its own sshd.',
  usage: ['lab up [--directors N] [--realservers N] [--clients N] [--vm | --vm-all] [--init systemd|simple]'],
  options: {
    directors: { type: 'string', arg: 'N', help: 'directors (default 2)' },
    realservers: { type: 'string', arg: 'N', help: 'real servers (default 2)' },
    clients: { type: 'string', arg: 'N', help: 'clients (default 1)' },
    vm: { type: 'boolean', help: 'directors as QEMU guests (real IPVS)' },
    'vm-all': { type: 'boolean', help: 'real servers as QEMU guests too (ipip, for LVS-TUN)' },
    init: {
      type: 'string',
      arg: 'INIT',
      help: 'PID 1 of the namespace hosts: systemd (default) or simple (a small init: init scripts)',
    },
  },
  examples: ['lvsrun lab up', 'lvsrun lab up --vm --realservers 3', 'lvsrun lab up --init simple'],
  exits: LAB_EXITS,
} as const satisfies CommandDef;

export const LAB_DOWN_CMD = {
  name: 'lab down',
  summary: 'Stop the lab and remove its hosts.',
  usage: ['lab down'],
  options: {},
  examples: ['lvsrun lab down'],
  exits: LAB_EXITS,
} as const satisfies CommandDef;

export const LAB_STATUS_CMD = {
  name: 'lab status',
  summary: "List the lab's hosts and whether each is up.",
  usage: ['lab status'],
  options: {},
  examples: ['lvsrun lab status'],
  exits: { 0: 'every host is up (or the lab is not running)', 1: 'bad input or usage', 4: 'a host is down' },
} as const satisfies CommandDef;

export const LAB_SSH_CMD = {
  name: 'lab ssh',
  summary: 'A shell, or one command, on a lab host.',
  usage: ['lab ssh HOST [CMD...]'],
  args: [
    ['HOST', 'a lab host (lvsrun lab status lists them)'],
    ['CMD...', 'the command to run; everything after HOST is passed on'],
  ],
  options: {},
  passThrough: true,
  examples: ['lvsrun lab ssh lb1', 'lvsrun lab ssh rs1 ip addr show lo'],
  exits: { 0: 'success', 1: 'bad input or usage', 2: 'the lab is not running' },
} as const satisfies CommandDef;

// lvsrun vault ACTION: one definition per action, so each action's --help and completion list exactly the
// options it uses.

/** The actions that create vault data: with several passwords, which one encrypts. */
const ENCRYPT_ID_OPTION = {
  'encrypt-vault-id': {
    type: 'string',
    arg: 'LABEL',
    help: 'with several vault passwords, the vault id that encrypts',
  },
} as const satisfies OptionDefs;

const OUTPUT_OPTION = {
  output: { type: 'string', arg: 'FILE', help: 'write to FILE (- for stdout) instead of in place; one input FILE' },
} as const satisfies OptionDefs;

const VAULT_EXITS = { 0: 'success', 1: 'bad input or usage, no vault password, or a wrong one' } as const;

export const VAULT_ENCRYPT_CMD = {
  name: 'vault encrypt',
  summary: 'Encrypt files with Ansible Vault, in place or to --output.',
  usage: ['vault encrypt FILE... [--output FILE] [--encrypt-vault-id LABEL] [vault options]'],
  args: [['FILE...', 'the files to encrypt; one already encrypted is refused']],
  options: { ...VAULT_OPTIONS, ...ENCRYPT_ID_OPTION, ...OUTPUT_OPTION },
  examples: [
    'lvsrun vault encrypt group_vars/directors/vault.yml --vault-password-file .vault-pass',
    'lvsrun vault encrypt secrets.yml      no vault option: asks for the new password twice',
  ],
  exits: VAULT_EXITS,
} as const satisfies CommandDef;

export const VAULT_DECRYPT_CMD = {
  name: 'vault decrypt',
  summary: 'Decrypt Ansible Vault files, in place or to --output.',
  usage: ['vault decrypt FILE... [--output FILE] [vault options]'],
  args: [['FILE...', 'the vault files to decrypt']],
  options: { ...VAULT_OPTIONS, ...OUTPUT_OPTION },
  examples: [
    'lvsrun vault decrypt secrets.yml --output - --vault-id prod@prompt',
    'lvsrun vault decrypt secrets.yml      no vault option: asks for the password',
  ],
  exits: VAULT_EXITS,
} as const satisfies CommandDef;

export const VAULT_VIEW_CMD = {
  name: 'vault view',
  summary: 'Print the plaintext of Ansible Vault files.',
  usage: ['vault view FILE... [vault options]'],
  args: [['FILE...', 'the vault files to show']],
  options: { ...VAULT_OPTIONS },
  examples: ['lvsrun vault view group_vars/directors/vault.yml --vault-password-file .vault-pass'],
  exits: VAULT_EXITS,
} as const satisfies CommandDef;

export const VAULT_EDIT_CMD = {
  name: 'vault edit',
  summary: 'Edit Ansible Vault files with $EDITOR (default vi); encrypted again with the same vault id if changed.',
  usage: ['vault edit FILE... [vault options]'],
  args: [['FILE...', 'the vault files to edit']],
  options: { ...VAULT_OPTIONS },
  examples: ['EDITOR=nano lvsrun vault edit group_vars/directors/vault.yml --vault-password-file .vault-pass'],
  exits: VAULT_EXITS,
} as const satisfies CommandDef;

export const VAULT_ENCRYPT_STRING_CMD = {
  name: 'vault encrypt_string',
  summary: 'Print `NAME: !vault |` blocks to paste into YAML.',
  usage: [
    'vault encrypt_string [STRING...] [-n NAME]... [--stdin-name NAME] [--encrypt-vault-id LABEL] ' + '[vault options]',
  ],
  args: [['STRING...', 'the values to encrypt; none: the value is read from standard input']],
  options: {
    ...VAULT_OPTIONS,
    ...ENCRYPT_ID_OPTION,
    name: {
      type: 'string',
      short: 'n',
      multiple: true,
      arg: 'NAME',
      help: 'the variable name of each STRING, in order',
    },
    'stdin-name': { type: 'string', arg: 'NAME', help: 'the variable name of the value read from standard input' },
  },
  examples: ["lvsrun vault encrypt_string --vault-id prod@$HOME/.lvs-vault-pw -n lvs_auth_pass 'Kp7xQ2rw'"],
  exits: VAULT_EXITS,
} as const satisfies CommandDef;

export const VAULT_REKEY_CMD = {
  name: 'vault rekey',
  summary: 'Encrypt Ansible Vault files again with a new password.',
  usage: ['vault rekey FILE... [--new-vault-password-file FILE | --new-vault-id LABEL@SOURCE] [vault options]'],
  args: [['FILE...', 'the vault files to rekey (opened with the vault options)']],
  options: {
    ...VAULT_OPTIONS,
    'new-vault-password-file': {
      type: 'string',
      arg: 'FILE',
      help: 'the new password, as --vault-password-file (neither new option: asked twice)',
    },
    'new-vault-id': { type: 'string', arg: 'LABEL@SOURCE', help: 'the new password and its label, as --vault-id' },
  },
  examples: ['lvsrun vault rekey vault.yml --vault-password-file old-pw --new-vault-password-file new-pw'],
  exits: VAULT_EXITS,
} as const satisfies CommandDef;

export const COMPLETION_CMD = {
  name: 'completion',
  summary: 'Print a shell completion script for lvsrun (subcommands and their options).',
  usage: ['completion bash|zsh'],
  args: [['bash|zsh', 'the shell']],
  words: ['bash', 'zsh'],
  options: {},
  examples: [
    'source <(lvsrun completion bash)                         this shell only',
    'lvsrun completion bash > /etc/bash_completion.d/lvsrun  every bash',
    'lvsrun completion zsh > "${fpath[1]}/_lvsrun"            zsh (with compinit)',
  ],
  exits: EXITS_BASIC,
} as const satisfies CommandDef;
