import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from '../../src/cli/main.js';
import type { OptionDef } from '../../src/cli/spec.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    out: (s: string) => {
      out += s;
    },
    err: (s: string) => {
      err += s;
    },
    isTTY: false,
    cwd: tmpdir(),
    env: {},
  };
  const code = await main(argv, io);
  return { code, out, err };
}

const words = (name: string): string[] => (name ? name.split(' ') : ['site.yaml']);
const named = COMMANDS.filter((c) => c.def.name);
// An option as a user types it: a string option with a value, a boolean alone.
const typed = (k: string, o: OptionDef): string[] => (o.type === 'string' ? [`--${k}`, 'x'] : [`--${k}`]);

describe('--help of every subcommand', () => {
  it('the commands that had no help all have one now', () => {
    expect(named.map((c) => c.def.name)).toEqual(
      expect.arrayContaining([
        'validate',
        'rollback',
        'runs',
        'inventory',
        'drill',
        'lab up',
        'lab down',
        'lab status',
        'lab ssh',
        'init',
        'completion',
        'vault encrypt',
        'vault decrypt',
        'vault view',
        'vault edit',
        'vault encrypt_string',
        'vault rekey',
      ]),
    );
  });

  for (const { def } of COMMANDS) {
    it(`lvsrun ${def.name || 'PLAYBOOK'} --help: synopsis, every option, examples, exit codes; exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const r = await cli(...words(def.name), flag);
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/^usage: lvsrun /);
        for (const [k, o] of Object.entries<OptionDef>(def.options)) {
          expect(r.out).toContain(`--${k}`);
          if (o.short) expect(r.out).toContain(`-${o.short}, --${k}`);
        }
        expect(r.out).toContain('--help');
        expect(r.out).toMatch(/\nexamples:\n {2}.*lvsrun /);
        expect(r.out).toMatch(/\nexit codes:\n +0 {2}\S/);
      }
    });

    // The parser the command really uses accepts each listed option (help is printed, no "unknown option").
    it(`lvsrun ${def.name || 'PLAYBOOK'} accepts every option its help lists`, async () => {
      if (def.passThrough) return;
      for (const [k, o] of Object.entries<OptionDef>(def.options)) {
        const r = await cli(...words(def.name), ...typed(k, o), '--help');
        expect(r.err, `--${k}`).toBe('');
        expect(r.code).toBe(0);
      }
      const bad = await cli(...words(def.name), '--no-such-option');
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/error\[E_USAGE\]: Unknown option '--no-such-option'.*\n/);
      expect(bad.err).toMatch(/\n {2}hint: lvsrun .*--help lists the options\n$/);
    });
  }

  it('lvsrun --help lists every command; lvsrun help CMD and lvsrun lab --help answer too', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const c of named) expect(top.out).toContain(`  ${c.def.name} `);
    expect((await cli('help', 'validate')).out).toMatch(/^usage: lvsrun validate/);
    const lab = await cli('lab', '--help');
    expect(lab.code).toBe(0);
    expect(lab.out).toContain('lvsrun lab up');
    expect((await cli('lab', 'nope')).err).toContain(`unknown lab command 'nope'`);
    expect((await cli('lab')).code).toBe(1);
  });

  it('--version prints the version of package.json', async () => {
    const pkg = readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8');
    const { version } = JSON.parse(pkg) as { version: string };
    expect(await cli('--version')).toEqual({ code: 0, out: `lvsrun ${version}\n`, err: '' });
  });
});

describe('lvsrun completion', () => {
  for (const shell of ['bash', 'zsh']) {
    it(`${shell}: names every command and every option`, async () => {
      const r = await cli('completion', shell);
      expect(r.code).toBe(0);
      for (const { def } of COMMANDS) {
        for (const w of def.name.split(' ').filter(Boolean)) expect(r.out).toContain(w);
        for (const [k, o] of Object.entries<OptionDef>(def.options)) {
          expect(r.out).toContain(`--${k}`);
          if (o.short) expect(r.out).toContain(`-${o.short}`);
        }
      }
    });
  }

  it('refuses a shell it does not know', async () => {
    const r = await cli('completion', 'fish');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`completion takes one shell, bash or zsh, got 'fish'`);
  });

  it('bash: the script completes commands, subcommands, drill kinds and options when bash runs it', async () => {
    const script = join(mkdtempSync(join(tmpdir(), 'lvsrun-compl-')), 'lvsrun.bash');
    writeFileSync(script, (await cli('completion', 'bash')).out);
    const complete = (line: string): string[] => {
      const w = line.split(' ');
      const prog =
        `source ${JSON.stringify(script)}; COMP_WORDS=(${w.map((x) => `'${x}'`).join(' ')}); ` +
        `COMP_CWORD=${w.length - 1}; ` +
        '_lvsrun; printf "%s\\n" "${COMPREPLY[@]}"';
      return execFileSync('bash', ['--norc', '--noprofile', '-c', prog]).toString().split('\n').filter(Boolean).sort();
    };
    expect(complete('lvsrun va')).toEqual(['validate', 'vault']);
    expect(complete('lvsrun val')).toEqual(['validate']);
    expect(complete('lvsrun vault ')).toEqual(['decrypt', 'edit', 'encrypt', 'encrypt_string', 'rekey', 'view']);
    expect(complete('lvsrun vault rekey --new-vault-')).toEqual(['--new-vault-id', '--new-vault-password-file']);
    expect(complete('lvsrun validate --vault-')).toEqual(['--vault-id', '--vault-password-file']);
    expect(complete('lvsrun site.yaml -J')).toEqual(['-J']);
    expect(complete('lvsrun lab ')).toEqual(['down', 'ssh', 'status', 'up']);
    expect(complete('lvsrun drill f')).toEqual(['failover']);
    expect(complete('lvsrun validate --j')).toEqual(['--json']);
    expect(complete('lvsrun lab up --vm')).toEqual(['--vm', '--vm-all']);
    expect(complete('lvsrun site.yaml --che')).toEqual(['--check']);
    expect(complete('lvsrun completion z')).toEqual(['zsh']);
  });
});
