import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_VAULT_TEXT, decryptBody, encryptVault, parseEnvelope } from '../../src/vault/format.js';
import { MAX_YAML_BYTES } from '../../src/yaml/source.js';
import { cli } from '../integration/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsrun-vault-hostile-'));
const pw = join(dir, 'pw');
writeFileSync(pw, 'pw-1\n');
const good = encryptVault(Buffer.from('lvs_auth_pass: abcdefgh\n'), Buffer.from('pw-1'));
const lines = good.trimEnd().split('\n');
let n = 0;

/** An inventory whose group_vars/all file holds `vaultText`; returns the lvsrun result for `inventory --host h`. */
async function withGroupVars(vaultText: string): Promise<{ code: number; out: string; err: string; file: string }> {
  const d = join(dir, `inv${n++}`);
  mkdirSync(join(d, 'group_vars'), { recursive: true });
  writeFileSync(join(d, 'hosts.yaml'), 'all:\n  hosts:\n    h: {}\n');
  const file = join(d, 'group_vars', 'all.yaml');
  writeFileSync(file, vaultText);
  const r = await cli('inventory', '-i', join(d, 'hosts.yaml'), '--host', 'h', '--vault-password-file', pw);
  return { ...r, file };
}

const noStack = (err: string): void => {
  expect(err).not.toMatch(/\n\s+at |internal error|TypeError|RangeError/);
  expect(err).not.toContain(lines[1]!.slice(0, 40));
};

describe('damaged or hostile vault data: exit 1 with file:line and the vault id, never a stack trace', () => {
  it('a truncated file', async () => {
    const r = await withGroupVars(`${lines.slice(0, 3).join('\n')}\n`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error[E_VAULT] ${r.file}:1: damaged vault data (vault id 'default'):`);
    noStack(r.err);
  });
  it('a file cut in the middle of a line (odd hex digits)', async () => {
    const r = await withGroupVars(`${lines.slice(0, 3).join('\n')}\n${lines[3]!.slice(0, 7)}\n`);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /error\[E_VAULT\] .*all\.yaml:1: damaged vault data \(vault id 'default'\): vault body is truncated/,
    );
    noStack(r.err);
  });
  it('bad hex on line 3', async () => {
    const bad = [...lines];
    bad[2] = `${bad[2]!.slice(0, 10)}zz${bad[2]!.slice(12)}`;
    const r = await withGroupVars(`${bad.join('\n')}\n`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `error[E_VAULT] ${r.file}:3: damaged vault data (vault id 'default'): vault body is not hexadecimal`,
    );
    noStack(r.err);
  });
  it('a changed HMAC is refused like a wrong password (constant-time compare, nothing decrypted)', async () => {
    // The body is hex of "hex(salt)\nhex(hmac)\nhex(ct)"; flip one hex digit of the HMAC part (after the first 0a).
    const body = lines.slice(1).join('');
    const i = body.indexOf('0a') + 2;
    const flipped = body.slice(0, i) + (body.slice(i, i + 2) === '61' ? '62' : '61') + body.slice(i + 2);
    const r = await withGroupVars(`${lines[0]}\n${flipped.match(/.{1,80}/g)!.join('\n')}\n`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `error[E_VAULT] ${r.file}:1: cannot decrypt (vault id 'default'): ` + 'wrong password, or the data was changed',
    );
    noStack(r.err);
  });
  it('a huge file is refused before any work', async () => {
    const huge = `${lines[0]}\n${'61'.repeat(MAX_VAULT_TEXT / 2 + 8)}\n`;
    const t0 = Date.now();
    const r = await withGroupVars(huge);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `error[E_VAULT] ${r.file}:1: damaged vault data (vault id 'default'): ` + 'vault data is larger than 32 MiB',
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
  it('the YAML size limit holds on the plaintext of an encrypted file, not on its (4x larger) ciphertext', async () => {
    const yamlOf = (n: number): string => `big: "${'a'.repeat(n - 8)}"\n`;
    const fits = await withGroupVars(encryptVault(Buffer.from(yamlOf(600_000)), Buffer.from('pw-1')));
    expect(fits.err).toBe('');
    expect(JSON.parse(fits.out)).toEqual({ big: '********' });
    const over = await withGroupVars(encryptVault(Buffer.from(yamlOf(MAX_YAML_BYTES + 1)), Buffer.from('pw-1')));
    expect(over.code).toBe(1);
    expect(over.err).toContain(`error[E_YAML] ${over.file}: ${over.file} is ${MAX_YAML_BYTES + 1} characters long`);
    noStack(over.err);
  });
  it('a header with extra fields, an unknown version or cipher', async () => {
    for (const [header, msg] of [
      ['$ANSIBLE_VAULT;1.2;AES256;prod;extra', 'vault header has extra fields'],
      ['$ANSIBLE_VAULT;1.1;AES256;prod', 'vault header has extra fields'],
      ['$ANSIBLE_VAULT;1.0;AES', "vault format '1.0' is not supported"],
      ['$ANSIBLE_VAULT;1.1;AES128', "vault cipher 'AES128' is not supported"],
      ['$ANSIBLE_VAULT;1.2;AES256', 'vault format 1.2 needs a vault id label'],
    ] as const) {
      const r = await withGroupVars(`${header}\n${lines.slice(1).join('\n')}\n`);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        new RegExp(
          "error\\[E_VAULT\\] .*all\\.yaml:1: damaged vault data \\(vault id '[^']*'\\): " +
            msg.replace(/[.()]/g, '\\$&'),
        ),
      );
      noStack(r.err);
    }
  });
  it('a !vault value that is not an encrypted string (mapping, list, number, plain text)', async () => {
    const cases = [
      ['!vault {a: 1}', 2],
      ['!vault [1, 2]', 2],
      ['!vault 12345', 2],
      ['!vault "hello"', 2],
    ] as const;
    for (const [value, line] of cases) {
      const f = join(dir, `inl${n++}.yaml`);
      writeFileSync(f, `all:\n  vars: {x: ${value}}\n  hosts: {h: {}}\n`);
      const r = await cli('inventory', '-i', f, '--host', 'h', '--vault-password-file', pw);
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `error[E_VAULT] ${f}:${line} (all.vars.x): a !vault value must be a string of vault-encrypted text`,
      );
      noStack(r.err);
    }
  });
  it('inline vault under prototype-named keys decrypts as data, not code', async () => {
    const f = join(dir, `proto${n++}.yaml`);
    const body = good
      .trimEnd()
      .split('\n')
      .map((l) => `        ${l}`)
      .join('\n');
    writeFileSync(
      f,
      `all:\n  hosts:\n    h:\n      toString: !vault |\n${body}\n` +
        `      __proto__: !vault |\n${body}\n      constructor: ok\n`,
    );
    const r = await cli('inventory', '-i', f, '--host', 'h', '--vault-password-file', pw);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // __proto__ is a variable like any other (kept as data, its decrypted value masked), never a prototype.
    const vars = JSON.parse(r.out) as Record<string, unknown>;
    expect(vars).toEqual(JSON.parse('{"toString": "********", "__proto__": "********", "constructor": "ok"}'));
    expect(Object.getPrototypeOf(vars)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).toString).toBe(Object.prototype.toString);
  });
});

describe('vault-decrypted connection passwords are never shown', () => {
  it('a run refuses a become password of two lines (exit 1, before any host) without printing it', async () => {
    const d = join(dir, `conn${n++}`);
    mkdirSync(join(d, 'host_vars'), { recursive: true });
    writeFileSync(join(d, 'hosts.yaml'), 'all:\n  hosts:\n    h: {ansible_host: 127.0.0.1}\n');
    const yaml = 'ansible_become_password: "Sudo-Line1\\nSudo-Line2"\nansible_password: "Ssh\\u0000Pw"\n';
    writeFileSync(join(d, 'host_vars', 'h.yaml'), encryptVault(Buffer.from(yaml), Buffer.from('pw-1')));
    writeFileSync(join(d, 'site.yaml'), '- hosts: all\n  tasks:\n    - debug: {msg: hi}\n');
    const r = await cli(join(d, 'site.yaml'), '-i', join(d, 'hosts.yaml'), '--vault-password-file', pw);
    expect(r.code).toBe(1);
    expect(r.err).toContain('ansible_become_password must be one line');
    expect(r.err).toContain('ansible_password must not contain a NUL byte');
    expect(r.out + r.err).not.toMatch(/Sudo-Line|Ssh/);
    noStack(r.err);
  });
});

describe('vault format', () => {
  it('round-trips any bytes and label; a fresh salt each time; 80-column lines; wrong password gives nothing', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.constantFrom(undefined, 'default', 'prod', 'x_1'),
        (data, pass, label) => {
          const a = encryptVault(Buffer.from(data), Buffer.from(pass), label);
          const b = encryptVault(Buffer.from(data), Buffer.from(pass), label);
          expect(a).not.toBe(b);
          const env = parseEnvelope(a);
          expect(env.version).toBe(label && label !== 'default' ? '1.2' : '1.1');
          expect(
            a
              .split('\n')
              .slice(1, -2)
              .every((l) => l.length === 80),
          ).toBe(true);
          expect(decryptBody(env, Buffer.from(pass))!.equals(Buffer.from(data))).toBe(true);
          expect(decryptBody(env, Buffer.from(`${pass}x`))).toBeUndefined();
        },
      ),
      { numRuns: 25 },
    );
  });
});
