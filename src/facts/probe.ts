import { joinCmds, raw, type ShellCmd } from '../transport/shell.js';
import type { ExecResult } from '../transport/types.js';

const SEP = '__lvsrun_probe_end__';

/**
 * Several read-only commands in one round trip. Each part's stdout and exit code come back
 * separately, as if it had been run alone.
 */
export function multiProbe(parts: readonly ShellCmd[]): ShellCmd {
  return joinCmds(
    parts.map((p) => joinCmds([raw('('), p, raw(`); printf '\\n${SEP} %s\\n' "$?"`)], '\n')),
    '\n',
  );
}

export function splitProbe(r: ExecResult, n: number): ExecResult[] {
  const out: ExecResult[] = [];
  let rest = r.stdout;
  const re = new RegExp(`\\n${SEP} (\\d+)\\n`);
  for (let i = 0; i < n; i++) {
    const m = re.exec(rest);
    if (!m) {
      out.push({ ...r, code: r.code === 0 ? 1 : r.code, stdout: rest });
      rest = '';
      continue;
    }
    out.push({
      code: Number(m[1]),
      signal: null,
      stdout: rest.slice(0, m.index),
      stderr: i === 0 ? r.stderr : '',
      durationMs: r.durationMs,
    });
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}
