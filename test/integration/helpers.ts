import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Run the CLI in-process, as a user would from the shell, capturing its output. */
export async function cli(...argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    isTTY: false,
    cwd: process.cwd(),
    env: process.env,
  });
  return { code, out, err };
}

export function recapLine(out: string, host: string): Record<string, number> {
  const line = out.split('\n').find((l) => l.startsWith(`${host} `) && l.includes('ok='));
  if (!line) throw new Error(`no recap for ${host} in:\n${out}`);
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** Poll `cond` every 200 ms until it holds; throws after `ms`. */
export async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`condition not met within ${ms} ms`);
}
