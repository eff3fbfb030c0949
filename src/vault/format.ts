import { createCipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Ansible Vault, formats 1.1 and 1.2 with the AES256 cipher: the one module that knows the envelope and the crypto.
 * Envelope: a header line `$ANSIBLE_VAULT;1.1;AES256` (1.2 adds `;label`), then the body in lines of 80 hex digits.
 * Body: hex of `hex(salt) \n hex(hmac) \n hex(ciphertext)`; keys from PBKDF2-SHA256 (10000 rounds, 80 bytes:
 * AES key, HMAC key, counter); AES-256-CTR over PKCS#7-padded plaintext; HMAC-SHA256 over the ciphertext.
 */
export const VAULT_MAGIC = '$ANSIBLE_VAULT';
export const DEFAULT_VAULT_ID = 'default';
/** Vault text larger than this is refused before any work: vars files are small, and hex doubles twice. */
export const MAX_VAULT_TEXT = 32 * 1024 * 1024;
const ITERATIONS = 10000;
const LINE = 80;

export interface Envelope {
  version: '1.1' | '1.2';
  label?: string;
  body: string;
}

/** A format problem; `line` counts from the header line (1). */
export class VaultFormatError extends Error {
  constructor(
    message: string,
    readonly line = 1,
  ) {
    super(message);
  }
}

export function isVaultText(text: string): boolean {
  return text.startsWith(VAULT_MAGIC);
}

export function parseEnvelope(text: string): Envelope {
  if (text.length > MAX_VAULT_TEXT) throw new VaultFormatError(`vault data is larger than ${MAX_VAULT_TEXT >> 20} MiB`);
  const lines = text.split(/\r?\n/);
  const fields = lines[0]!
    .trim()
    .split(';')
    .map((f) => f.trim());
  if (fields[0] !== VAULT_MAGIC) {
    throw new VaultFormatError(`not vault data: the first line must start with ${VAULT_MAGIC};`);
  }
  const [, version, cipher, label, ...extra] = fields;
  if (version !== '1.1' && version !== '1.2') {
    throw new VaultFormatError(`vault format '${printable(version)}' is not supported (only 1.1 and 1.2)`);
  }
  if (cipher !== 'AES256') {
    throw new VaultFormatError(`vault cipher '${printable(cipher)}' is not supported (only AES256)`);
  }
  if (extra.length || (version === '1.1' && label !== undefined)) {
    throw new VaultFormatError(`vault header has extra fields: '${printable(lines[0]!.trim())}'`);
  }
  if (version === '1.2' && !label) throw new VaultFormatError('vault format 1.2 needs a vault id label in the header');
  let body = '';
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!.trim();
    if (!/^[0-9a-fA-F]*$/.test(l)) throw new VaultFormatError('vault body is not hexadecimal', i + 1);
    body += l;
  }
  return { version, ...(label ? { label } : {}), body };
}

export function formatEnvelope(body: string, label?: string): string {
  const header =
    label && label !== DEFAULT_VAULT_ID ? `${VAULT_MAGIC};1.2;AES256;${label}` : `${VAULT_MAGIC};1.1;AES256`;
  const out = [header];
  for (let i = 0; i < body.length; i += LINE) out.push(body.slice(i, i + LINE));
  return `${out.join('\n')}\n`;
}

interface Keys {
  aes: Buffer;
  mac: Buffer;
  ctr: Buffer;
}

function deriveKeys(password: Buffer, salt: Buffer): Keys {
  const k = pbkdf2Sync(password, salt, ITERATIONS, 80, 'sha256');
  return { aes: k.subarray(0, 32), mac: k.subarray(32, 64), ctr: k.subarray(64, 80) };
}

/** Encrypt to a full envelope (1.2 when the label is not `default`), with a fresh random salt every time. */
export function encryptVault(plaintext: Buffer, password: Buffer, label?: string): string {
  if (label !== undefined && !/^[^;\s]+$/.test(label)) {
    throw new VaultFormatError(`bad vault id label '${printable(label)}'`);
  }
  const salt = randomBytes(32);
  const keys = deriveKeys(password, salt);
  const pad = 16 - (plaintext.length % 16);
  const padded = Buffer.concat([plaintext, Buffer.alloc(pad, pad)]);
  const c = createCipheriv('aes-256-ctr', keys.aes, keys.ctr);
  const ciphertext = Buffer.concat([c.update(padded), c.final()]);
  const mac = createHmac('sha256', keys.mac).update(ciphertext).digest();
  const inner = [salt.toString('hex'), mac.toString('hex'), ciphertext.toString('hex')].join('\n');
  return formatEnvelope(Buffer.from(inner, 'latin1').toString('hex'), label);
}

/**
 * Decrypt an envelope's body. Returns undefined when the HMAC does not match (wrong password, or changed data);
 * throws VaultFormatError when the body is not a vault body at all.
 */
export function decryptBody(env: Envelope, password: Buffer): Buffer | undefined {
  const parts = splitBody(env.body);
  const keys = deriveKeys(password, parts.salt);
  const mac = createHmac('sha256', keys.mac).update(parts.ciphertext).digest();
  if (parts.mac.length !== mac.length || !timingSafeEqual(parts.mac, mac)) return undefined;
  const d = createCipheriv('aes-256-ctr', keys.aes, keys.ctr);
  const padded = Buffer.concat([d.update(parts.ciphertext), d.final()]);
  const pad = padded.at(-1) ?? 0;
  if (pad < 1 || pad > 16 || pad > padded.length || !padded.subarray(padded.length - pad).every((b) => b === pad)) {
    throw new VaultFormatError('vault data has bad padding after a matching HMAC (not written by a vault tool)');
  }
  return padded.subarray(0, padded.length - pad);
}

function splitBody(body: string): { salt: Buffer; mac: Buffer; ciphertext: Buffer } {
  if (!body.length || body.length % 2) {
    throw new VaultFormatError('vault body is truncated (odd or zero number of hex digits)');
  }
  const inner = Buffer.from(body, 'hex').toString('latin1').split('\n');
  if (inner.length !== 3) throw new VaultFormatError('vault body is damaged: expected salt, HMAC and ciphertext');
  const [salt, mac, ct] = inner as [string, string, string];
  for (const [name, h] of [
    ['salt', salt],
    ['HMAC', mac],
    ['ciphertext', ct],
  ] as const) {
    if (!h.length || h.length % 2 || !/^[0-9a-fA-F]+$/.test(h)) {
      throw new VaultFormatError(`vault ${name} is not valid hexadecimal`);
    }
  }
  const ciphertext = Buffer.from(ct, 'hex');
  if (ciphertext.length % 16) throw new VaultFormatError('vault ciphertext is truncated (not whole AES blocks)');
  if (mac.length !== 64) throw new VaultFormatError('vault HMAC has the wrong length');
  return { salt: Buffer.from(salt, 'hex'), mac: Buffer.from(mac, 'hex'), ciphertext };
}

/** Header text shown in errors: printable ASCII only, and short. */
function printable(s: string | undefined): string {
  return (s ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}
