import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { DEFAULT_VAULT_ID } from './format.js';
import type { VaultSecret } from './keyring.js';

/** Where the passwords come from, as given on the command line (Ansible's options and environment variable). */
export interface VaultSources {
  passwordFiles: readonly string[];
  /** `LABEL@SOURCE` or `SOURCE`; SOURCE is a file, an executable, or `prompt`. */
  ids: readonly string[];
  ask: boolean;
}

export interface SecretIo {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Reads one line from the terminal without echo; absent when there is no terminal. */
  prompt?: (question: string) => Promise<string>;
}

const MAX_PASSWORD_FILE = 1024 * 1024;

/**
 * Passwords in Ansible's order: each --vault-id, then each --vault-password-file and ANSIBLE_VAULT_PASSWORD_FILE,
 * then --ask-vault-pass. `confirm` (when creating vault data) asks every prompt twice.
 */
export async function loadVaultSecrets(src: VaultSources, io: SecretIo, confirm = false): Promise<VaultSecret[]> {
  const slugs = [...src.ids];
  const envFile = io.env.ANSIBLE_VAULT_PASSWORD_FILE;
  for (const f of [...src.passwordFiles, ...(envFile ? [envFile] : [])]) slugs.push(`${DEFAULT_VAULT_ID}@${f}`);
  if (src.ask) slugs.push(`${DEFAULT_VAULT_ID}@prompt`);
  const out: VaultSecret[] = [];
  for (const slug of slugs) {
    const at = slug.indexOf('@');
    const id = (at >= 0 ? slug.slice(0, at) : '') || DEFAULT_VAULT_ID;
    const source = at >= 0 ? slug.slice(at + 1) : slug;
    if (!source) {
      throw new ConfigError('E_USAGE', `--vault-id '${slug}' has no source`, {
        hint: 'write LABEL@FILE or LABEL@prompt',
      });
    }
    if (/[;\s]/.test(id)) throw new ConfigError('E_USAGE', `vault id label '${id}' may not hold ';' or spaces`);
    const password = source === 'prompt' ? await ask(id, io, confirm) : fromFile(resolve(io.cwd, source), id);
    out.push({ id, password, source: source === 'prompt' ? 'prompt' : source });
  }
  return out;
}

async function ask(id: string, io: SecretIo, confirm: boolean): Promise<Buffer> {
  if (!io.prompt) {
    throw new ConfigError('E_USAGE', 'asking for the vault password needs a terminal', {
      hint: 'pass --vault-password-file FILE or --vault-id LABEL@FILE instead',
    });
  }
  const q = id === DEFAULT_VAULT_ID ? 'Vault password' : `Vault password (${id})`;
  const first = (await io.prompt(`${confirm ? 'New ' : ''}${q}: `)).trim();
  if (confirm && (await io.prompt(`Confirm new ${q.toLowerCase()}: `)).trim() !== first) {
    throw new ConfigError('E_USAGE', 'the two vault passwords differ');
  }
  return nonEmpty(Buffer.from(first, 'utf8'), 'the vault password typed is empty', 'prompt');
}

/** A password file's content, or the output of an executable one (`*-client` scripts get `--vault-id LABEL`). */
function fromFile(path: string, id: string): Buffer {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError('E_VAULT', `vault password file not found (vault id '${id}'): ${code}`, {
      where: { file: path },
    });
  }
  if (!st.isFile()) {
    throw new ConfigError('E_VAULT', `vault password file is not a regular file (vault id '${id}')`, {
      where: { file: path },
    });
  }
  if (isExecutable(path)) return fromScript(path, id);
  if (st.size > MAX_PASSWORD_FILE) {
    throw new ConfigError('E_VAULT', 'vault password file is larger than 1 MiB', { where: { file: path } });
  }
  const buf = Buffer.alloc(st.size);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  return nonEmpty(trimBytes(buf), `vault password file is empty (vault id '${id}')`, path);
}

function fromScript(path: string, id: string): Buffer {
  const client = basename(path, extname(path)).endsWith('-client');
  // stdin and (for plain scripts) stderr stay on the terminal, so a script may ask the user itself.
  const r = spawnSync(path, client ? ['--vault-id', id] : [], {
    stdio: ['inherit', 'pipe', client ? 'pipe' : 'inherit'],
    maxBuffer: MAX_PASSWORD_FILE,
  });
  if (r.error) {
    throw new ConfigError('E_VAULT', `cannot run vault password script (vault id '${id}'): ${r.error.message}`, {
      where: { file: path },
      hint: 'if it is not a script, remove its executable bit',
    });
  }
  if (r.status !== 0) {
    const why = client && r.status === 2 ? `it knows no password for vault id '${id}'` : `exit ${r.status ?? r.signal}`;
    throw new ConfigError('E_VAULT', `vault password script failed (vault id '${id}'): ${why}`, {
      where: { file: path },
    });
  }
  return nonEmpty(trimBytes(r.stdout, /[\r\n]/), `vault password script printed nothing (vault id '${id}')`, path);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Like Ansible: surrounding whitespace is not part of a file's password; only line ends around a script's. */
function trimBytes(b: Buffer, strip = /\s/): Buffer {
  let s = 0;
  let e = b.length;
  while (s < e && strip.test(String.fromCharCode(b[s]!))) s++;
  while (e > s && strip.test(String.fromCharCode(b[e - 1]!))) e--;
  return b.subarray(s, e);
}

function nonEmpty(b: Buffer, msg: string, file: string): Buffer {
  if (!b.length) throw new ConfigError('E_VAULT', msg, { where: { file } });
  return b;
}
