import { VaultKeyring } from '../vault/keyring.js';
import { loadVaultSecrets } from '../vault/secrets.js';
import type { Io } from './io.js';
import { terminalPrompt } from './prompt.js';
import type { OptionDefs } from './spec.js';

/**
 * The vault options (Ansible's names) of every command that reads inventories or playbooks, and of
 * `lvsrun vault`: defined once here, spread into each command's definition.
 */
export const VAULT_OPTIONS = {
  'vault-password-file': {
    type: 'string',
    multiple: true,
    arg: 'FILE',
    help: "the vault password: FILE's content, or its output if executable; also $ANSIBLE_VAULT_PASSWORD_FILE",
  },
  'vault-id': {
    type: 'string',
    multiple: true,
    arg: 'LABEL@SOURCE',
    help: 'a labelled vault password; SOURCE is a file, an executable or prompt',
  },
  'ask-vault-pass': { type: 'boolean', short: 'J', help: 'ask for the vault password on the terminal (no echo)' },
} as const satisfies OptionDefs;

export interface VaultArgs {
  'vault-password-file'?: string[];
  'vault-id'?: string[];
  'ask-vault-pass'?: boolean;
}

/** The keyring for one command; `confirm` asks typed passwords twice (when they will encrypt). */
export async function vaultKeyring(v: VaultArgs, io: Io, confirm = false): Promise<VaultKeyring> {
  const prompt = terminalPrompt();
  const secrets = await loadVaultSecrets(
    {
      passwordFiles: v['vault-password-file'] ?? [],
      ids: v['vault-id'] ?? [],
      ask: Boolean(v['ask-vault-pass']),
    },
    { cwd: io.cwd, env: io.env, ...(prompt ? { prompt } : {}) },
    confirm,
  );
  return new VaultKeyring(secrets);
}
