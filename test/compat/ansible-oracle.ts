import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { main } from '../../src/cli/main.js';

/** One inventory written to a folder: `files` by relative path; `source` is what `-i` names. */
export interface InvCase {
  id: string;
  files: Record<string, string>;
  /** The path given to -i, relative to the case folder (default: the first file). */
  source?: string;
  patterns?: string[];
}

export interface Call {
  code: number;
  stdout: string;
  stderr: string;
}
export interface AnsibleView {
  list: Call;
  graph: Call;
  host: Record<string, Call>;
  patterns: Record<string, { code: number; hosts: string[]; stderr: string }>;
}

/** Writes every case under one temporary folder and returns each case's -i path. */
export function writeCases(cases: readonly InvCase[]): Map<string, string> {
  const root = mkdtempSync(join(tmpdir(), 'lvsrun-compat-'));
  const paths = new Map<string, string>();
  for (const c of cases) {
    const dir = join(root, c.id);
    for (const [rel, text] of Object.entries(c.files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      // Cases are written as template literals that start on a fresh line.
      if (!rel.endsWith('/')) writeFileSync(join(dir, rel), text.replace(/^\n/, ''));
    }
    paths.set(c.id, join(dir, c.source ?? Object.keys(c.files)[0]!));
  }
  return paths;
}

/** The Python that runs Debian's ansible-inventory (its shebang), so ansible's modules import. */
function ansiblePython(): string {
  const which = spawnSync('sh', ['-c', 'command -v ansible-inventory'], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  if (which.status !== 0 || !bin) throw new Error('ansible-inventory is not installed: run `bash scripts/setup.sh`');
  const shebang = /^#!\s*(\S+)/.exec(readFileSync(bin, 'utf8'))?.[1];
  return shebang && !shebang.endsWith('/env') ? shebang : 'python3';
}

/** Ansible's answers for all cases, from one Python process. */
export function askAnsible(cases: readonly InvCase[], paths: Map<string, string>): Record<string, AnsibleView> {
  const input = JSON.stringify({
    cases: cases.map((c) => ({ id: c.id, path: paths.get(c.id), patterns: c.patterns ?? [] })),
  });
  // Run outside the repository so that no ansible.cfg there changes the answers.
  const env = { ...process.env, ANSIBLE_HOME: join(tmpdir(), 'lvsrun-compat-ansible') };
  const r = spawnSync(ansiblePython(), [join(import.meta.dirname, 'ansible-oracle.py')], {
    input,
    encoding: 'utf8',
    env,
    cwd: tmpdir(),
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`ansible oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, AnsibleView>;
}

/** `lvsrun ARGS` in this process: the CLI's `main` from src/, which bin/lvsrun.js runs bundled, without Node's start-up. */
export async function lvsrun(args: string[], cwd: string): Promise<Call> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (s) => {
      stdout += s;
    },
    err: (s) => {
      stderr += s;
    },
    isTTY: false,
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code, stdout, stderr };
}

/** Ansible skips an inventory file it cannot parse, with a warning, and goes on without it. */
export function ansibleSkipped(c: Call): boolean {
  // Ansible wraps its warnings at the terminal width.
  return /Unable\s+to\s+parse\s[\s\S]*?\sas\s+an\s+inventory\s+source/.test(c.stderr);
}
