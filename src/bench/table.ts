import { median } from './measure.js';

export interface Cell {
  n: number;
  /** Round-trip time added by the relays, ms (0: plain loopback). */
  rtt: number;
  tool: string;
  mode: 'cold' | 'noop';
  wall: number[];
  rss?: number;
  tree?: number;
  cpu?: number;
  /** Round trips per host, as the relay in front of each host counted them (client turns). */
  trips?: number;
  /** lvsrun only: round trips per task per host after connecting, as its transport counted them. */
  tripsPerTask?: number;
}

const fmt = (xs: number[]): string =>
  `**${median(xs).toFixed(2)}** (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}, n=${xs.length})`;
const ratio = (a?: number, b?: number): string => (a && b ? `${(a / b).toFixed(1)}×` : '–');
const fixed = (x: number | undefined, d: number): string => (x === undefined ? '–' : x.toFixed(d));

/** Markdown: medians per size, RTT and tool, memory, round trips, then the ratios the targets are stated in. */
export function renderTable(cells: Cell[]): string {
  const out: string[] = [
    '',
    '## Wall time (s), median (min–max, n runs)',
    '',
    '| N | RTT ms | tool | cold converge | no-op re-run | CPU s (cold) | peak tree MiB | max RSS MiB ' +
      '| round trips/host cold, no-op | lvsrun round trips/task cold, no-op |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const keys = [...new Map(cells.map((c) => [`${c.n}/${c.rtt}`, { n: c.n, rtt: c.rtt }])).values()];
  const get = (n: number, rtt: number, tool: string, mode: string): Cell | undefined =>
    cells.find((c) => c.n === n && c.rtt === rtt && c.tool === tool && c.mode === mode);
  for (const { n, rtt } of keys) {
    for (const tool of [...new Set(cells.filter((c) => c.n === n && c.rtt === rtt).map((c) => c.tool))]) {
      const cold = get(n, rtt, tool, 'cold');
      const noop = get(n, rtt, tool, 'noop');
      const mem = [cold, noop].filter((c): c is Cell => Boolean(c?.rss));
      const pair = (f: (c: Cell) => number | undefined, d: number): string =>
        cold && f(cold) !== undefined
          ? noop && f(noop) !== undefined
            ? `${fixed(f(cold), d)}, ${fixed(f(noop), d)}`
            : fixed(f(cold), d)
          : '–';
      out.push(
        `| ${n} | ${rtt} | ${tool} | ${cold ? fmt(cold.wall) : '–'} | ${noop ? fmt(noop.wall) : '–'} ` +
          `| ${fixed(cold?.cpu, 1)} ` +
          `| ${mem.length ? Math.max(...mem.map((c) => c.tree ?? 0)).toFixed(0) : '–'} ` +
          `| ${mem.length ? Math.max(...mem.map((c) => c.rss ?? 0)).toFixed(0) : '–'} ` +
          `| ${pair((c) => c.trips, 1)} | ${pair((c) => c.tripsPerTask, 2)} |`,
      );
    }
  }
  out.push(
    '',
    '## Ratios (medians)',
    '',
    '| N | RTT ms | mode | Ansible defaults ÷ lvsrun | Ansible pipelining+warm ÷ lvsrun ' +
      '| lvsrun ÷ OpenSSH connect+1 | lvsrun ÷ OpenSSH connect+12 | lvsrun s/host | lvsrun MiB/host |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const { n, rtt } of keys) {
    const m = (c?: Cell): number | undefined => (c ? median(c.wall) : undefined);
    const f1 = m(get(n, rtt, 'openssh connect', 'cold'));
    const f12 = m(get(n, rtt, 'openssh connect+12', 'cold'));
    for (const mode of ['cold', 'noop']) {
      const l = get(n, rtt, 'lvsrun', mode);
      const lw = m(l);
      const per = (x?: number, d = 3): string => (x === undefined ? '–' : (x / n).toFixed(d));
      out.push(
        `| ${n} | ${rtt} | ${mode} | ${ratio(m(get(n, rtt, 'ansible defaults', mode)), lw)} ` +
          `| ${ratio(m(get(n, rtt, 'ansible pipelining+warm CP', mode)), lw)} ` +
          `| ${lw && f1 ? (lw / f1).toFixed(2) : '–'} | ${lw && f12 ? (lw / f12).toFixed(2) : '–'} ` +
          `| ${per(lw)} | ${per(l?.tree ?? l?.rss, 2)} |`,
      );
    }
  }
  return out.join('\n');
}
