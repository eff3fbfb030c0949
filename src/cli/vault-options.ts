import { VaultKeyring } from '../vault/keyring.js';
import { loadVaultSecrets } from '../vault/secrets.js';
import type { Io } from './io.js';
import { terminalPrompt } from './prompt.js';

/** The values of VAULT_OPTIONS (spec.ts) as a command parsed them. */
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
