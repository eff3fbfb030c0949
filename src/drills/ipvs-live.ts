import { raw } from '../transport/shell.js';
import type { Transport } from '../transport/types.js';

/** Per real server "addr:port": ActiveConn, InActConn (ipvsadm -L -n) and Conns (--stats), summed over services. */
export async function realServerCounters(
  t: Transport,
  addr: string,
): Promise<{ active: number; inactive: number; conns: number; present: boolean }> {
  const r = await t.exec(raw('ipvsadm -L -n; echo ---; ipvsadm -L -n --stats'));
  const [list, stats] = r.stdout.split('---\n');
  const rows = (text: string | undefined): string[][] =>
    (text ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((w) => w[0] === '->' && w[1]?.startsWith(`${addr}:`));
  const l = rows(list);
  return {
    present: l.length > 0,
    active: l.reduce((n, w) => n + Number(w[4] ?? 0), 0),
    inactive: l.reduce((n, w) => n + Number(w[5] ?? 0), 0),
    conns: rows(stats).reduce((n, w) => n + Number(w[2] ?? 0), 0),
  };
}
