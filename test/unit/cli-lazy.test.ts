import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/*
 * Which modules the built CLI (dist/, run as a user runs it; npm test builds it first) loads for a command
 * line, recorded by a module-load hook (load-log.mjs). Node's loader pays for every module: --version and
 * every --help are answered from the command definitions alone, and a command's implementation (and the
 * packages only it uses) load when that command runs. The CLI runs as a bundle split into chunks
 * (scripts/bundle.mjs): a chunk loaded stands for the modules the bundler's record says it holds.
 */
const repo = join(import.meta.dirname, '..', '..');
const dist = `${pathToFileURL(join(repo, 'dist')).href}/`;
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Loaded {
  code: number | null;
  out: string;
  /** lvsrun's own modules, as paths under dist/: cli/main.js. */
  own: string[];
  /** The packages under node_modules any module was loaded from. */
  packages: string[];
}

const META = join(repo, 'dist', 'lvsrun-cli.meta.json');
const BUNDLE = pathToFileURL(join(repo, 'dist', 'lvsrun-cli.js')).href;
let chunkMap: Map<string, string[]> | undefined;
/** The bundler's record: each output file under dist/ and the modules (URLs) it holds; read when first needed. */
function chunks(): Map<string, string[]> {
  chunkMap ??= new Map(
    Object.entries(
      (JSON.parse(readFileSync(META, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> })
        .outputs,
    ).map(([out, { inputs }]) => [
      pathToFileURL(join(repo, out)).href,
      Object.keys(inputs).map((m) => pathToFileURL(join(repo, m)).href),
    ]),
  );
  return chunkMap;
}
/** A loaded URL as the modules it stands for: a chunk's, or itself. */
const unbundled = (url: string): string[] => chunks().get(url) ?? [url];

let runs = 0;
function loads(...args: string[]): Loaded {
  const log = join(dir, `load-${++runs}.txt`);
  const r = spawnSync(
    process.execPath,
    ['--import', join(import.meta.dirname, 'load-log.mjs'), join(repo, 'bin', 'lvsrun.js'), ...args],
    {
      cwd: dir,
      encoding: 'utf8',
      // Only a guard against a hang: a normal start takes well under a second.
      timeout: 60_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, LVSRUN_LOAD_LOG: log, LVSRUN_LAB_DIR: join(dir, 'no-lab'), LVSRUN_DEBUG: '' },
    },
  );
  const loaded = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  // What a user runs: bin/lvsrun.js loads the bundle, not dist/cli/main.js module by module.
  expect(loaded, 'bin/lvsrun.js loads the bundle').toContain(BUNDLE);
  const urls = loaded.flatMap(unbundled);
  const packages = urls
    .map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1])
    .filter((p) => p !== undefined);
  return {
    code: r.status,
    out: `${r.stdout}${r.stderr}`,
    own: urls.filter((u) => u.startsWith(dist)).map((u) => u.slice(dist.length)),
    packages: [...new Set(packages)],
  };
}

/** What serves hosts, playbooks, the lab, drills and the vault: none of it answers --version or --help. */
const IMPLEMENTATION =
  /^(cli\/commands|engine|transport|lab|drills|vault|rollback|modules|playbook|inventory|template|report|lvs)\//;
const HEAVY_PACKAGES = ['ssh2', 'ssh-config', 'handlebars', 'listr2', 'diff', 'yaml', 'zod', 'p-queue'];

it('the CLI under test is built (npm test builds dist/ first)', () => {
  expect(existsSync(join(repo, 'dist', 'cli', 'main.js'))).toBe(true);
  expect(existsSync(META)).toBe(true);
  // bin/lvsrun.js runs the bundle, and its record names the module the bundle starts from.
  expect(chunks().get(BUNDLE)).toContain(pathToFileURL(join(repo, 'dist', 'cli', 'main.js')).href);
});

describe('--version and --help load no command implementation', () => {
  const lines: Array<[string[], RegExp]> = [
    [['--version'], /^lvsrun \d+\.\d+\.\d+/],
    [['--help'], /^usage: lvsrun PLAYBOOK/],
    [['help', 'drill'], /^usage: lvsrun drill failover/],
    [['lab', '--help'], /^usage: lvsrun lab up/],
    [['lab', 'up', '--help'], /^usage: lvsrun lab up/],
    [['vault', 'view', '-h'], /^usage: lvsrun vault view/],
    [['validate', '--help'], /^usage: lvsrun validate/],
    [['site.yaml', '-i', 'prod', '--help'], /^usage: lvsrun PLAYBOOK -i INVENTORY/],
  ];
  for (const [args, text] of lines) {
    it(`lvsrun ${args.join(' ')}`, () => {
      const r = loads(...args);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(text);
      // The hook saw the program: an empty record would pass the checks below for nothing.
      expect(r.own).toContain('cli/main.js');
      expect(r.own.filter((m) => IMPLEMENTATION.test(m))).toEqual([]);
      expect(r.packages.filter((p) => HEAVY_PACKAGES.includes(p))).toEqual([]);
    });
  }
});

describe('a command loads its implementation when it runs, and only what it uses', () => {
  it('lvsrun lab status: the lab code, no other command or drill code; its result as before', () => {
    const r = loads('lab', 'status');
    expect(r.out).toBe('lab: not running\n');
    expect(r.code).toBe(0);
    expect(r.own).toEqual(expect.arrayContaining(['cli/commands/lab.js', 'lab/lab.js']));
    expect(r.own.filter((m) => /^(cli\/commands\/(vault|drill|run)\.js|drills\/)/.test(m))).toEqual([]);
  });

  it('an error inside a loaded handler is reported as before: one line, its code, exit 1', () => {
    const r = loads('vault', 'view');
    expect(r.out).toBe('error[E_USAGE]: lvsrun vault view needs a FILE\n  hint: lvsrun vault view --help\n');
    expect(r.code).toBe(1);
    expect(r.own).toContain('cli/commands/vault.js');
  });

  it('a playbook run without a terminal or --diff loads neither listr2 nor diff, nor other commands', () => {
    // A play over an empty group: the whole run path, no host to connect to.
    writeFileSync(join(dir, 'inv.yaml'), 'all:\n  children:\n    web:\n      hosts:\n        w1: {}\n    none: {}\n');
    writeFileSync(join(dir, 'pb.yaml'), '- hosts: none\n  tasks:\n    - command: /bin/true\n');
    const plain = loads('pb.yaml', '-i', 'inv.yaml', '--check');
    expect(plain.out).toMatch(/PLAY RECAP/);
    expect(plain.code, plain.out).toBe(0);
    expect(plain.own).toEqual(expect.arrayContaining(['cli/commands/run.js', 'engine/runner.js']));
    expect(plain.packages).not.toContain('listr2');
    expect(plain.packages).not.toContain('diff');
    expect(plain.own.filter((m) => /^(cli\/commands\/(?!run\.js)|drills\/|report\/(listr|diff))/.test(m))).toEqual([]);

    const diff = loads('pb.yaml', '-i', 'inv.yaml', '--check', '--diff');
    expect(diff.code, diff.out).toBe(0);
    expect(diff.own).toContain('report/diff.js');
    expect(diff.packages).toContain('diff');
  });
});
