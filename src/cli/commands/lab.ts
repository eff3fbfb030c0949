import { ConfigError } from '../../errors.js';
import { labDown, labStatus, labUp } from '../../lab/lab.js';
import { labSsh } from '../../lab/ssh.js';
import { EXIT } from '../../exit-codes.js';
import type { Io } from '../io.js';
import { helpText, noArgs, parseCommand, type CommandDef } from '../spec.js';

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

export async function labUpCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals, help } = parseCommand(LAB_UP_CMD, argv);
  if (help) {
    io.out(helpText(LAB_UP_CMD));
    return EXIT.OK;
  }
  noArgs(LAB_UP_CMD, positionals);
  const n = (s: string | undefined, d: number, what: string): number => {
    const x = Number(s ?? d);
    if (!Number.isInteger(x) || x < 0 || x > 120) {
      throw new ConfigError('E_USAGE', `--${what} must be a whole number from 0 to 120`);
    }
    return x;
  };
  if (v.init !== undefined && v.init !== 'systemd' && v.init !== 'simple') {
    throw new ConfigError('E_USAGE', `--init must be systemd or simple, not ${JSON.stringify(v.init)}`);
  }
  const t0 = performance.now();
  const st = await labUp(
    {
      directors: n(v.directors, 2, 'directors'),
      realservers: n(v.realservers, 2, 'realservers'),
      clients: n(v.clients, 1, 'clients'),
      ...(v['vm-all'] ? { vm: 'all' as const } : v.vm ? { vm: 'directors' as const } : {}),
      init: v.init === 'simple' ? 'simple' : 'systemd',
    },
    io.env,
  );
  const secs = ((performance.now() - t0) / 1000).toFixed(2);
  io.out(`lab up: ${st.hosts.length} hosts in ${secs}s; inventory ${st.inventory}\n`);
  for (const h of st.hosts) {
    const vm = h.kind === 'vm' ? '  (QEMU guest: real IPVS, ipip)' : '';
    io.out(`  ${h.name.padEnd(10)} ${h.group.padEnd(12)} ${h.addr}${vm}\n`);
  }
  return EXIT.OK;
}

export async function labDownCommand(argv: string[], io: Io): Promise<number> {
  const { positionals, help } = parseCommand(LAB_DOWN_CMD, argv);
  if (help) {
    io.out(helpText(LAB_DOWN_CMD));
    return EXIT.OK;
  }
  noArgs(LAB_DOWN_CMD, positionals);
  const t0 = performance.now();
  const n = await labDown(io.env);
  io.out(`lab down: removed ${n} hosts in ${((performance.now() - t0) / 1000).toFixed(2)}s\n`);
  return EXIT.OK;
}

export async function labStatusCommand(argv: string[], io: Io): Promise<number> {
  const { positionals, help } = parseCommand(LAB_STATUS_CMD, argv);
  if (help) {
    io.out(helpText(LAB_STATUS_CMD));
    return EXIT.OK;
  }
  noArgs(LAB_STATUS_CMD, positionals);
  const st = labStatus(io.env);
  if (!st) {
    io.out('lab: not running\n');
    return EXIT.OK;
  }
  for (const h of st.hosts) {
    io.out(`  ${h.name.padEnd(10)} ${h.group.padEnd(12)} ${h.addr.padEnd(14)} ${h.alive ? 'up' : 'DOWN'}\n`);
  }
  return st.hosts.every((h) => h.alive) ? EXIT.OK : EXIT.UNREACHABLE;
}

export async function labSshCommand(argv: string[], io: Io): Promise<number> {
  const {
    positionals: [host, ...cmd],
    help,
  } = parseCommand(LAB_SSH_CMD, argv);
  if (help) {
    io.out(helpText(LAB_SSH_CMD));
    return EXIT.OK;
  }
  if (!host) throw new ConfigError('E_USAGE', 'lvsrun lab ssh HOST [CMD...]');
  return labSsh(host, cmd, io);
}
