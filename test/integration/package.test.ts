import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The published package, end to end, as an operator gets it: clone HEAD, build and pack it, install
// the tarball into a private prefix, delete the clone, and use the installed `lvsrun` from an empty
// folder. Needs git and the npm registry (or a warm npm cache); starts no lab and no host, so it can
// run on its own: npx vitest run test/integration/package.test.ts
const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'lvsrun-pack-'));
const clone = join(tmp, 'clone');
const prefix = join(tmp, 'prefix');
const ops = join(tmp, 'ops');
const npmQuiet = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
// The installed tool must not see this repository's settings or a configured roles path.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('LVSRUN_') && !k.startsWith('npm_')),
);
const long = { env, timeout: 300_000, maxBuffer: 64 << 20 };
let tarball = '';
let entries: string[] = [];
const lvsrun = (...args: string[]) =>
  run(join(prefix, 'bin', 'lvsrun'), args, { env, cwd: ops, timeout: 60_000 })
    .then((r) => ({ code: 0, out: r.stdout, err: r.stderr }))
    .catch((e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: e.code ?? -1,
      out: e.stdout ?? '',
      err: e.stderr ?? '',
    }));

beforeAll(async () => {
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
  await run('git', ['clone', '--quiet', '--no-checkout', repo, clone], long);
  await run('git', ['checkout', '--quiet', head], { ...long, cwd: clone });
  await run('npm', ['ci', '--ignore-scripts', ...npmQuiet], { ...long, cwd: clone });
  // npm pack runs prepack (the build): the clone has no dist/ before it.
  const packed = await run('npm', ['pack', '--silent'], { ...long, cwd: clone });
  tarball = join(clone, packed.stdout.trim().split('\n').at(-1)!);
  entries = (await run('tar', ['-tzf', tarball], long)).stdout.split('\n').filter(Boolean);
  await run('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', ...npmQuiet, tarball], long);
  rmSync(clone, { recursive: true, force: true });
  mkdirSync(ops);
}, 900_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the packed tarball, installed (no lab)', () => {
  it('carries the build, the shipped roles and templates, docs and licence, and no tests', () => {
    for (const f of [
      'dist/cli/main.js',
      'dist/lvsrun-cli.js',
      'dist/lvsrun-cli.LICENSES.txt',
      'bin/lvsrun.js',
      'playbooks/roles/lvs_director/tasks/main.yaml',
      'playbooks/roles/lvs_realserver/tasks/main.yaml',
      'templates/keepalived/keepalived.conf.hbs',
      'templates/keepalived-default.hbs',
      'docs/cli.md',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'package.json',
    ])
      expect(entries).toContain(`package/${f}`);
    expect(entries.filter((e) => e.startsWith('package/test/') || e.startsWith('package/src/'))).toEqual([]);
  });

  it('lvsrun --version prints the version in package.json', async () => {
    const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).version as string;
    const r = await lvsrun('--version');
    expect(r).toMatchObject({ code: 0, out: `lvsrun ${version}\n` });
  });

  it('lvsrun init fills an empty folder, and validate passes on it with only the installed roles', async () => {
    expect(readdirSync(ops)).toEqual([]);
    const init = await lvsrun('init');
    expect(init.code, init.err).toBe(0);
    expect(readdirSync(ops).sort()).toEqual(['.gitignore', 'README.md', 'inventories', 'lvsrun.cfg', 'site.yaml']);
    const v = await lvsrun('validate', 'site.yaml', '-i', 'inventories/example');
    expect(v.code, v.out + v.err).toBe(0);
    expect(v.out).toMatch(/^0 error\(s\), 0 warning\(s\)/m);
    // The roles are the installed package's: the clone is gone and the folder has none.
    expect(readdirSync(ops)).not.toContain('roles');
  });

  it('a role found nowhere is a load-time error listing the installed roles folder among the paths', async () => {
    const r = await run('sh', ['-c', `printf -- '- hosts: all\\n  roles: [nosuchrole]\\n' > nr.yaml`], { cwd: ops });
    expect(r.stderr).toBe('');
    const v = await lvsrun('validate', 'nr.yaml', '-i', 'inventories/example');
    expect(v.code).toBe(1);
    expect(v.err).toContain(`role 'nosuchrole' not found`);
    expect(v.err).toContain(join(prefix, 'lib', 'node_modules', 'lvsrun', 'playbooks', 'roles', 'nosuchrole'));
  });

  // Last: the inventory is encrypted from here on.
  it('the scaffolded vault.yml encrypts with the installed lvsrun; validate passes given the password', async () => {
    const vaultYml = 'inventories/example/group_vars/directors/vault.yml';
    writeFileSync(join(ops, '.vault-pass'), 'a long vault password\n', { mode: 0o600 });
    const e = await lvsrun('vault', 'encrypt', vaultYml, '--vault-password-file', '.vault-pass');
    expect(e.code, e.err).toBe(0);
    expect(readFileSync(join(ops, vaultYml), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256\n/);
    const v = await lvsrun(
      'validate',
      'site.yaml',
      '-i',
      'inventories/example',
      '--vault-password-file',
      '.vault-pass',
    );
    expect(v.code, v.out + v.err).toBe(0);
    expect(v.out).toMatch(/^0 error\(s\), 0 warning\(s\)/m);
  });
});
