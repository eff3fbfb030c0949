import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../src/cli/extra-vars.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { VaultKeyring } from '../../src/vault/keyring.js';
import { cli } from '../integration/helpers.js';

// Files and strings made by Debian's ansible-vault (scripts/setup.sh installs ansible-core) are read by lvsrun,
// and lvsrun's are read by ansible-vault, ansible-inventory and ansible.
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-vault-interop-'));
const at = (p: string): string => join(dir, p);
const pw = at('pw');
const pwProd = at('pw-prod');
const env = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: at('.ansible-tmp'), HOME: dir };
const av = (...args: string[]): string =>
  execFileSync('ansible-vault', args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const keyring = (): VaultKeyring =>
  new VaultKeyring([
    { id: 'default', password: Buffer.from('correct horse'), source: pw },
    { id: 'prod', password: Buffer.from('prod-pw-ä'), source: pwProd },
  ]);
const indent = (s: string, n: number): string =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

beforeAll(() => {
  writeFileSync(pw, 'correct horse\n');
  writeFileSync(pwProd, 'prod-pw-ä\n');
  mkdirSync(at('inv/group_vars'), { recursive: true });
  mkdirSync(at('inv/host_vars/lb1'), { recursive: true });
  writeFileSync(at('inv/group_vars/directors.yaml'), 'lvs_auth_pass: "Vrrp-Pw 1"\nlvs_vrid: 51\n');
  av('encrypt', '--vault-password-file', pw, 'inv/group_vars/directors.yaml');
  writeFileSync(at('inv/host_vars/lb1/vault.yml'), 'api_token: "tok: {{ not a template }}"\n');
  av('encrypt', '--vault-id', `prod@${pwProd}`, 'inv/host_vars/lb1/vault.yml');
  writeFileSync(at('inv/host_vars/lb1/plain.yml'), 'plain_var: visible\n');
  const inline = av('encrypt_string', '--vault-password-file', pw, '--name', 'become_pass_x', 'sudo-pw\nwith newline');
  writeFileSync(
    at('inv/hosts.yaml'),
    `all:\n  children:\n    directors:\n      hosts:\n        lb1:\n${indent(inline, 10)}\n        lb2: {}\n`,
  );
  writeFileSync(at('secret-vars.yaml'), 'from_vars_file: vf-secret\n');
  av('encrypt', '--vault-password-file', pw, 'secret-vars.yaml');
  writeFileSync(at('extra.yaml'), 'from_extra: ex-secret\n');
  av('encrypt', '--vault-id', `prod@${pwProd}`, 'extra.yaml');
  const playInline = av('encrypt_string', '--vault-id', `prod@${pwProd}`, '--name', 'play_secret', 'pv-secret');
  writeFileSync(
    at('site.yaml'),
    `- hosts: directors\n  vars:\n${indent(playInline, 4)}\n` +
      '  vars_files: [secret-vars.yaml]\n  tasks:\n    - debug: {msg: hi}\n',
  );
}, 120_000);

describe('ansible-vault → lvsrun', () => {
  it('decrypts a whole group_vars file, a host_vars folder file (1.2, label prod) and inline !vault values', () => {
    const inv = loadInventory(at('inv/hosts.yaml'), keyring());
    expect(inv.hosts.get('lb2')!.vars).toMatchObject({ lvs_auth_pass: 'Vrrp-Pw 1', lvs_vrid: 51 });
    expect(inv.hosts.get('lb1')!.vars).toMatchObject({
      lvs_auth_pass: 'Vrrp-Pw 1',
      api_token: 'tok: {{ not a template }}',
      become_pass_x: 'sudo-pw\nwith newline',
      plain_var: 'visible',
    });
  });
  it('decrypts inline !vault in playbook vars, encrypted vars_files and -e @file', () => {
    const pb = loadPlaybook(at('site.yaml'), { vault: keyring() });
    expect(pb.plays[0]!.vars).toMatchObject({ play_secret: 'pv-secret', from_vars_file: 'vf-secret' });
    expect(parseExtraVars([`@${at('extra.yaml')}`], dir, keyring())).toEqual({ from_extra: 'ex-secret' });
  });
  it('every decrypted value is a secret: the redactor hides them, plain ones stay', async () => {
    const r = await cli(
      'inventory',
      '-i',
      at('inv/hosts.yaml'),
      '--host',
      'lb1',
      '--vault-password-file',
      pw,
      '--vault-id',
      `prod@${pwProd}`,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const vars = JSON.parse(r.out) as Record<string, unknown>;
    expect(vars).toEqual({
      lvs_auth_pass: '********',
      lvs_vrid: 51,
      api_token: '********',
      become_pass_x: '********',
      plain_var: 'visible',
    });
  });
  it('lvsrun validate reads playbook and -e @file vault data, and checks the decrypted auth_pass', async () => {
    const r = await cli(
      'validate',
      at('site.yaml'),
      '-i',
      at('inv/hosts.yaml'),
      '-e',
      `@${at('extra.yaml')}`,
      '--vault-id',
      `default@${pw}`,
      '--vault-id',
      `prod@${pwProd}`,
    );
    expect(r.err).toBe('');
    // The rule saw the decrypted value ('Vrrp-Pw 1', 9 characters), not the ciphertext, and printed neither.
    expect(r.out).toMatch(
      /error\[auth-pass-length\] lb1 lvs_auth_pass \(.*\/directors\.yaml:1\): auth_pass has 9 characters/,
    );
    expect(r.out).not.toMatch(/Vrrp-Pw|ANSIBLE_VAULT/);
  });
  it('ANSIBLE_VAULT_PASSWORD_FILE and an executable password script are password sources', async () => {
    const script = at('pw-script.sh');
    writeFileSync(script, "#!/bin/sh\necho 'prod-pw-ä'\n");
    chmodSync(script, 0o755);
    const old = process.env.ANSIBLE_VAULT_PASSWORD_FILE;
    process.env.ANSIBLE_VAULT_PASSWORD_FILE = pw;
    try {
      const r = await cli('inventory', '-i', at('inv/hosts.yaml'), '--host', 'lb1', '--vault-password-file', script);
      expect(r.err).toBe('');
      expect(JSON.parse(r.out)).toMatchObject({ api_token: '********' });
    } finally {
      if (old === undefined) delete process.env.ANSIBLE_VAULT_PASSWORD_FILE;
      else process.env.ANSIBLE_VAULT_PASSWORD_FILE = old;
    }
  });
  it('a wrong password is exit 1 naming the file, line and vault id; no ciphertext, no stack', async () => {
    writeFileSync(at('wrong'), 'not the password\n');
    const r = await cli('inventory', '-i', at('inv/hosts.yaml'), '--host', 'lb1', '--vault-password-file', at('wrong'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        '^error\\[E_VAULT\\] .*hosts\\.yaml:6 ' +
          '\\(all\\.children\\.directors\\.hosts\\.lb1\\.become_pass_x\\): ' +
          "cannot decrypt \\(vault id 'default'\\): wrong password",
      ),
    );
    expect(r.err).toMatch(/tried vault id default \(.*wrong\)/);
    expect(r.err).not.toMatch(/\$ANSIBLE_VAULT|[0-9a-f]{40}|\n\s+at /);
    const w2 = await cli('inventory', '-i', at('inv/hosts.yaml'), '--host', 'lb1', '--vault-password-file', pw);
    expect(w2.code).toBe(1);
    expect(w2.err).toMatch(/^error\[E_VAULT\] .*host_vars\/lb1\/vault\.yml:1: cannot decrypt \(vault id 'prod'\)/);
  });
  it('vault data and no password: exit 1 naming the file, never the ciphertext as a value', async () => {
    const r = await cli('inventory', '-i', at('inv/hosts.yaml'), '--host', 'lb2');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error\[E_VAULT\] .*hosts\.yaml:6 .*no vault password was given\n {2}hint: pass --vault-password-file/,
    );
  });
});

describe('lvsrun vault → ansible', () => {
  it('a file encrypted by lvsrun vault encrypt opens with ansible-vault view (1.1, and 1.2 with a label)', async () => {
    writeFileSync(at('mine.yaml'), 'lvs_auth_pass: mine-1\n');
    writeFileSync(at('mine2.yaml'), 'lvs_auth_pass: mine-2\n');
    expect((await cli('vault', 'encrypt', at('mine.yaml'), '--vault-password-file', pw)).code).toBe(0);
    expect((await cli('vault', 'encrypt', at('mine2.yaml'), '--vault-id', `prod@${pwProd}`)).code).toBe(0);
    expect(readFileSync(at('mine.yaml'), 'utf8')).toMatch(
      /^\$ANSIBLE_VAULT;1\.1;AES256\n([0-9a-f]{80}\n)+[0-9a-f]{1,80}\n$/,
    );
    expect(readFileSync(at('mine2.yaml'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
    expect(av('view', '--vault-password-file', pw, 'mine.yaml')).toBe('lvs_auth_pass: mine-1\n');
    expect(av('view', '--vault-id', `prod@${pwProd}`, 'mine2.yaml')).toBe('lvs_auth_pass: mine-2\n');
  });
  it('a string from lvsrun vault encrypt_string works in ansible', async () => {
    const r = await cli('vault', 'encrypt_string', '--vault-password-file', pw, '-n', 'xs', 'hel"lo {{ x }}: ä');
    expect(r.code).toBe(0);
    writeFileSync(at('adhoc.yaml'), `all:\n  hosts:\n    h:\n      ansible_connection: local\n${indent(r.out, 6)}\n`);
    const out = execFileSync(
      'ansible',
      ['-i', 'adhoc.yaml', 'h', '-m', 'debug', '-a', 'var=xs', '--vault-password-file', pw],
      { cwd: dir, env, encoding: 'utf8' },
    );
    expect(out).toContain('"xs": "hel\\"lo {{ x }}: ä"');
  }, 60_000);
  it('decrypt, rekey and edit keep ansible-vault compatibility', async () => {
    writeFileSync(at('ed.yaml'), 'a: 1\n');
    expect((await cli('vault', 'encrypt', at('ed.yaml'), '--vault-id', `prod@${pwProd}`)).code).toBe(0);
    const editor = at('editor.sh');
    writeFileSync(editor, '#!/bin/sh\necho "b: 2" >> "$1"\n');
    chmodSync(editor, 0o755);
    const old = process.env.EDITOR;
    process.env.EDITOR = editor;
    try {
      expect((await cli('vault', 'edit', at('ed.yaml'), '--vault-id', `prod@${pwProd}`)).code).toBe(0);
    } finally {
      if (old === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = old;
    }
    expect(readFileSync(at('ed.yaml'), 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
    expect(av('view', '--vault-id', `prod@${pwProd}`, 'ed.yaml')).toBe('a: 1\nb: 2\n');
    const rekeyed = await cli(
      'vault',
      'rekey',
      at('ed.yaml'),
      '--vault-id',
      `prod@${pwProd}`,
      '--new-vault-password-file',
      pw,
    );
    expect(rekeyed.code).toBe(0);
    expect(av('view', '--vault-password-file', pw, 'ed.yaml')).toBe('a: 1\nb: 2\n');
    const d = await cli('vault', 'decrypt', at('ed.yaml'), '--output', '-', '--vault-password-file', pw);
    expect(d.out).toBe('a: 1\nb: 2\n');
    const v = await cli('vault', 'view', at('inv/group_vars/directors.yaml'), '--vault-password-file', pw);
    expect(v.out).toBe('lvs_auth_pass: "Vrrp-Pw 1"\nlvs_vrid: 51\n');
  });
});
