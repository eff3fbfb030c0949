import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { attrSteps, putFile } from '../../src/modules/file-steps.js';
import { HOST_SHELLS, runStep } from '../unit/step-shell.js';

/*
 * The private folder a write makes is checked once entered: ours, 0700, empty. The checks are the
 * shell's own (`-O`, globs) and one stat, so each way the folder can be wrong is tried here: a
 * recorder in place of mktemp makes the real folder, then spoils it before the write goes on.
 * Shell options a login shell may have set (noglob, GLOBIGNORE, failglob, nullglob, dotglob) must
 * not hide a name. The destination is named with every awkward byte the stat reading must survive.
 */
const root = process.getuid?.() === 0;
const NOBODY = 65534;
const base = mkdtempSync(join(tmpdir(), 'lvsrun-private-'));
chmodSync(base, 0o711);
const bin = join(base, 'bin');
const dir = join(base, 'dest');
const victim = join(base, 'victim');
afterAll(() => rmSync(base, { recursive: true, force: true }));

const realMktemp = spawnSync('/bin/sh', ['-c', 'command -v mktemp'], { encoding: 'utf8' }).stdout.trim();
mkdirSync(bin);
// Makes the folder as mktemp does, then runs $SPOIL inside it (with $w naming it), then answers.
writeFileSync(
  join(bin, 'mktemp'),
  `#!/bin/sh\nw=$(${realMktemp} "$@") || exit 1\n(cd "$w" && eval "$SPOIL") >&2 || exit 1\nprintf '%s\\n' "$w"\n`,
  { mode: 0o755 },
);
const shells = HOST_SHELLS.map((s) =>
  spawnSync('/bin/sh', ['-c', `command -v ${s}`], { encoding: 'utf8' }).stdout.trim(),
);

function reset(): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(victim, 'victim\n', { mode: 0o600 });
  writeFileSync(join(dir, 'dest'), 'before\n', { mode: 0o640 });
}

async function write(shell: string, spoil: string, o: { env?: NodeJS.ProcessEnv; before?: string } = {}) {
  const env = { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, SPOIL: spoil, ...o.env };
  return runStep(shell, putFile(join(dir, 'dest'), 'after\n'), { env, ...(o.before ? { before: o.before } : {}) });
}

function expectRefused(r: { code: number | null; stderr: string }): void {
  expect(r.stderr).toMatch(/the private temporary folder changed under lvsrun; nothing was written/);
  expect(r.code).not.toBe(0);
  expect(readFileSync(join(dir, 'dest'), 'utf8')).toBe('before\n');
  expect((statSync(join(dir, 'dest')).mode & 0o7777).toString(8)).toBe('640');
  expect([readFileSync(victim, 'utf8'), (statSync(victim).mode & 0o7777).toString(8)]).toEqual(['victim\n', '600']);
}

/** Each way a folder that was not empty could look; `$V` is the victim. */
const NOT_EMPTY: Record<string, string> = {
  'a file f (the name the content goes to)': ': > f',
  'a dotfile': ': > .x',
  'a name starting with two dots': ': > ..x',
  'a symlink f to a root file': 'ln -s "$V" f',
  'a dangling symlink': 'ln -s /nowhere/at/all dangling',
  'a dangling dot-symlink': 'ln -s /nowhere .d',
  'a file named *': ": > '*'",
  'a file named .[!.]*': ": > '.[!.]*'",
  'a folder': 'mkdir sub',
  'a name with a newline and a leading dash': `: > '-n${'\n'}x'`,
};

describe.each(shells)('a private folder that is not as made is refused (%s)', (shell) => {
  beforeEach(reset);

  for (const [what, spoil] of Object.entries(NOT_EMPTY)) {
    it(`not empty: ${what}`, async () => {
      expectRefused(await write(shell, spoil, { env: { V: victim } }));
    });
  }

  for (const mode of ['750', '701', '1700', '2750', '2770', '500', '777']) {
    it(`mode ${mode}`, async () => {
      expectRefused(await write(shell, `chmod ${mode} .`));
    });
  }

  it('in a setgid folder (2775, as /var/local): the private folder inherits 2700 and the write goes through', async () => {
    chmodSync(dir, 0o2775);
    const r = await write(shell, ':');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, 'dest'), 'utf8')).toBe('after\n');
    expect((statSync(join(dir, 'dest')).mode & 0o7777).toString(8)).toBe('640');
    expect(readdirSync(dir)).toEqual(['dest']);
  });

  it('under a German locale (stat translates its file types there): the file keeps its mode and owner', async () => {
    const de = spawnSync('stat', ['-c', '%F', '/etc/passwd'], {
      env: { ...process.env, LANGUAGE: 'de', LC_ALL: 'C.UTF-8' },
      encoding: 'utf8',
    }).stdout.trim();
    expect(de).not.toBe('regular file'); // the catalogue is installed: without LC_ALL=C the write would misread it
    if (root) chownSync(join(dir, 'dest'), NOBODY, NOBODY);
    const r = await write(shell, ':', { env: { LANGUAGE: 'de', LC_ALL: 'C.UTF-8' } });
    expect(r.code, r.stderr).toBe(0);
    const st = statSync(join(dir, 'dest'));
    expect([(st.mode & 0o7777).toString(8), root ? st.uid : NOBODY]).toEqual(['640', NOBODY]);
  });

  it.skipIf(!root)('owned by another user (nobody)', async () => {
    expectRefused(await write(shell, `chown ${NOBODY} .`));
  });

  it.skipIf(!root)('swapped for a symlink to an empty 0700 folder of another user', async () => {
    const other = join(base, 'other');
    rmSync(other, { recursive: true, force: true });
    mkdirSync(other, { mode: 0o700 });
    chownSync(other, NOBODY, NOBODY);
    expectRefused(await write(shell, `cd / && rmdir -- "$w" && ln -s '${other}' "$w"`));
    expect(readdirSync(other)).toEqual([]);
  });

  it('not empty, whatever globbing options the shell started with', async () => {
    const cases: { spoil: string; env?: NodeJS.ProcessEnv; before?: string }[] = [
      { spoil: ': > f', before: 'set -f' },
      { spoil: ': > .x', before: 'set -f' },
    ];
    if (shell.endsWith('bash')) {
      cases.push(
        { spoil: ': > f', before: "GLOBIGNORE='*:.*'" },
        { spoil: ': > .x', before: "GLOBIGNORE='.*'" },
        { spoil: ': > f', before: 'shopt -s failglob' },
        { spoil: ': > ..x', before: 'shopt -s failglob' },
        { spoil: ': > .x', before: 'shopt -s nullglob' },
        { spoil: ': > .x', before: 'shopt -s dotglob' },
      );
    }
    for (const c of cases) {
      reset();
      expectRefused(await write(shell, c.spoil, c));
    }
  });

  it('an empty folder is written through, whatever globbing options the shell started with', async () => {
    const starts = ['set -f'];
    if (shell.endsWith('bash')) starts.push('shopt -s failglob', 'shopt -s nullglob dotglob', "GLOBIGNORE='*'");
    for (const before of starts) {
      reset();
      const r = await write(shell, ':', { before });
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(readFileSync(join(dir, 'dest'), 'utf8')).toBe('after\n');
      expect(readdirSync(dir)).toEqual(['dest']);
    }
  });
});

/** Names the one stat of the folder and the destination must read apart. */
const NAMES = [
  'plain',
  'with space',
  'q\'uote"d',
  '-n',
  '--',
  'new\nline',
  'pipe|700|0:0|regular file',
  'x\n.|700|0:0|directory',
  'y|\n.|700|0:0|regular file\n',
  '|',
  '.|700|',
];

describe.each(shells)('the destination, read by the same stat as the folder (%s)', (shell) => {
  beforeEach(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

  for (const name of NAMES) {
    it(`an existing file keeps its mode${root ? ' and owner' : ''}: ${JSON.stringify(name)}`, async () => {
      const dest = join(dir, name);
      writeFileSync(dest, 'old\n', { mode: 0o640 });
      chmodSync(dest, 0o640);
      if (root) chownSync(dest, NOBODY, NOBODY);
      const r = await runStep(shell, putFile(dest, 'new\n'), { env });
      expect([r.code, r.stderr]).toEqual([0, '']);
      const s = lstatSync(dest);
      expect([s.isFile(), readFileSync(dest, 'utf8'), (s.mode & 0o7777).toString(8)]).toEqual([true, 'new\n', '640']);
      if (root) expect([s.uid, s.gid]).toEqual([NOBODY, NOBODY]);
      expect(readdirSync(dir)).toEqual([name]);
    });

    it(`a new file is 0644: ${JSON.stringify(name)}`, async () => {
      const dest = join(dir, name);
      const r = await runStep(shell, putFile(dest, 'new\n'), { env });
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect([readFileSync(dest, 'utf8'), (statSync(dest).mode & 0o7777).toString(8)]).toEqual(['new\n', '644']);
      expect(readdirSync(dir)).toEqual([name]);
    });
  }

  it('a symlink there is replaced, its target untouched (and not taken as the attributes to keep)', async () => {
    writeFileSync(victim, 'victim\n', { mode: 0o600 });
    const dest = join(dir, 'link\n.|700|0:0|regular file');
    symlinkSync(victim, dest);
    const r = await runStep(shell, putFile(dest, 'new\n'), { env });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect([lstatSync(dest).isFile(), (lstatSync(dest).mode & 0o7777).toString(8)]).toEqual([true, '644']);
    expect([readFileSync(victim, 'utf8'), (statSync(victim).mode & 0o7777).toString(8)]).toEqual(['victim\n', '600']);
  });

  it('a directory there makes the write fail, and nothing is left behind', async () => {
    const dest = join(dir, 'a dir\n|700|');
    mkdirSync(dest, { mode: 0o700 });
    writeFileSync(join(dest, 'inside'), 'kept\n');
    const r = await runStep(shell, putFile(dest, 'new\n'), { env });
    expect(r.code).not.toBe(0);
    expect(readFileSync(join(dest, 'inside'), 'utf8')).toBe('kept\n');
    expect(readdirSync(dir)).toEqual([dest.slice(dir.length + 1)]);
  });

  it('a symlink to a directory there is replaced, never followed', async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const dest = join(dir, '-dest');
    symlinkSync('sub', dest);
    const r = await runStep(shell, putFile(dest, 'new\n'), { env });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect([lstatSync(dest).isFile(), readdirSync(sub)]).toEqual([true, []]);
  });

  it('a failed validation leaves the destination and no temporary entry', async () => {
    const dest = join(dir, 'v\nal');
    writeFileSync(dest, 'old\n');
    const r = await runStep(shell, putFile(dest, 'new\n', { validate: 'false %s' }), { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/validation failed/);
    expect(readFileSync(dest, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['v\nal']);
  });
});

describe('a folder whose mode changes is the one named, not a link swapped in for it', () => {
  // bash runs the DEBUG trap before every simple command: at turn n the folder is renamed away and
  // a symlink to another folder put in its place, so every moment between the checks is tried.
  const turns = 30;
  const sub = join(dir, 'sub');
  const other = join(base, 'other-folder');
  for (let n = 1; n <= turns; n++) {
    it(`swapped before command ${n}`, () => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(other, { recursive: true, force: true });
      mkdirSync(sub, { recursive: true, mode: 0o700 });
      mkdirSync(other, { mode: 0o700 });
      chmodSync(sub, 0o700);
      const { steps } = attrSteps(sub, { exists: true, type: 'directory', mode: '0700' }, '0755');
      const turn =
        `c=$(( $(cat "$N" 2>/dev/null || echo 0) + 1 )); echo $c > "$N"; ` +
        `[ $c != "$AT" ] || { mv -- "$SUB" "$SUB.away" && ln -s -- "$OTHER" "$SUB"; }`;
      const r = spawnSync('bash', ['-c', `set -T; trap '${turn}' DEBUG; ( eval "$LVSRUN_CMD" )`], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          LVSRUN_CMD: steps[0]!.cmd,
          N: join(base, 'turns'),
          AT: String(n),
          SUB: sub,
          OTHER: other,
        },
        encoding: 'utf8',
      });
      rmSync(join(base, 'turns'), { force: true });
      expect(r.error).toBeUndefined();
      expect((statSync(other).mode & 0o7777).toString(8)).toBe('700');
    });
  }
});

describe.skipIf(!root)(
  'a write whose private folder is swapped at any moment validates and installs only its own file',
  () => {
    // As above, bash's DEBUG trap swaps the folder (once `w` names it) for a link to a folder of
    // root's holding a file that passes the validation: the content to write does not pass it.
    const evil = join(base, 'evil');
    for (let n = 1; n <= 40; n++) {
      it(`swapped before command ${n}`, () => {
        reset();
        rmSync(evil, { recursive: true, force: true });
        mkdirSync(evil, { mode: 0o700 });
        writeFileSync(join(evil, 'f'), 'GOOD\n', { mode: 0o600 });
        const step = putFile(join(dir, 'dest'), 'BAD\n', { validate: 'grep -q GOOD %s' });
        const turn =
          `c=$(( $(cat "$N" 2>/dev/null || echo 0) + 1 )); echo $c > "$N"; ` +
          `[ $c != "$AT" ] || [ -z "\${w-}" ] || { mv -- "$w" "$w.away" && ln -s -- "$EVIL" "$w"; }`;
        const r = spawnSync('bash', ['-c', `set -T; trap '${turn}' DEBUG; ( eval "$LVSRUN_CMD" )`], {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            LVSRUN_CMD: step.cmd,
            N: join(base, 'turns'),
            AT: String(n),
            EVIL: evil,
          },
          input: step.stdin ?? '',
          encoding: 'utf8',
        });
        rmSync(join(base, 'turns'), { force: true });
        expect(r.error).toBeUndefined();
        expect(r.status).not.toBe(0);
        expect(readFileSync(join(dir, 'dest'), 'utf8')).toBe('before\n');
      });
    }
    it("a folder of root's elsewhere (empty, 0700, another group) put in its place is refused", async () => {
      reset();
      rmSync(evil, { recursive: true, force: true });
      mkdirSync(evil, { mode: 0o700 });
      chownSync(evil, 0, 42);
      expectRefused(await write('bash', `cd / && mv -- "$w" "$w.away" && ln -s '${evil}' "$w"`));
    });
  },
);

/**
 * The validation's `sleep` has started and the /bin/sh running it waits for it. Signalled earlier,
 * while that shell starts a program, dash can lose a SIGINT (the shell and the program both carry
 * on): a race in the host's /bin/sh that lvsrun cannot close, reproduced without lvsrun by
 * signalling `dash -c "touch m && sleep 30"` as soon as m exists (about 1 in 5 with one core busy).
 */
function validationSettled(pgid: number): boolean {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its closing parenthesis.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (comm !== 'sleep' || Number(pgrp) !== pgid) continue;
    try {
      const wchan = readFileSync(`/proc/${ppid}/wchan`, 'utf8');
      // A kernel that does not show wait channels prints 0: the sleep having started is then all there is.
      return wchan === 'do_wait' || wchan === '0' || wchan === '';
    } catch {
      return false;
    }
  }
  return false;
}

describe.each(shells)('a write ended by a signal leaves no private folder behind (%s)', (shell) => {
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    it(`${sig} to the whole process group while the validation runs`, async () => {
      reset();
      const mark = join(base, 'validating');
      rmSync(mark, { force: true });
      const dest = join(dir, 'dest');
      const step = putFile(dest, 'after\n', { validate: `touch '${mark}' && sleep 600 && true %s` });
      const p = spawn(shell, ['-c', step.cmd], {
        detached: true,
        stdio: ['pipe', 'ignore', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      let stderr = '';
      p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      let code: number | string | null = 'running';
      const exited = new Promise<void>((resolve) =>
        p.on('exit', (c, s) => {
          code = c ?? s;
          resolve();
        }),
      );
      p.stdin.end(step.stdin);
      // Waits for the state, with a bound far above any machine's pace (and under the test's own cap,
      // so that this message, not a bare timeout, says what happened).
      for (const t0 = Date.now(); !existsSync(mark) || !validationSettled(p.pid!);) {
        if (code !== 'running') throw new Error(`the write ended (${code}) before its validation ran: ${stderr}`);
        if (Date.now() - t0 > 45_000) throw new Error(`the validation never started; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      process.kill(-p.pid!, sig);
      const gone = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!gone) {
        const ps = spawnSync('ps', ['-o', 'pid,stat,args', '-g', String(p.pid)], { encoding: 'utf8' }).stdout;
        process.kill(-p.pid!, 'SIGKILL');
        throw new Error(`the write did not end on ${sig} within 10 s; its process group:\n${ps}`);
      }
      expect(readdirSync(dir)).toEqual(['dest']);
      expect(readFileSync(dest, 'utf8')).toBe('before\n');
    });
  }
});
