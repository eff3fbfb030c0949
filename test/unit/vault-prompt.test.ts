import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptVault } from '../../src/vault/format.js';
import { cli, waitFor } from '../integration/helpers.js';

// --ask-vault-pass reads the terminal with echo off: driven through a real pty (tmux) running the built CLI.
const repo = join(import.meta.dirname, '..', '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-vault-prompt-'));
const session = `lvsrun-vault-${process.pid}`;
const tmux = (...a: string[]): string => execFileSync('tmux', ['-L', session, ...a], { encoding: 'utf8' });

afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['-L', session, 'kill-server']);
});

describe('--ask-vault-pass', () => {
  // Run by hand in a terminal, the prompt would wait for a person.
  it.skipIf(process.stdin.isTTY)('without a terminal: exit 1 with a hint, nothing read', async () => {
    writeFileSync(join(dir, 'plain.yaml'), 'all:\n  hosts: {h: {}}\n');
    const r = await cli('inventory', '-i', join(dir, 'plain.yaml'), '--host', 'h', '--ask-vault-pass');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /error\[E_USAGE\]: asking for the vault password needs a terminal\n {2}hint: pass --vault-password-f/,
    );
  });
  it.skipIf(!hasTmux)(
    'on a terminal: asks without echo, then decrypts',
    async () => {
      const inv = join(dir, 'hosts.yaml');
      const enc = encryptVault(Buffer.from('typed-secret'), Buffer.from('pty pw'));
      const body = enc
        .trimEnd()
        .split('\n')
        .map((l) => `        ${l}`);
      writeFileSync(inv, `all:\n  hosts:\n    h:\n      tok: !vault |\n${body.join('\n')}\n      n: plain\n`);
      const out = join(dir, 'out.json');
      const rc = join(dir, 'rc');
      const lvsrun = `node ${join(repo, 'bin/lvsrun.js')}`;
      const cmd = `${lvsrun} inventory -i ${inv} --host h --ask-vault-pass > ${out}; echo $? > ${rc}`;
      tmux('new-session', '-d', '-s', 'v', '-x', '200', '-y', '20', cmd);
      await waitFor(async () => tmux('capture-pane', '-p', '-t', 'v').includes('Vault password:'), 30_000);
      tmux('send-keys', '-t', 'v', 'pty pwx', 'BSpace');
      expect(tmux('capture-pane', '-p', '-t', 'v')).not.toContain('pty');
      tmux('send-keys', '-t', 'v', 'Enter');
      await waitFor(async () => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '', 30_000);
      expect(readFileSync(rc, 'utf8').trim()).toBe('0');
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ tok: '********', n: 'plain' });
    },
    90_000,
  );
});
