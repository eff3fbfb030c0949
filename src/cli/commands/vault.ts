import { spawnSync } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { MAX_VAULT_TEXT, isVaultText } from '../../vault/format.js';
import { VaultKeyring } from '../../vault/keyring.js';
import { loadVaultSecrets } from '../../vault/secrets.js';
import { EXIT } from '../../exit-codes.js';
import type { Io } from '../io.js';
import { terminalPrompt } from '../prompt.js';
import { parseCommand, type CommandDef } from '../spec.js';
import {
  VAULT_DECRYPT_CMD,
  VAULT_EDIT_CMD,
  VAULT_ENCRYPT_CMD,
  VAULT_ENCRYPT_STRING_CMD,
  VAULT_REKEY_CMD,
  VAULT_VIEW_CMD,
} from '../command-defs.js';
import { vaultKeyring, type VaultArgs } from '../vault-options.js';

// lvsrun vault ACTION: the same files and strings as ansible-vault, in both directions (one definition per
// action in command-defs.ts). As with ansible-vault, an action given no password option asks on the terminal
// (twice when it encrypts).

/** The FILE arguments as paths; usage errors come before any password is asked. */
function inputFiles(def: CommandDef, files: readonly string[], io: Io, output?: string): string[] {
  if (!files.length) {
    throw new ConfigError('E_USAGE', `lvsrun ${def.name} needs a FILE`, { hint: `lvsrun ${def.name} --help` });
  }
  if (output !== undefined && files.length > 1) throw new ConfigError('E_USAGE', '--output takes one input file');
  return files.map((f) => resolve(io.cwd, f));
}

/** Like ansible-vault: with no password source given, ask on the terminal; `creates` asks twice. */
function keyring(v: VaultArgs, io: Io, creates: boolean): Promise<VaultKeyring> {
  const none = !v['vault-password-file']?.length && !v['vault-id']?.length && !io.env.ANSIBLE_VAULT_PASSWORD_FILE;
  return vaultKeyring({ ...v, 'ask-vault-pass': Boolean(v['ask-vault-pass']) || none }, io, creates);
}

const outputTarget = (output: string | undefined, io: Io): string | undefined =>
  output === undefined ? undefined : output === '-' ? '-' : resolve(io.cwd, output);

export async function vaultEncryptCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(VAULT_ENCRYPT_CMD, argv);
  const paths = inputFiles(VAULT_ENCRYPT_CMD, positionals, io, v.output);
  const vault = await keyring(v, io, true);
  const secret = vault.encryptSecret(v['encrypt-vault-id']);
  const out = outputTarget(v.output, io);
  for (const p of paths) {
    const data = readInput(p);
    if (isVaultText(data.toString('latin1'))) {
      throw new ConfigError('E_VAULT', 'already vault-encrypted', { where: { file: p } });
    }
    emit(vault.encrypt(data, secret), out ?? p, io);
  }
  io.err('Encryption successful\n');
  return EXIT.OK;
}

export async function vaultDecryptCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(VAULT_DECRYPT_CMD, argv);
  const paths = inputFiles(VAULT_DECRYPT_CMD, positionals, io, v.output);
  const vault = await keyring(v, io, false);
  const out = outputTarget(v.output, io);
  for (const p of paths) emit(vault.open(readVault(p), { file: p }).plaintext, out ?? p, io);
  io.err('Decryption successful\n');
  return EXIT.OK;
}

export async function vaultViewCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(VAULT_VIEW_CMD, argv);
  const paths = inputFiles(VAULT_VIEW_CMD, positionals, io);
  const vault = await keyring(v, io, false);
  for (const p of paths) io.out(vault.open(readVault(p), { file: p }).plaintext.toString('utf8'));
  return EXIT.OK;
}

export async function vaultEditCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(VAULT_EDIT_CMD, argv);
  const paths = inputFiles(VAULT_EDIT_CMD, positionals, io);
  return edit(paths, await keyring(v, io, false), io);
}

export async function vaultEncryptStringCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(VAULT_ENCRYPT_STRING_CMD, argv);
  return encryptString(positionals, await keyring(v, io, true), io, v);
}

export async function vaultRekeyCommand(argv: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parseCommand(VAULT_REKEY_CMD, argv);
  const paths = inputFiles(VAULT_REKEY_CMD, positionals, io);
  return rekey(paths, await keyring(v, io, false), io, v);
}

function readInput(p: string): Buffer {
  try {
    if (statSync(p).size > MAX_VAULT_TEXT) {
      throw new ConfigError('E_VAULT', `larger than ${MAX_VAULT_TEXT >> 20} MiB`, { where: { file: p } });
    }
    return readFileSync(p);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError('E_CONFIG', `cannot read: ${code}`, { where: { file: p } });
  }
}

function readVault(p: string): string {
  const text = readInput(p).toString('utf8');
  if (!isVaultText(text)) {
    throw new ConfigError('E_VAULT', 'not vault-encrypted (it does not start with $ANSIBLE_VAULT;)', {
      where: { file: p, line: 1 },
      hint: 'encrypt it with lvsrun vault encrypt',
    });
  }
  return text;
}

function emit(data: Buffer | string, target: string, io: Io): void {
  if (target === '-') io.out(typeof data === 'string' ? data : data.toString('utf8'));
  else writeAtomic(target, data);
}

/** Write beside the target, then rename: a crash leaves the old file or the new one, never half of either. */
function writeAtomic(target: string, data: Buffer | string): void {
  let mode = 0o600;
  try {
    mode = statSync(target).mode & 0o7777;
  } catch {
    /* a new file: owner-only */
  }
  const tmp = join(dirname(target), `.${basename(target)}.lvsrun-${process.pid}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, target);
}

async function edit(paths: string[], vault: VaultKeyring, io: Io): Promise<number> {
  const editor = splitWords(io.env.EDITOR || 'vi');
  for (const p of paths) {
    const opened = vault.open(readVault(p), { file: p });
    // The plaintext lives only in a private folder (0700, file 0600), wiped and removed afterwards.
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-vault-'));
    const tmp = join(dir, `plain${extname(p)}`);
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      writeSync(fd, opened.plaintext);
      closeSync(fd);
      const r = spawnSync(editor[0]!, [...editor.slice(1), tmp], { stdio: 'inherit' });
      if (r.error || r.status !== 0) {
        const why = r.error?.message ?? `exit ${r.status ?? r.signal}`;
        throw new ConfigError('E_USAGE', `editor '${editor.join(' ')}' failed (${why})`, {
          where: { file: p },
          hint: 'the vault file was not changed; set EDITOR to a working editor',
        });
      }
      const after = readFileSync(tmp);
      if (after.equals(opened.plaintext)) io.err(`${p}: unchanged, not rewritten\n`);
      else writeAtomic(p, vault.encrypt(after, opened.secret));
    } finally {
      try {
        const size = statSync(tmp).size;
        const fd = openSync(tmp, 'r+');
        writeSync(fd, Buffer.alloc(size));
        closeSync(fd);
      } catch {
        /* nothing to wipe */
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return EXIT.OK;
}

async function rekey(
  paths: string[],
  vault: VaultKeyring,
  io: Io,
  v: { 'new-vault-password-file'?: string; 'new-vault-id'?: string },
): Promise<number> {
  const newFile = v['new-vault-password-file'];
  const newId = v['new-vault-id'];
  const prompt = terminalPrompt();
  const sources = { passwordFiles: newFile ? [newFile] : [], ids: newId ? [newId] : [], ask: !newFile && !newId };
  const secrets = await loadVaultSecrets(sources, { cwd: io.cwd, env: {}, ...(prompt ? { prompt } : {}) }, true);
  const secret = secrets[0]!;
  for (const p of paths) {
    const opened = vault.open(readVault(p), { file: p });
    writeAtomic(p, vault.encrypt(opened.plaintext, secret));
  }
  io.err('Rekey successful\n');
  return EXIT.OK;
}

async function encryptString(
  args: string[],
  vault: VaultKeyring,
  io: Io,
  v: { 'encrypt-vault-id'?: string; name?: string[]; 'stdin-name'?: string },
): Promise<number> {
  const secret = vault.encryptSecret(v['encrypt-vault-id']);
  const names = v.name ?? [];
  const stdinName = v['stdin-name'];
  const items: Array<{ name?: string; value: string }> = args.map((value, i) => ({
    ...(names[i] ? { name: names[i] } : {}),
    value,
  }));
  if (!args.length) {
    const value = await readStdin();
    items.push({ ...((stdinName ?? names[0]) ? { name: (stdinName ?? names[0])! } : {}), value });
  }
  for (const it of items) {
    if (it.name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(it.name)) {
      throw new ConfigError('E_USAGE', `--name '${it.name}' is not a variable name`, {
        hint: 'letters, digits and _, not starting with a digit',
      });
    }
    const lines = vault.encrypt(Buffer.from(it.value, 'utf8'), secret).trimEnd().split('\n');
    const body = lines.map((l) => `          ${l}`).join('\n');
    io.out(`${it.name === undefined ? '' : `${it.name}: `}!vault |\n${body}\n`);
  }
  io.err('Encryption successful\n');
  return EXIT.OK;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_VAULT_TEXT) {
      throw new ConfigError('E_USAGE', `standard input is larger than ${MAX_VAULT_TEXT >> 20} MiB`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** EDITOR may hold arguments (`code --wait`); quotes group words, as a shell would. */
function splitWords(s: string): string[] {
  const out = s.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g)?.map((w) => w.replace(/(["'])(.*?)\1/g, '$2')) ?? [];
  if (!out.length) throw new ConfigError('E_USAGE', 'EDITOR is empty');
  return out;
}
