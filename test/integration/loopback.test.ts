import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdDown, sshdUp, type SshdHosts } from '../../src/bench/sshd-hosts.js';
import { verifyHosts } from '../../src/bench/verify.js';
import { rootOf, writeInventories, type Inventories } from '../../src/bench/workload.js';
import { cli, recapLine, waitFor } from './helpers.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { sh } from '../../src/transport/shell.js';
import { KEEPALIVE_INTERVAL_MS } from '../../src/transport/types.js';

// Real OpenSSH servers the suite starts itself on loopback (127.0.21.i:2222), each with its own
// host key, config and HOME; each host's files live under its own root. The workload is the
// benchmark's 12-task LVS-DR build, checked file by file.
const dir = '/tmp/lvsrun-test-loopback';
const repo = join(import.meta.dirname, '..', '..');
const pb = join(repo, 'bench/lvsrun/site.yaml');
let h: SshdHosts;
let inv: Inventories;

beforeAll(async () => {
  sshdDown(dir);
  rmSync(dir, { recursive: true, force: true });
  h = await sshdUp(dir, 4, { net: '127.0.21' });
  inv = writeInventories(h);
});
afterAll(() => {
  expect(sshdDown(dir)).toBe(4);
  rmSync(dir, { recursive: true, force: true });
});

describe('lvsrun against sshd on loopback', () => {
  it('--check on empty hosts plans every change and writes nothing', async () => {
    const r = await cli(pb, '-i', inv.lvsrun, '--check');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/changed: \[h01\]/);
    expect(existsSync(rootOf(h))).toBe(false);
  });

  it('converges every host (ok=12 changed=11, every file right), then a second run changes nothing', async () => {
    // Many commands in flight at once is normal: Node must not print a listener-leak warning.
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(`${w.name}: ${w.message}`);
    };
    process.on('warning', onWarning);
    const r = await cli(pb, '-i', inv.lvsrun);
    await new Promise((res) => setImmediate(res)); // warnings are emitted on a later tick
    process.off('warning', onWarning);
    expect(r.code, r.out + r.err).toBe(0);
    expect(warnings).toEqual([]);
    for (const n of h.names) expect(recapLine(r.out, n)).toMatchObject({ ok: 12, changed: 11, failed: 0 });
    expect(verifyHosts(h)).toEqual([]);
    const again = await cli(pb, '-i', inv.lvsrun);
    for (const n of h.names) expect(recapLine(again.out, n)).toMatchObject({ ok: 12, changed: 0 });
  });

  it('the verifier notices a wrong file (so the checks above can fail)', () => {
    const f = join(rootOf(h), 'h03', 'var/lib/lvs/configured');
    writeFileSync(f, 'tampered\n');
    expect(verifyHosts(h)).toEqual([expect.stringMatching(/h03: var\/lib\/lvs\/configured: content/)]);
    rmSync(f);
  });

  it('--accept-new-host-keys trusts unknown keys on first use and records them; strict checking then passes', async () => {
    const kh = join(dir, 'known_hosts.tofu');
    // A last line without its newline: a recorded key must not run into it.
    writeFileSync(kh, '# managed by hand');
    const tofuInv = join(dir, 'inv', 'tofu.yaml');
    writeFileSync(
      tofuInv,
      readFileSync(inv.lvsrun, 'utf8').replace(/lvsrun_known_hosts: .*/, `lvsrun_known_hosts: ${kh}`),
    );
    const strict = await cli(pb, '-i', tofuInv, '--limit', 'h01');
    expect(strict.code).toBe(4);
    expect(strict.out).toMatch(/E_HOSTKEY.*unknown/);
    const tofu = await cli(pb, '-i', tofuInv, '--limit', 'h01', '--accept-new-host-keys');
    expect(tofu.code, tofu.out).toBe(0);
    expect(readFileSync(kh, 'utf8')).toMatch(/^# managed by hand\n\[127\.0\.21\.1\]:2222 ssh-ed25519 \S+\n$/);
    expect((await cli(pb, '-i', tofuInv, '--limit', 'h01')).code).toBe(0);
    // The other hosts at once: every connection of the run records into the one file it shares.
    const all = await cli(pb, '-i', tofuInv, '--accept-new-host-keys');
    expect(all.code, all.out).toBe(0);
    const lines = readFileSync(kh, 'utf8').split('\n');
    expect(
      lines
        .slice(1, -1)
        .map((l) => l.split(' ')[0])
        .sort(),
    ).toEqual([1, 2, 3, 4].map((i) => `[127.0.21.${i}]:2222`));
    expect(lines.at(-1)).toBe('');
    const strict2 = await cli(pb, '-i', tofuInv);
    expect(strict2.code, strict2.out).toBe(0);
  });
  it('--limit @failed runs again only the hosts the newest run could not finish (one sshd down, then back)', async () => {
    const pidFile = join(dir, 'hosts', 'h04', 'sshd.pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    process.kill(pid);
    await waitFor(async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 30_000);
    rmSync(join(rootOf(h), 'h04'), { recursive: true, force: true });
    const first = await cli(pb, '-i', inv.lvsrun);
    expect(first.code, first.out + first.err).toBe(4);
    expect(recapLine(first.out, 'h04')).toMatchObject({ unreachable: 1 });
    const runs = await cli('runs');
    expect(runs.out).toMatch(/failed or unreachable: h04; run them again with: lvsrun .* --limit @failed/);
    h = await sshdUp(dir, 4, { net: '127.0.21' });
    const again = await cli(pb, '-i', inv.lvsrun, '--limit', '@failed');
    expect(again.code, again.out + again.err).toBe(0);
    expect(again.err).toMatch(/--limit @failed: h04 \(from run /);
    expect(recapLine(again.out, 'h04')).toMatchObject({ ok: 12, changed: 11, failed: 0 });
    for (const n of ['h01', 'h02', 'h03']) expect(() => recapLine(again.out, n)).toThrow(/no recap/);
    expect(verifyHosts(h)).toEqual([]);
    // The newest run now has no failed host: nothing to run again, said before any host is touched.
    const none = await cli(pb, '-i', inv.lvsrun, '--limit', '@failed');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/had no failed or unreachable host/);
  });
  it("a later play's hosts are locked while the first play runs", async () => {
    // h01's play waits for h03's lock file, which exists only once this run holds h03's lock: the
    // run would time out here if h03 were connected only when its own play comes.
    const locks = join(dir, 'ahead-locks');
    rmSync(locks, { recursive: true, force: true });
    mkdirSync(locks);
    const play = join(dir, 'ahead.yaml');
    writeFileSync(
      play,
      `- hosts: h01
  tasks:
    - wait_for: {path: "${locks}/h03.lock", timeout: 120}
- hosts: h03
  tasks:
    - command: echo two
`,
    );
    const r = await cli(play, '-i', inv.lvsrun, '-e', `lvsrun_lock_file=${locks}/{{inventory_hostname}}.lock`);
    expect(r.code, r.err + r.out).toBe(0);
    expect(recapLine(r.out, 'h01')).toMatchObject({ ok: 1, changed: 0, failed: 0 });
    expect(recapLine(r.out, 'h03')).toMatchObject({ ok: 1, changed: 1, failed: 0 });
    expect(readFileSync(join(locks, 'h03.lock'), 'utf8')).toMatch(/"operator"/);
  });

  it("a change's steps go in one round trip; after a failed step the rest do not run", async () => {
    const t = await SshTransport.connect({
      name: 'h01',
      host: h.addr(1),
      port: h.port,
      user: 'root',
      privateKeyFiles: [h.key],
      knownHostsFiles: [h.knownHosts],
      acceptNewHostKeys: false,
      connectTimeoutMs: 30_000,
      keepaliveIntervalMs: KEEPALIVE_INTERVAL_MS,
    });
    try {
      const f = (n: string) => join(dir, `seq-${n}`);
      await t.exec(sh`true`); // the shell is open: what follows is the steps' own waits
      const before = t.roundTrips();
      const r = await t.execSeq([
        { cmd: sh`touch -- ${f('1')}` },
        { cmd: sh`cat > ${f('2')}`, opts: { stdin: 'two\n' } },
        { cmd: sh`exit 4` },
        { cmd: sh`touch -- ${f('4')}` },
      ]);
      expect(r.map((x) => x.code)).toEqual([0, 0, 4]);
      expect(t.roundTrips() - before).toBe(1);
      expect([existsSync(f('1')), readFileSync(f('2'), 'utf8'), existsSync(f('4'))]).toEqual([true, 'two\n', false]);
    } finally {
      await t.close();
    }
  });

  it('a task whose second step fails is rolled back: the folder its first step made is gone', async () => {
    const play = join(dir, 'two-steps.yaml');
    writeFileSync(
      play,
      `- hosts: h01\n  tasks:\n    - file: {path: "${dir}/two/steps", state: directory, mode: "0700", owner: no-such-user-lvsrun}\n`,
    );
    const r = await cli(play, '-i', inv.lvsrun);
    expect(r.code, r.out + r.err).not.toBe(0);
    expect(r.out + r.err).toMatch(/no-such-user-lvsrun/);
    expect(recapLine(r.out, 'h01')).toMatchObject({ failed: 1, rolled_back: 1 });
    expect(existsSync(join(dir, 'two'))).toBe(false);
  });
});
