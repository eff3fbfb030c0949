import type { Redactor } from '../text/redact.js';
import type { DrillResult } from './timeline.js';

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A self-contained page (no scripts, no external files): the verdict, the metrics, and an SVG
 * chart of probe success per 250 ms with the drill's events marked.
 */
export function drillHtml(result: DrillResult, red?: Redactor): string {
  // Redacted as values, before HTML escaping changes a secret's text.
  const r = red ? red.deep(result) : result;
  const end = Math.max(1000, ...r.events.map((e) => e.t), ...r.probes.map((p) => p.t));
  const W = 1000;
  const H = 220;
  const top = 30;
  const barH = 120;
  const x = (t: number): number => 40 + (t / end) * (W - 60);
  const bucket = 250;
  const bars: string[] = [];
  for (let b = 0; b * bucket <= end; b++) {
    const ps = r.probes.filter((p) => p.t >= b * bucket && p.t < (b + 1) * bucket);
    if (!ps.length) continue;
    const okShare = ps.filter((p) => p.ok).length / ps.length;
    const h = Math.max(2, okShare * barH);
    const color = okShare === 1 ? '#2e9d4f' : okShare === 0 ? '#d62f2f' : '#e0a030';
    bars.push(
      `<rect class="probe ${okShare === 1 ? 'ok' : 'fail'}" x="${x(b * bucket).toFixed(1)}" ` +
        `y="${(top + barH - (okShare === 0 ? barH : h)).toFixed(1)}" ` +
        `width="${Math.max(1, x(bucket) - x(0) - 1).toFixed(1)}" height="${(okShare === 0 ? barH : h).toFixed(1)}" ` +
        `fill="${color}"><title>${(b * bucket) / 1000}s: ${ps.filter((p) => p.ok).length}/${ps.length} ok</title>` +
        '</rect>',
    );
  }
  const marks = r.events
    .filter((e) => e.event !== 'drill-end')
    .map(
      (e, i) =>
        `<g class="event"><line x1="${x(e.t).toFixed(1)}" x2="${x(e.t).toFixed(1)}" ` +
        `y1="${top - 5}" y2="${top + barH + 5}" stroke="#1f4fd1" stroke-width="2" stroke-dasharray="4 3"/>` +
        `<text x="${(x(e.t) + 3).toFixed(1)}" y="${top + barH + 20 + (i % 3) * 12}" font-size="11" fill="#1f4fd1">` +
        `${esc(e.event)}${e.host ? ` ${esc(e.host)}` : ''}</text></g>`,
    )
    .join('\n');
  const ticks = Array.from(
    { length: Math.floor(end / 1000) + 1 },
    (_, s) =>
      `<text x="${x(s * 1000).toFixed(1)}" y="${top - 10}" font-size="10" fill="#555" ` +
      `text-anchor="middle">${s}s</text>`,
  ).join('');
  const rows = Object.entries(r.metrics)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
    .join('');
  const evRows = r.events
    .map(
      (e) =>
        `<tr><td>${(e.t / 1000).toFixed(3)} s</td><td>${esc(e.event)}</td>` +
        `<td>${esc(e.host ?? '')}</td><td>${esc(e.detail ?? '')}</td></tr>`,
    )
    .join('');
  return (
    `<!doctype html>
<html><head><meta charset="utf-8"><title>lvsrun drill ${esc(r.drill)} ${esc(r.runId)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222}h1{font-size:20px}` +
    `.verdict{padding:10px;border-radius:4px;color:#fff;background:${r.ok ? '#2e9d4f' : '#d62f2f'}}` +
    `table{border-collapse:collapse;margin:12px 0}` +
    `td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}</style></head>
<body>
<h1>lvsrun drill: ${esc(r.drill)} of ${esc(r.target)} (run ${esc(r.runId)}, ${esc(r.started)})</h1>
<p class="verdict" id="verdict">${r.ok ? 'PASS' : 'FAIL'}: ${esc(r.verdict)}</p>
<h2>Probe success through the VIP (${esc(r.probe)}), per 250 ms</h2>
<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
<rect x="0" y="0" width="${W}" height="${H}" fill="#fafafa"/>
<line x1="40" x2="${W - 20}" y1="${top + barH}" y2="${top + barH}" stroke="#999"/>${ticks}
${bars.join('\n')}
${marks}
</svg>
<h2>Measured</h2><table>${rows}</table>
<h2>Timeline</h2><table><tr><th>t</th><th>event</th><th>host</th><th>detail</th></tr>${evRows}</table>
</body></html>
`
  );
}
