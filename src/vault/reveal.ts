import { ConfigError } from '../errors.js';
import { isVaultText } from './format.js';
import { VaultKeyring } from './keyring.js';

type Path = ReadonlyArray<string | number>;

/** What YAML's `!vault` tag parses to, before decryption; `text` is null when the tagged node is not a string. */
export class VaultCiphertext {
  constructor(readonly text: string | null) {}
}

/** What YAML's `!secret` tag parses to: a plain value that output must hide like a vault value. */
export class SecretScalar {
  constructor(readonly text: string) {}
}

/** A whole file encrypted by vault is decrypted before parsing; other text passes through. */
export function openVaultText(text: string, file: string, vault?: VaultKeyring): { text: string; whole: boolean } {
  if (!isVaultText(text)) return { text, whole: false };
  return { text: keyringFor(vault).openText(text, { file, line: 1 }), whole: true };
}

export interface RevealCtx {
  file: string;
  pos: (path: Path) => { line: number } | undefined;
  vault?: VaultKeyring;
  /** The data came from a decrypted file: every value in it is a secret. */
  whole: boolean;
}

/** Replace every `!vault` value in parsed data by its plaintext (in place); errors name file, line and field. */
export function revealVault(data: unknown, ctx: RevealCtx): unknown {
  const seen = new Set<object>();
  const done = new Map<VaultCiphertext, string>();
  const visit = (v: unknown, path: Path): unknown => {
    if (v instanceof VaultCiphertext) {
      let plain = done.get(v);
      if (plain === undefined) done.set(v, (plain = openInline(v, path, ctx)));
      return plain;
    }
    if (v instanceof SecretScalar) {
      keyringFor(ctx.vault).markSecret(v.text);
      return v.text;
    }
    if (ctx.whole && ctx.vault && (typeof v === 'string' || typeof v === 'number')) ctx.vault.markSecret(String(v));
    if (typeof v !== 'object' || v === null || seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = visit(v[i], [...path, i]);
      return v;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const nv = visit(o[k], [...path, k]);
      // defineProperty: a key named __proto__ stays an own data property.
      if (nv !== o[k]) Object.defineProperty(o, k, { value: nv, writable: true, enumerable: true, configurable: true });
    }
    return o;
  };
  return visit(data, []);
}

function openInline(v: VaultCiphertext, path: Path, ctx: RevealCtx): string {
  const line = ctx.pos(path)?.line ?? 1;
  const where = { file: ctx.file, line, ...(path.length ? { field: path.join('.') } : {}) };
  const text = v.text?.trimStart();
  if (text === undefined || !isVaultText(text)) {
    const what =
      'a !vault value must be a string of vault-encrypted text' +
      (text === undefined ? '' : ' starting with $ANSIBLE_VAULT');
    throw new ConfigError('E_VAULT', what, {
      where,
      hint:
        'make one with `lvsrun vault encrypt_string` (or ansible-vault encrypt_string) ' +
        'and paste it after `!vault |`',
    });
  }
  const vault = keyringFor(ctx.vault);
  const plain = vault.openText(text, where);
  vault.markSecret(plain);
  return plain;
}

/** Without passwords the keyring is empty and opening fails: never the ciphertext used as a value. */
function keyringFor(vault: VaultKeyring | undefined): VaultKeyring {
  return vault ?? new VaultKeyring([]);
}
