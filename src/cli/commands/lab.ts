import { parseArgs } from 'node:util';
import { ConfigError } from '../../errors.js';
import { labDown, labStatus, labUp } from '../../lab/lab.js';
import { labSsh } from '../../lab/ssh.js';
import { EXIT } from '../exit-codes.js';
import type { Io } from '../main.js';

export async function labCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'up': {
      const { values: v } = parseArgs({ args: rest, options: { directors: { type: 'string' }, realservers: { type: 'string' }, clients: { type: 'string' }, vm: { type: 'boolean' }, 'vm-all': { type: 'boolean' } }, strict: true });
      const n = (s: string | undefined, d: number, what: string): number => {
        const x = Number(s ?? d);
        if (!Number.isInteger(x) || x < 0 || x > 120) throw new ConfigError('E_USAGE', `--${what} must be a whole number from 0 to 120`);
        return x;
      };
      const t0 = performance.now();
      const st = await labUp({ directors: n(v.directors, 2, 'directors'), realservers: n(v.realservers, 2, 'realservers'), clients: n(v.clients, 1, 'clients'), ...(v['vm-all'] ? { vm: 'all' as const } : v.vm ? { vm: 'directors' as const } : {}) }, io.env);
      io.out(`lab up: ${st.hosts.length} hosts in ${((performance.now() - t0) / 1000).toFixed(2)}s; inventory ${st.inventory}\n`);
      for (const h of st.hosts) io.out(`  ${h.name.padEnd(10)} ${h.group.padEnd(12)} ${h.addr}${h.kind === 'vm' ? '  (QEMU guest: real IPVS, ipip)' : ''}\n`);
      return EXIT.OK;
    }
    case 'down': {
      const t0 = performance.now();
      const n = await labDown(io.env);
      io.out(`lab down: removed ${n} hosts in ${((performance.now() - t0) / 1000).toFixed(2)}s\n`);
      return EXIT.OK;
    }
    case 'status': {
      const st = labStatus(io.env);
      if (!st) { io.out('lab: not running\n'); return EXIT.OK; }
      for (const h of st.hosts) io.out(`  ${h.name.padEnd(10)} ${h.group.padEnd(12)} ${h.addr.padEnd(14)} ${h.alive ? 'up' : 'DOWN'}\n`);
      return st.hosts.every((h) => h.alive) ? EXIT.OK : EXIT.UNREACHABLE;
    }
    case 'ssh': {
      const [host, ...cmd] = rest;
      if (!host) throw new ConfigError('E_USAGE', 'lvsrun lab ssh HOST [CMD...]');
      return labSsh(host, cmd, io);
    }
    default:
      throw new ConfigError('E_USAGE', `unknown lab command '${sub ?? ''}'`, { hint: 'lvsrun lab up | down | status | ssh HOST [CMD]' });
  }
}
