import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, lockCmd, type HostLock } from '../../src/engine/host-lock.js';
import { KnownHosts } from '../../src/transport/known-hosts.js';
import type { ShellCmd } from '../../src/transport/shell.js';
import type { Held, Transport } from '../../src/transport/types.js';

const dir = mkdtempSync(join(tmpdir(), 'lvsrun-hostside-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The lock command run by a local /bin/sh: the bytes the host would run, without SSH. */
const localHost = (): Transport => ({
  host: 'local',
  exec: () => Promise.reject(new Error('not used')),
  close: () => Promise.resolve(),
  hold: (cmd: ShellCmd) =>
    new Promise<Held>((resolve) => {
      const p = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'pipe', 'ignore'] });
      children.push(p);
      let buf = '';
      let done = false;
      const give = (line: string): void => {
        if (!done) {
          done = true;
          resolve({
            line,
            release: () => {
              p.stdin.end();
            },
          });
        }
      };
      p.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) give(buf.slice(0, nl));
      });
      p.on('close', () => give(buf));
    }),
});

const info = { run: 'r1', operator: 'op@ctl', since: '2024-01-01T00:00:00Z' };

/** Wait for a condition on a busy machine: poll, with a generous deadline. */
async function until(what: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('host lock file (item 7)', () => {
  it('refuses a lock file planted as a symlink and leaves its target untouched', async () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const lock = join(dir, 'planted.lock');
    symlinkSync(victim, lock);
    const t = localHost();
    await expect(acquireLock(t, lock, info, false)).rejects.toThrow(/symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    // A dangling symlink must not create its target either (e.g. /etc/nologin).
    const absent = join(dir, 'would-be-created');
    const lock2 = join(dir, 'dangling.lock');
    symlinkSync(absent, lock2);
    await expect(acquireLock(t, lock2, info, false)).rejects.toThrow(/symbolic link/);
    expect(existsSync(absent)).toBe(false);
  });

  it('the fallback path is held to the same rules', async () => {
    const victim = join(dir, 'victim-fb');
    writeFileSync(victim, 'keep\n');
    const fallback = join(dir, 'fallback.lock');
    symlinkSync(victim, fallback);
    const cmd = lockCmd(join(dir, 'no-such-dir', 'x.lock'), info, false, fallback);
    const p = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(p);
    p.stdin.end();
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await new Promise((r) => p.on('close', r));
    expect(out).toMatch(/^ERR .*symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
  });

  it('refuses a hard link to another file', async () => {
    const victim = join(dir, 'victim-hl');
    writeFileSync(victim, 'keep\n');
    const lock = join(dir, 'hard.lock');
    linkSync(victim, lock);
    await expect(acquireLock(localHost(), lock, info, false)).rejects.toThrow(/hard links/);
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
  });

  it('--break-lock kills only a provable holder, never a process the lock file merely names', async () => {
    const lock = join(dir, 'forged.lock');
    writeFileSync(lock, '');
    // The lock is held by some process; the file names an unrelated live `cat` that even has the
    // file open, but holds no lock on it.
    const holder = spawn('flock', [lock, 'sleep', '600'], { stdio: 'ignore' });
    children.push(holder);
    const bystander = spawn('/bin/sh', ['-c', 'exec cat 8<"$1"', 'sh', lock], { stdio: ['pipe', 'ignore', 'ignore'] });
    children.push(bystander);
    const ino = ` ${lstatSync(lock).ino} `;
    await until(() => readFileSync('/proc/locks', 'utf8').replace(/:/g, ' ').includes(ino));
    writeFileSync(lock, `{"run":"x","operator":"mallory","since":"now","pid":${bystander.pid}}\n`);
    await expect(acquireLock(localHost(), lock, info, true)).rejects.toThrow(/cannot prove/);
    expect(alive(bystander.pid!)).toBe(true);
    expect(bystander.exitCode).toBeNull();
    expect(holder.exitCode).toBeNull();

    // A genuine lvsrun holder is still ended, and the record then names the new holder.
    const real = join(dir, 'genuine.lock');
    const first: HostLock = await acquireLock(localHost(), real, info, false);
    await expect(acquireLock(localHost(), real, { ...info, run: 'r2' }, false)).rejects.toThrow(/locked by run r1/);
    const second = await acquireLock(localHost(), real, { ...info, run: 'r3' }, true);
    expect(readFileSync(real, 'utf8').split('\n')[0]).toMatch(/^\{"run":"r3",.*"pid":\d+\}$/);
    second.release();
    first.release();
  });
});

describe('known_hosts (item 8)', () => {
  const keys: string[] = [];
  const kdir = join(dir, 'keys');
  const kh = (text: string): string => {
    const f = join(dir, `kh-${keys.length}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(f, text);
    return f;
  };
  const hashed = (name: string, salt = Buffer.from('0123456789abcdef0123')): string =>
    `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

  beforeAll(() => {
    mkdirSync(kdir);
    for (const n of ['a', 'b', 'c']) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(kdir, n)]);
      keys.push(
        readFileSync(join(kdir, `${n}.pub`), 'utf8')
          .trim()
          .split(/\s+/)[1]!,
      );
    }
  });

  it('compares host names case-insensitively, so a new key for LB1 is a changed key when lb1 is known', () => {
    const [k1, k2] = keys as [string, string];
    const text = `lb1 ssh-ed25519 ${k1}\nWEB1 ssh-ed25519 ${k1}\n${hashed('db1')} ssh-ed25519 ${k1}\n`;
    const k = new KnownHosts([kh(text)]);
    expect(k.verify('LB1', 22, 'ssh-ed25519', k2)).toMatchObject({ ok: false, reason: 'changed' });
    expect(k.verify('LB1', 22, 'ssh-ed25519', k1)).toEqual({ ok: true });
    expect(k.verify('web1', 22, 'ssh-ed25519', k1)).toEqual({ ok: true });
    expect(k.verify('DB1', 22, 'ssh-ed25519', k2)).toMatchObject({ ok: false, reason: 'changed' });
  });

  it('skips lines with an unknown @marker, as OpenSSH does', () => {
    const [k1] = keys as [string];
    const k = new KnownHosts([kh(`@trusted lb2 ssh-ed25519 ${k1}\n@cert-authority lb2 ssh-ed25519 ${k1}\n`)]);
    expect(k.verify('lb2', 22, 'ssh-ed25519', k1)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('refuses a key marked @revoked, even when a plain line also lists it', () => {
    const [k1, k2] = keys as [string, string];
    const k = new KnownHosts([kh(`lb3 ssh-ed25519 ${k1}\n@revoked * ssh-ed25519 ${k1}\n`)]);
    expect(k.verify('lb3', 22, 'ssh-ed25519', k1)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(k.verify('LB3', 22, 'ssh-ed25519', k1)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(k.verify('other', 22, 'ssh-ed25519', k1)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(k.verify('other', 22, 'ssh-ed25519', k2)).toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('names the same lines as `ssh-keygen -F` for plain, hashed, wildcard, negated, port and marked entries', () => {
    const [k1, k2, k3] = keys as [string, string, string];
    const text =
      [
        `lb1,10.0.0.1 ssh-ed25519 ${k1}`,
        `LB2 ssh-ed25519 ${k2}`,
        `web*,!web9,!WEB8 ssh-ed25519 ${k3}`,
        `[lb1]:2222 ssh-ed25519 ${k2}`,
        `${hashed('db1')} ssh-ed25519 ${k1}`,
        `${hashed('[db2]:2200', Buffer.from('abcdefghijabcdefghij'))} ssh-ed25519 ${k2}`,
        `@revoked w?b1 ssh-ed25519 ${k3}`,
        `@cert-authority *.example ssh-ed25519 ${k1}`,
        `@bogus lb1 ssh-ed25519 ${k3}`,
        `# lb1 ssh-ed25519 ${k3}`,
        `10.0.0.* ssh-ed25519 ${k2}`,
        `*1 ssh-ed25519 ${k1}`,
      ].join('\n') + '\n';
    const f = kh(text);
    const k = new KnownHosts([f]);
    const queries: Array<[string, number]> = [
      ['lb1', 22],
      ['LB1', 22],
      ['lb2', 22],
      ['Lb2', 22],
      ['web1', 22],
      ['web9', 22],
      ['web8', 22],
      ['WEB7', 22],
      ['lb1', 2222],
      ['LB1', 2222],
      ['db1', 22],
      ['DB1', 22],
      ['db2', 2200],
      ['db2', 22],
      ['10.0.0.1', 22],
      ['10.0.0.77', 22],
      ['x.example', 22],
      ['wab1', 22],
      ['nothing', 22],
      ['1', 22],
    ];
    let seen = 0;
    for (const [host, port] of queries) {
      // ssh lowercases the host name before it looks it up (ssh-keygen -F does not for hashed lines).
      const arg = port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
      const r = spawnSync('ssh-keygen', ['-F', arg, '-f', f], { encoding: 'utf8' });
      const theirs = [...r.stdout.matchAll(/^# Host .* found: line (\d+) ?(\S*)/gm)].map(
        (m) => `${m[1]}${m[2] === 'REVOKED' ? ' revoked' : m[2] === 'CA' ? ' cert-authority' : ''}`,
      );
      const ours = k.lookup(host, port).map((e) => `${e.line}${e.marker === 'key' ? '' : ` ${e.marker}`}`);
      expect({ arg, lines: ours }).toEqual({ arg, lines: theirs });
      seen += theirs.length;
    }
    expect(seen).toBeGreaterThan(20);
  });
});

describe('connection variables (item 16)', () => {
  // Hosts on 127.0.34.x where nothing listens: a run that got as far as connecting would say unreachable (exit 4).
  const cli = join(process.cwd(), 'bin', 'lvsrun.js');
  const pbFile = join(dir, 'site.yaml');
  writeFileSync(pbFile, '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: hello\n      command: echo hi\n');
  const run = (inventory: string, name: string, extra: string[] = []): { code: number | null; err: string } => {
    const f = join(dir, name);
    writeFileSync(f, inventory);
    const r = spawnSync(process.execPath, [cli, pbFile, '-i', f, '--connect-timeout', '2', ...extra], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 60_000,
    });
    return { code: r.status, err: r.stderr };
  };

  it('ansible_port: abc is bad input at its file:line (exit 1), never port 22', () => {
    const inv = 'all:\n  hosts:\n    lb1:\n      ansible_host: 127.0.34.1\n      ansible_port: abc\n';
    const r = run(inv, 'inv-abc.yaml');
    expect(r.code).toBe(1);
    expect(r.err).toContain('inv-abc.yaml:5');
    expect(r.err).toMatch(/ansible_port must be a whole number from 1 to 65535, got "abc"/);
    expect(r.err).not.toMatch(/unreachable|cannot connect|at .*\.js:\d+/);
  });

  it('ansible_port 70000 and an empty port are found before connecting, for every targeted host', () => {
    const inv = [
      'all:',
      '  hosts:',
      '    lb1:',
      '      ansible_host: 127.0.34.1',
      '      ansible_port: 70000',
      '    lb2:',
      '      ansible_host: 127.0.34.2',
      '      ansible_port: ""',
      '    lb3:',
      '      ansible_host: 127.0.34.3',
      '      ansible_user: "-oProxyCommand=x"',
      '',
    ].join('\n');
    const r = run(inv, 'inv-range.yaml');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/inv-range\.yaml:5 \(ansible_port\): host lb1: .*got 70000/);
    expect(r.err).toMatch(/inv-range\.yaml:8 \(ansible_port\): host lb2: .*got ""/);
    expect(r.err).toMatch(/inv-range\.yaml:11 \(ansible_user\): host lb3/);
    expect(r.err).toMatch(/3 bad connection variables: nothing was touched/);
    expect(r.err).not.toMatch(/unreachable|cannot connect/);
  });

  it('INI inventories and -e are located too', () => {
    const r = run('[lvs]\nlb1 ansible_host=127.0.34.1 ansible_port=22\n', 'inv.ini', ['-e', 'ansible_port=0x16']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/-e \(extra vars\) \(ansible_port\): host lb1: ansible_port must be a whole number/);
    const r2 = run('[lvs]\nlb1 ansible_host=127.0.34.1 ansible_port=2a2\n', 'inv2.ini');
    expect(r2.code).toBe(1);
    expect(r2.err).toContain('inv2.ini:2 (ansible_port)');
  });
});

describe('a NUL byte in a command (item 17)', () => {
  it('is bad input naming the task, before any host is touched', () => {
    const cli = join(process.cwd(), 'bin', 'lvsrun.js');
    const pb = join(dir, 'nul.yaml');
    writeFileSync(
      pb,
      [
        '- hosts: all',
        '  become: true',
        '  become_user: nobody',
        '  tasks:',
        '    - name: print a thing',
        '      command: "printf a\\0b"',
        '',
      ].join('\n'),
    );
    const inv = join(dir, 'nul-inv.yaml');
    writeFileSync(inv, 'all:\n  hosts:\n    lb1:\n      ansible_host: 127.0.34.1\n      ansible_port: 2\n');
    const r = spawnSync(process.execPath, [cli, pb, '-i', inv, '--connect-timeout', '2'], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/task 'print a thing': contains a NUL byte/);
    expect(r.stderr).not.toMatch(/unreachable|cannot connect/);
  });

  it('over SSH with become: the command fails, the connection stays up', async () => {
    const { sshdUp, sshdDown } = await import('../../src/bench/sshd-hosts.js');
    const { SshTransport } = await import('../../src/transport/ssh.js');
    const { raw } = await import('../../src/transport/shell.js');
    const sdir = join(dir, 'sshd');
    const hosts = await sshdUp(sdir, 1, { net: '127.0.34', port: 2222 });
    let t: Transport | undefined;
    try {
      t = await SshTransport.connect({
        name: 'h01',
        host: hosts.addr(1),
        port: hosts.port,
        user: 'root',
        privateKeyFiles: [hosts.key],
        knownHostsFiles: [hosts.knownHosts],
        acceptNewHostKeys: false,
        connectTimeoutMs: 20_000,
        keepaliveIntervalMs: 15_000,
      });
      const become = { user: 'nobody', password: 'pw' };
      const err = await t.exec(raw('printf a\0b'), { become }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect((err as { code?: string }).code).toBe('E_COMMAND');
      expect((err as Error).constructor.name).not.toBe('TransportError');
      await expect(t.exec(raw('printf a\0b'))).rejects.toMatchObject({ code: 'E_COMMAND' });
      const ok = await t.exec(raw('echo still here'));
      expect(ok).toMatchObject({ code: 0, stdout: 'still here\n' });
    } finally {
      await t?.close();
      sshdDown(sdir);
    }
  });
});

describe('one machine under two inventory names', () => {
  it("the second name meets this run's own lock and goes on; another run is still refused", async () => {
    const lock = join(dir, 'two-names.lock');
    const lb1 = await acquireLock({ ...localHost(), host: 'lb1' }, lock, info, false);
    // the same run (same holder identity), another name, a later time stamp
    const later = { ...info, since: '2024-01-01T00:00:01Z' };
    const lb1b = await acquireLock({ ...localHost(), host: 'lb1-alias' }, lock, later, false);
    // not the same run: refused, naming the holder (this run), not itself
    const other = { run: 'r9', operator: 'op@ctl', since: '2024-01-01T00:00:02Z' };
    await expect(acquireLock({ ...localHost(), host: 'lb1-other' }, lock, other, false)).rejects.toThrow(
      /locked by run r1 of op@ctl/,
    );
    // nor is a run whose id only starts like this one's
    const prefix = { run: 'r', operator: 'op@ctl', since: '2024-01-01T00:00:02Z' };
    await expect(acquireLock(localHost(), lock, prefix, false)).rejects.toThrow(/locked by run r1/);
    // the record is still the first holder's, untouched by the second name
    expect(readFileSync(lock, 'utf8')).toMatch(
      /^\{"run":"r1","operator":"op@ctl","since":"2024-01-01T00:00:00Z","pid":\d+\}\n$/,
    );
    lb1b.release();
    lb1.release();
    // once released, another run takes it
    await until(() => spawnSync('flock', ['-n', lock, 'true']).status === 0);
    const next = await acquireLock(localHost(), lock, other, false);
    next.release();
  });
});
