import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { SCAFFOLD } from '../../src/cli/scaffold.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';

async function cli(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
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
    cwd,
    env: {},
  });
  return { code, out, err };
}
const fresh = (): string => mkdtempSync(join(tmpdir(), 'lvsrun-init-'));

describe('lvsrun init', () => {
  it('fills an empty folder, and lvsrun validate passes on it as written (shipped roles, no roles/ here)', async () => {
    const d = fresh();
    const r = await cli(d, 'init');
    expect(r.code, r.err).toBe(0);
    for (const f of SCAFFOLD) expect(existsSync(join(d, f.path)), f.path).toBe(true);
    expect(readdirSync(d)).not.toContain('roles');
    expect(statSync(join(d, 'inventories/example/group_vars/directors/vault.yml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(d, '.gitignore'), 'utf8')).toMatch(/^\.lvsrun\/$/m);
    expect(readFileSync(join(d, '.gitignore'), 'utf8')).toMatch(/^\.vault-pass$/m);
    expect(readFileSync(join(d, 'inventories/example/group_vars/directors/vars.yml'), 'utf8')).toContain(
      'lvs_auth_pass: "{{vault_lvs_auth_pass}}"',
    );
    // The YAML files name the editor schemas of the lvsrun that wrote them; the INI inventory does not.
    const modeline = (n: string): string =>
      `# yaml-language-server: $schema=${pathToFileURL(join(PACKAGE_ROOT, 'schemas', n)).href}\n`;
    expect(readFileSync(join(d, 'site.yaml'), 'utf8').startsWith(modeline('playbook.json'))).toBe(true);
    expect(readFileSync(join(d, 'inventories/example/group_vars/directors/vault.yml'), 'utf8')).toMatch(
      new RegExp(`^${modeline('group_vars.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}# Secrets`),
    );
    expect(readFileSync(join(d, 'inventories/example/hosts'), 'utf8')).not.toContain('yaml-language-server');
    const v = await cli(d, 'validate', 'site.yaml', '-i', 'inventories/example');
    expect(v.code, v.out + v.err).toBe(0);
    expect(v.out).toMatch(/^0 error\(s\), 0 warning\(s\)/m);
    // The password from vault.yml reaches the checks: a 9-character one is the auth-pass-length error.
    const j = await cli(d, 'validate', 'site.yaml', '-i', 'inventories/example', '-e', 'vault_lvs_auth_pass=ninechars');
    expect(j.code).toBe(1);
    expect(j.out).toContain('auth-pass-length');
  });

  it('the scaffolded vault.yml encrypts with lvsrun vault encrypt, and validate then needs and uses the password', async () => {
    const d = fresh();
    expect((await cli(d, 'init')).code).toBe(0);
    const vaultYml = 'inventories/example/group_vars/directors/vault.yml';
    writeFileSync(join(d, '.vault-pass'), 'a long vault password\n', { mode: 0o600 });
    const e = await cli(d, 'vault', 'encrypt', vaultYml, '--vault-password-file', '.vault-pass');
    expect(e.code, e.err).toBe(0);
    const cipher = readFileSync(join(d, vaultYml), 'utf8');
    expect(cipher).toMatch(/^\$ANSIBLE_VAULT;1\.1;AES256\n[0-9a-f\n]+$/);
    expect(cipher).not.toContain('ChangeMe');
    expect(statSync(join(d, vaultYml)).mode & 0o777).toBe(0o600);
    // As the scaffold's comments and README say: with the password file, validate passes as before.
    const withPw = ['-i', 'inventories/example', '--vault-password-file', '.vault-pass'];
    const v = await cli(d, 'validate', 'site.yaml', ...withPw);
    expect(v.code, v.out + v.err).toBe(0);
    expect(v.out).toMatch(/^0 error\(s\), 0 warning\(s\)/m);
    // Without it, exit 1 naming the encrypted file; the ciphertext is never taken as the password.
    const none = await cli(d, 'validate', 'site.yaml', '-i', 'inventories/example');
    expect(none.code).toBe(1);
    expect(none.err).toContain('error[E_VAULT]');
    expect(none.err).toContain(join(d, vaultYml));
    // The decrypted value reaches the checks: a 9-character password, encrypted, is the auth-pass-length error.
    writeFileSync(join(d, vaultYml), 'vault_lvs_auth_pass: ninechars\n');
    expect((await cli(d, 'vault', 'encrypt', vaultYml, '--vault-password-file', '.vault-pass')).code).toBe(0);
    const long = await cli(d, 'validate', 'site.yaml', ...withPw);
    expect(long.code).toBe(1);
    expect(long.out).toContain('auth-pass-length');
  });

  it("findings never show a vault-decrypted value: validate, validate --json, a run's pre-run check", async () => {
    const d = fresh();
    expect((await cli(d, 'init')).code).toBe(0);
    const vaultYml = 'inventories/example/group_vars/directors/vault.yml';
    writeFileSync(join(d, '.vault-pass'), 'a long vault password\n', { mode: 0o600 });
    // 9 characters: the keepalived task's argument check quotes the rendered auth_pass in its finding.
    writeFileSync(join(d, vaultYml), 'vault_lvs_auth_pass: Nine9Char\n');
    expect((await cli(d, 'vault', 'encrypt', vaultYml, '--vault-password-file', '.vault-pass')).code).toBe(0);
    const withPw = ['-i', 'inventories/example', '--vault-password-file', '.vault-pass'];
    const text = await cli(d, 'validate', 'site.yaml', ...withPw);
    expect(text.code).toBe(1);
    expect(text.out).toContain('error[task-args]');
    expect(text.out).toContain('********');
    const json = await cli(d, 'validate', 'site.yaml', ...withPw, '--json');
    expect(json.code).toBe(1);
    expect((JSON.parse(json.out) as unknown[]).length).toBeGreaterThan(0);
    // The run stops at its pre-run check (exit 1, no host touched) and prints the findings on stderr.
    const run = await cli(d, 'site.yaml', ...withPw);
    expect(run.code).toBe(1);
    expect(run.err).toContain('error[task-args]');
    for (const r of [text, json, run]) expect(r.out + r.err).not.toContain('Nine9Char');
  });

  it('creates DIR when it is missing', async () => {
    const d = fresh();
    const r = await cli(d, 'init', 'ops/lvs');
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(d, 'ops/lvs/site.yaml'))).toBe(true);
    expect(r.out).toContain('cd ops/lvs && lvsrun validate site.yaml -i inventories/example');
  });

  it('refuses to overwrite: exit 1 naming every existing file, and writes nothing at all', async () => {
    const d = fresh();
    writeFileSync(join(d, 'site.yaml'), 'mine\n');
    mkdirSync(join(d, 'inventories/example'), { recursive: true });
    writeFileSync(join(d, 'inventories/example/hosts'), 'mine too\n');
    const r = await cli(d, 'init');
    expect(r.code).toBe(1);
    const both = `${join(d, 'site.yaml')}, ${join(d, 'inventories/example/hosts')}`;
    expect(r.err).toContain(`refusing to overwrite 2 existing file(s): ${both}`);
    expect(r.err).toContain('hint: --force replaces them');
    expect(readFileSync(join(d, 'site.yaml'), 'utf8')).toBe('mine\n');
    expect(readdirSync(d).sort()).toEqual(['inventories', 'site.yaml']);
    expect(readdirSync(join(d, 'inventories/example'))).toEqual(['hosts']);
  });

  it('--force replaces existing files; a symlink is replaced, never written through', async () => {
    const d = fresh();
    const outside = join(fresh(), 'precious');
    writeFileSync(outside, 'keep me\n');
    symlinkSync(outside, join(d, 'site.yaml'));
    expect((await cli(d, 'init')).code).toBe(1);
    const r = await cli(d, 'init', '--force');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(outside, 'utf8')).toBe('keep me\n');
    expect(lstatSync(join(d, 'site.yaml')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(d, 'site.yaml'), 'utf8')).toContain('- lvs_director');
  });

  it('a dangling symlink counts as an existing file', async () => {
    const d = fresh();
    symlinkSync(join(d, 'nowhere'), join(d, 'lvsrun.cfg'));
    const r = await cli(d, 'init');
    expect(r.code).toBe(1);
    expect(r.err).toContain(join(d, 'lvsrun.cfg'));
    expect(existsSync(join(d, 'nowhere'))).toBe(false);
  });

  it('DIR that is a file, or two folders, is a usage error', async () => {
    const d = fresh();
    writeFileSync(join(d, 'f'), '');
    expect((await cli(d, 'init', 'f')).err).toContain('exists and is not a folder');
    expect((await cli(d, 'init', 'a', 'b')).code).toBe(1);
  });
});
