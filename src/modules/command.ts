import { sh, raw, nest, joinCmds, type ShellCmd } from '../transport/shell.js';
import { z } from './args.js';
import { exec, noop, type Plan, type TaskModule } from './types.js';

const base = {
  creates: z.string().optional(),
  removes: z.string().optional(),
  chdir: z.string().optional(),
  stdin: z.string().optional(),
  /** lvsrun extension: a command that reverses this one, for rollback. */
  undo: z.string().optional(),
};
const commandSchema = z
  .object({ cmd: z.string().min(1).optional(), argv: z.array(z.union([z.string(), z.number()])).optional(), ...base })
  .strict()
  .refine((a) => (a.cmd === undefined) !== (a.argv === undefined), {
    message: 'give exactly one of cmd or argv',
    path: ['cmd'],
  });
const shellSchema = z.object({ cmd: z.string().min(1), executable: z.string().optional(), ...base }).strict();

type CmdArgs = z.infer<typeof commandSchema>;
type ShellArgs = z.infer<typeof shellSchema>;
interface Observed {
  skip?: string;
}

/** Split like a POSIX shell would, without expansions: `command` runs no shell features. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q === "'") {
      if (c === "'") q = null;
      else cur += c;
      continue;
    }
    if (q === '"') {
      if (c === '"') q = null;
      else if (c === '\\' && /["\\$`]/.test(s[i + 1] ?? '')) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      inWord = true;
      continue;
    }
    if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (inWord) out.push(cur);
  return out;
}

async function guard(
  ctx: Parameters<TaskModule['check']>[0],
  a: { creates?: string; removes?: string },
): Promise<Observed> {
  if (!a.creates && !a.removes) return {};
  const r = await ctx.exec(
    joinCmds(
      [
        sh`if [ -n ${a.creates ?? ''} ] && [ -e ${a.creates ?? ''} ]; then echo creates; `,
        sh`elif [ -n ${a.removes ?? ''} ] && [ ! -e ${a.removes ?? ''} ]; then echo removes; fi`,
      ],
      '',
    ),
  );
  const w = r.stdout.trim();
  return w === 'creates'
    ? { skip: `${a.creates} exists` }
    : w === 'removes'
      ? { skip: `${a.removes} does not exist` }
      : {};
}

function runPlan(
  body: ShellCmd,
  a: { chdir?: string; stdin?: string; undo?: string },
  label: string,
  o: Observed,
): Plan {
  if (o.skip) return noop(`skipped, since ${o.skip}`, { rc: 0, stdout: '', stderr: '', skipped_reason: o.skip });
  const full = a.chdir ? sh`cd -- ${a.chdir} && ${nest(body)}` : body;
  return {
    action: 'run',
    summary: label,
    steps: [exec(full, { anyCode: true, ...(a.stdin !== undefined ? { stdin: a.stdin } : {}), what: label })],
    undo: a.undo ? [exec(raw(a.undo), { what: `undo: ${a.undo}` })] : [],
    ...(a.undo ? {} : { irreversible: true }),
  };
}

const execResult = (
  _p: unknown,
  _o: unknown,
  plan: Plan,
  execs: Array<{ code: number | null; stdout: string; stderr: string }>,
): Record<string, unknown> => {
  const r = execs[0];
  if (!r) return plan.result ?? {};
  return {
    rc: r.code,
    failed: r.code !== 0,
    stdout: r.stdout.replace(/\n$/, ''),
    stderr: r.stderr.replace(/\n$/, ''),
    stdout_lines: r.stdout.split('\n').filter((l, i, a) => i < a.length - 1 || l !== ''),
  };
};

export const command: TaskModule<CmdArgs, Observed> = {
  name: 'command',
  schema: commandSchema,
  freeForm: 'cmd',
  check: (ctx, p) => guard(ctx, p),
  plan: (p, o) => {
    const words = p.argv ? p.argv.map(String) : splitArgs(p.cmd!);
    return runPlan(sh`${words}`, p, words.join(' '), o);
  },
  result: execResult,
};

export const shell: TaskModule<ShellArgs, Observed> = {
  name: 'shell',
  schema: shellSchema,
  freeForm: 'cmd',
  check: (ctx, p) => guard(ctx, p),
  // The user's script is intentionally shell text; it is passed as one quoted word to the shell.
  plan: (p, o) => runPlan(sh`${p.executable ?? '/bin/sh'} -c ${p.cmd}`, p, p.cmd.split('\n')[0] ?? '', o),
  result: execResult,
};
