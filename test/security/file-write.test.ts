import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attrSteps, putFile, restorePath } from '../../src/modules/file-steps.js';
import type { Step } from '../../src/modules/types.js';

/*
 * The generated shell runs for real, as root, in a folder any user may write (0777, no sticky
 * bit). The attacker is `nobody`, and gets a turn before every simple command of the script
 * (bash's DEBUG trap, inherited by subshells and command substitutions with set -T): at each
 * turn it replaces every file it can reach in the folder and in lvsrun's temporary entries
 * with a symlink to a root-owned victim, and renames lvsrun's temporary folder away putting a
 * symlink to its own folder in its place. So every interleaving at command granularity is
 * tried, deterministically. The victim must keep its owner, mode and bytes.
 */
const root = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
const NOBODY = 65534;

const ATTACK = String.raw`
D=$1; V=$2; A=$3
cd "$D" 2>/dev/null || exit 0
for x in .lvsrun.* dest dest.*; do
  [ -e "$x" ] || [ -L "$x" ] || continue
  case $x in *.stolen) continue;; esac
  if [ -d "$x" ] && [ ! -L "$x" ]; then
    for f in "$x"/* "$x"/.[!.]*; do
      [ -e "$f" ] || [ -L "$f" ] || continue
      rm -f -- "$f" 2>/dev/null && ln -s "$V" "$f" 2>/dev/null
    done
    mv -- "$x" "$x.stolen" 2>/dev/null && ln -s "$A" "$x" 2>/dev/null
  else
    rm -f -- "$x" 2>/dev/null && ln -s "$V" "$x" 2>/dev/null
  fi
done
exit 0
`;

interface Lab {
  base: string;
  shared: string;
  victim: string;
  attackerDir: string;
  attack: string;
}

function makeLab(): Lab {
  const base = mkdtempSync(join(tmpdir(), 'lvsrun-race-'));
  chmodSync(base, 0o711);
  const shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777); // writable by everyone, no sticky bit
  mkdirSync(join(base, 'secret'), { mode: 0o755 });
  const victim = join(base, 'secret', 'victim');
  writeFileSync(victim, 'root only\n', { mode: 0o600 });
  const attackerDir = join(base, 'attacker');
  mkdirSync(attackerDir, { mode: 0o755 });
  for (const n of ['f', 'b', 'l', 'h']) spawnSync('ln', ['-s', victim, join(attackerDir, n)]);
  spawnSync('chown', ['-hR', `${NOBODY}:${NOBODY}`, attackerDir]);
  const attack = join(base, 'attack.sh');
  writeFileSync(attack, ATTACK, { mode: 0o755 });
  return { base, shared, victim, attackerDir, attack };
}

/** Run a step's shell as the remote shell would, with the attacker taking a turn before every command. */
function runRaced(lab: Lab, step: Step): { code: number | null; stderr: string } {
  const turn = `setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups /bin/sh "$ATTACK" "$SHARED" "$VICTIM" "$ADIR" >/dev/null 2>&1`;
  const r = spawnSync('bash', ['-c', `set -T; trap '${turn}' DEBUG; ( eval "$LVSRUN_CMD" )`], {
    cwd: lab.shared,
    input: step.stdin ?? '',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LVSRUN_CMD: step.cmd,
      ATTACK: lab.attack,
      SHARED: lab.shared,
      VICTIM: lab.victim,
      ADIR: lab.attackerDir,
    },
    encoding: 'utf8',
  });
  return { code: r.status, stderr: r.stderr };
}

function run(step: Step): { code: number | null; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', `( eval "$LVSRUN_CMD" )`], {
    input: step.stdin ?? '',
    env: { PATH: process.env.PATH ?? '/bin', LVSRUN_CMD: step.cmd },
    encoding: 'utf8',
  });
  return { code: r.status, stderr: r.stderr };
}

function expectVictimIntact(lab: Lab): void {
  const s = lstatSync(lab.victim);
  expect(s.isFile()).toBe(true);
  expect({ uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8) }).toEqual({ uid: 0, gid: 0, mode: '600' });
  expect(readFileSync(lab.victim, 'utf8')).toBe('root only\n');
}

describe.skipIf(!root)('file writes in a folder another user can write (run as root, attacker = nobody)', () => {
  let lab: Lab;
  beforeEach(() => {
    lab = makeLab();
  });
  afterEach(() => {
    rmSync(lab.base, { recursive: true, force: true });
  });

  it('putFile over an existing file: the victim keeps owner, mode and content', () => {
    const dest = join(lab.shared, 'dest');
    writeFileSync(dest, 'old\n', { mode: 0o640 });
    runRaced(
      lab,
      putFile(dest, 'new content, owned by nobody\n', { owner: String(NOBODY), group: String(NOBODY), mode: '0666' }),
    );
    expectVictimIntact(lab);
  });

  it('putFile keeping the attributes of what is there, with backup: the victim is untouched', () => {
    const dest = join(lab.shared, 'dest');
    writeFileSync(dest, 'old\n', { mode: 0o644 });
    chownSync(dest, NOBODY, NOBODY);
    runRaced(lab, putFile(dest, 'x\n', { backup: true }));
    expectVictimIntact(lab);
  });

  it('the rollback path (restorePath of a file and of a link) leaves the victim untouched', () => {
    const dest = join(lab.shared, 'dest');
    writeFileSync(dest, 'changed\n');
    const before = {
      exists: true,
      type: 'file' as const,
      mode: '0666',
      owner: 'nobody',
      group: 'nogroup',
      b64: Buffer.from('orig\n').toString('base64'),
    };
    for (const s of restorePath(dest, before)) runRaced(lab, s);
    expectVictimIntact(lab);
    for (const s of restorePath(dest, {
      exists: true,
      type: 'link',
      mode: '0777',
      owner: 'nobody',
      group: 'nogroup',
      linkTarget: '/etc/hostname',
    })) {
      runRaced(lab, s);
    }
    expectVictimIntact(lab);
  });

  it('attribute changes (mode, owner) never reach the victim through a swapped-in symlink', () => {
    const dest = join(lab.shared, 'dest');
    writeFileSync(dest, 'x\n', { mode: 0o600 });
    const a = attrSteps(
      dest,
      { exists: true, type: 'file', mode: '0600', owner: 'root', group: 'root' },
      '0666',
      'nobody',
      'nogroup',
    );
    for (const s of a.steps) runRaced(lab, s);
    expectVictimIntact(lab);
    writeFileSync(dest, 'x\n', { mode: 0o600 });
    for (const s of a.undo) {
      chmodSync(lab.victim, 0o644); // what the undo would "restore" through a symlink
      runRaced(lab, s);
      expect((statSync(lab.victim).mode & 0o7777).toString(8)).toBe('644');
    }
  });

  it('with nobody interfering: exact bytes, setuid kept (chown before chmod), a link to a folder replaced, no leftovers', () => {
    const dest = join(lab.shared, 'dest');
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13, 0x41]);
    expect(run(putFile(dest, bytes, { owner: 'nobody', group: 'nogroup', mode: '0640' })).code).toBe(0);
    expect(readFileSync(dest).equals(bytes)).toBe(true);
    const s = statSync(dest);
    expect([s.uid, (s.mode & 0o7777).toString(8)]).toEqual([NOBODY, '640']);
    expect(readdirSync(lab.shared)).toEqual(['dest']);
    expect(run(putFile(dest, '#!/bin/true\n', { owner: 'nobody', mode: '4755' })).code).toBe(0);
    expect((statSync(dest).mode & 0o7777).toString(8)).toBe('4755');
    mkdirSync(join(lab.shared, 'sub'));
    spawnSync('ln', ['-sfn', 'sub', dest]);
    expect(run(putFile(dest, 'plain\n')).code).toBe(0);
    expect([lstatSync(dest).isFile(), readdirSync(join(lab.shared, 'sub'))]).toEqual([true, []]);
    rmSync(join(lab.shared, 'sub'), { recursive: true });
    const link = join(lab.shared, 'link');
    for (const st of restorePath(link, {
      exists: true,
      type: 'link',
      owner: 'root',
      group: 'root',
      linkTarget: 'dest',
    }))
      expect(run(st).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(lab.shared).sort()).toEqual(['dest', 'link']);
  });
});
