import { ConfigError, type Where } from '../errors.js';
import { DEFAULT_VAULT_ID, VaultFormatError, decryptBody, encryptVault, parseEnvelope } from './format.js';

/** One vault password and where it came from (`--vault-id LABEL@SOURCE`; LABEL is `default` when not given). */
export interface VaultSecret {
  id: string;
  password: Buffer;
  source: string;
}

export interface Opened {
  plaintext: Buffer;
  id: string;
  secret: VaultSecret;
}

const NO_PASSWORD_HINT =
  'pass --vault-password-file FILE, --vault-id LABEL@FILE, --ask-vault-pass, or set ANSIBLE_VAULT_PASSWORD_FILE';

/**
 * The vault passwords of one command, passed explicitly to every loader. It also remembers every plaintext it
 * revealed, so the redactor can treat all of them as secrets.
 */
export class VaultKeyring {
  private readonly shown = new Set<string>();
  constructor(readonly secrets: readonly VaultSecret[]) {}

  /** Plaintexts revealed so far (decrypted values, and every scalar of a decrypted file). */
  revealed(): ReadonlySet<string> {
    return this.shown;
  }

  markSecret(value: string): void {
    this.shown.add(value);
  }

  /** Decrypt vault text found at `where`. Errors name the file, line and vault id, never the data. */
  open(text: string, where: Where & { file: string }): Opened {
    const line = where.line ?? 1;
    let env;
    try {
      env = parseEnvelope(text);
    } catch (e) {
      throw formatError(e, where, line, headerLabel(text));
    }
    const id = env.label ?? DEFAULT_VAULT_ID;
    if (!this.secrets.length) {
      throw new ConfigError('E_VAULT', `vault-encrypted data (vault id '${id}') but no vault password was given`, {
        where: { ...where, line },
        hint: NO_PASSWORD_HINT,
      });
    }
    // Ansible's order: secrets whose label matches the header's vault id first, then all the others.
    const ordered = [...this.secrets.filter((s) => s.id === id), ...this.secrets.filter((s) => s.id !== id)];
    for (const secret of ordered) {
      let plain: Buffer | undefined;
      try {
        plain = decryptBody(env, secret.password);
      } catch (e) {
        throw formatError(e, where, line, id);
      }
      if (plain) return { plaintext: plain, id: secret.id, secret };
    }
    const tried = ordered.map((s) => `${s.id} (${s.source})`).join(', ');
    throw new ConfigError('E_VAULT', `cannot decrypt (vault id '${id}'): wrong password, or the data was changed`, {
      where: { ...where, line },
      hint: `tried vault id ${tried}; check the password or pass --vault-id ${id}@SOURCE`,
    });
  }

  /** Decrypt to text; a plaintext that is not UTF-8 is an error (YAML and variables are text). */
  openText(text: string, where: Where & { file: string }): string {
    const { plaintext, id } = this.open(text, where);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
    } catch {
      throw new ConfigError('E_VAULT', `decrypted vault data (vault id '${id}') is not UTF-8 text`, { where });
    }
  }

  /** The secret to encrypt with: the one labelled `encryptId`, else the only one. */
  encryptSecret(encryptId?: string): VaultSecret {
    if (encryptId !== undefined) {
      const s = this.secrets.find((x) => x.id === encryptId);
      if (!s) {
        throw new ConfigError('E_USAGE', `no vault password with vault id '${encryptId}'`, {
          hint: `known vault ids: ${this.secrets.map((x) => x.id).join(', ') || 'none'}`,
        });
      }
      return s;
    }
    if (this.secrets.length === 1) return this.secrets[0]!;
    if (!this.secrets.length) {
      throw new ConfigError('E_USAGE', 'no vault password to encrypt with', { hint: NO_PASSWORD_HINT });
    }
    throw new ConfigError('E_USAGE', `several vault ids (${this.secrets.map((x) => x.id).join(', ')}) could encrypt`, {
      hint: 'choose one with --encrypt-vault-id LABEL',
    });
  }

  encrypt(plaintext: Buffer, secret: VaultSecret): string {
    return encryptVault(plaintext, secret.password, secret.id);
  }
}

function formatError(e: unknown, where: Where & { file: string }, line: number, id: string): unknown {
  if (!(e instanceof VaultFormatError)) return e;
  return new ConfigError('E_VAULT', `damaged vault data (vault id '${id}'): ${e.message}`, {
    where: { ...where, line: line + e.line - 1 },
    hint: 'the file or value was cut or edited by hand; restore it from version control or encrypt it again',
  });
}

/** The label of a header that failed to parse, for the error message only. */
function headerLabel(text: string): string {
  const f = text.slice(0, 200).split(/\r?\n/)[0]!.split(';');
  const label = f[3]
    ?.trim()
    .replace(/[^\x21-\x7e]/g, '?')
    .slice(0, 40);
  return label || DEFAULT_VAULT_ID;
}
