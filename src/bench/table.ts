import { median } from './measure.js';

export interface Cell {
  n: number;
  tool: string;
  mode: 'cold' | 'noop';
  wall: number[];
  rss?: number;
  tree?: number;
  cpu?: number;
}

const fmt = (xs: number[]): string =>
  `**${median(xs).toFixed(2)}** (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}, n=${xs.length})`;
const ratio = (a?: number, b?: number): string => (a && b ? `${(a / b).toFixed(1)}×` : '–');

/** Markdown: medians per size and tool, memory, then the ratios the performance targets are stated in. */
export function renderTable(cells: Cell[]): string {
  const out: string[] = [
    '',
    '## Wall time (s), median (min–max, n runs)',
    '',
    '| N | tool | cold converge | no-op re-run | CPU s (cold) | peak tree MiB | max RSS MiB |',
    '|---|---|---|---|---|---|---|',
  ];
  const sizes = [...new Set(cells.map((c) => c.n))];
  const get = (n: number, tool: string, mode: string): Cell | undefined =>
    cells.find((c) => c.n === n && c.tool === tool && c.mode === mode);
  for (const n of sizes) {
    for (const tool of [...new Set(cells.filter((c) => c.n === n).map((c) => c.tool))]) {
      const cold = get(n, tool, 'cold');
      const noop = get(n, tool, 'noop');
      const mem = [cold, noop].filter((c): c is Cell => Boolean(c?.rss));
      out.push(
        `| ${n} | ${tool} | ${cold ? fmt(cold.wall) : '–'} | ${noop ? fmt(noop.wall) : '–'} ` +
          `| ${cold?.cpu?.toFixed(1) ?? '–'} ` +
          `| ${mem.length ? Math.max(...mem.map((c) => c.tree ?? 0)).toFixed(0) : '–'} ` +
          `| ${mem.length ? Math.max(...mem.map((c) => c.rss ?? 0)).toFixed(0) : '–'} |`,
      );
    }
  }
  out.push(
    '',
    '## Ratios (medians)',
    '',
    '| N | mode | Ansible defaults ÷ lvsrun | Ansible pipelining+warm ÷ lvsrun | lvsrun ÷ OpenSSH connect+12 |',
    '|---|---|---|---|---|',
  );
  for (const n of sizes) {
    const fl = get(n, 'openssh connect+12', 'cold');
    for (const mode of ['cold', 'noop']) {
      const l = get(n, 'lvsrun', mode);
      const m = (c?: Cell): number | undefined => (c ? median(c.wall) : undefined);
      out.push(
        `| ${n} | ${mode} | ${ratio(m(get(n, 'ansible defaults', mode)), m(l))} ` +
          `| ${ratio(m(get(n, 'ansible pipelining+warm CP', mode)), m(l))} ` +
          `| ${l && fl ? (median(l.wall) / median(fl.wall)).toFixed(2) : '–'} |`,
      );
    }
  }
  return out.join('\n');
}
