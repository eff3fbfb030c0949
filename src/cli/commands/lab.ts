import { ConfigError } from '../../errors.js';
import { labDown, labStatus, labUp } from '../../lab/lab.js';
import { labSsh } from '../../lab/ssh.js';
import { EXIT } from '../../exit-codes.js';
import type { Io } from '../io.js';
import { noArgs, parseCommand } from '../spec.js';
import { LAB_DOWN_CMD, LAB_SSH_CMD, LAB_STATUS_CMD, LAB_UP_CMD } from '../command-defs.js';

export async function labUpCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(LAB_UP_CMD, argv);
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
  const { positionals } = parseCommand(LAB_DOWN_CMD, argv);
  noArgs(LAB_DOWN_CMD, positionals);
  const t0 = performance.now();
  const n = await labDown(io.env);
  io.out(`lab down: removed ${n} hosts in ${((performance.now() - t0) / 1000).toFixed(2)}s\n`);
  return EXIT.OK;
}

export async function labStatusCommand(argv: string[], io: Io): Promise<number> {
  const { positionals } = parseCommand(LAB_STATUS_CMD, argv);
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
  } = parseCommand(LAB_SSH_CMD, argv);
  if (!host) throw new ConfigError('E_USAGE', 'lvsrun lab ssh HOST [CMD...]');
  return labSsh(host, cmd, io);
}
