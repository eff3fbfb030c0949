import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptVault } from '../vault/format.js';
import { run } from './sys.js';

/**
 * The production login path of the lab: on every namespace host an unprivileged user whose sudo
 * asks for a password, and a second segment (10.79.0.0/16, bridge lvslab1) that the machine cannot
 * reach: only the bastion, on both segments, forwards to it.
 */
export const LAB_USER = 'lvslab-op';
export const MGMT_BRIDGE = 'lvslab1';
export const MGMT_SUBNET = '10.79.0.0/16';
export const BASTION = { name: 'bastion', group: 'bastions', addr: '10.77.4.1' } as const;

/** A host's address on the second segment: the same last two numbers as on the first. */
export const mgmtAddr = (addr: string): string => addr.replace(/^10\.77\./, '10.79.');

/**
 * Run by a host's init inside its overlay, before sshd starts: the user, its password (a hash, read
 * from a file: the password itself is never on a lab host) and its sudo rule.
 */
export const LOGIN_SETUP = `#!/bin/sh
set -eu
id -u ${LAB_USER} >/dev/null 2>&1 || useradd -m -s /bin/sh ${LAB_USER}
chpasswd -e < /etc/lvsrun-lab/op-shadow
printf '%s\\n' '${LAB_USER} ALL=(ALL:ALL) ALL' > /etc/sudoers.d/lvsrun-lab
chmod 0440 /etc/sudoers.d/lvsrun-lab
`;

export interface LabLogin {
  password: string;
  /** `user:$6$...` for chpasswd -e. */
  shadowLine: string;
}

/** A fresh sudo password for the lab and its SHA-512 crypt hash (openssl reads it on stdin, not argv). */
export async function newLabLogin(): Promise<LabLogin> {
  const password = randomBytes(18).toString('base64url');
  const hash = (await run('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n` })).stdout.trim();
  return { password, shadowLine: `${LAB_USER}:${hash}\n` };
}

/**
 * The second inventory's folder: `hosts.yaml` (written by the caller) and `group_vars/all.yml`, the
 * sudo password in a vault whose password is in `vaultPasswordFile` (both readable by root only).
 */
export function writeLoginVault(invDir: string, vaultPasswordFile: string, login: LabLogin): void {
  mkdirSync(join(invDir, 'group_vars'), { recursive: true, mode: 0o700 });
  const vaultPw = randomBytes(24).toString('base64url');
  writeFileSync(vaultPasswordFile, `${vaultPw}\n`, { mode: 0o600 });
  const plain = `ansible_become_password: ${JSON.stringify(login.password)}\n`;
  writeFileSync(join(invDir, 'group_vars', 'all.yml'), encryptVault(Buffer.from(plain), Buffer.from(vaultPw)), {
    mode: 0o600,
  });
}
