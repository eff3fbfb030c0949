import { describe, expect, it } from 'vitest';
import { sysctl } from '../../src/modules/sysctl.js';
import { editLines, lineinfile } from '../../src/modules/lineinfile.js';
import { parseFileState } from '../../src/facts/file.js';
import { planFileWrite } from '../../src/modules/copy.js';
import { file } from '../../src/modules/file.js';
import { service, parseServiceProbe } from '../../src/modules/service.js';
import { pkg } from '../../src/modules/package.js';
import { command, splitArgs } from '../../src/modules/command.js';
import { FakeTransport } from '../../src/transport/fake.js';
import { moduleCtx } from '../../src/engine/module-run.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function ctxFor(t: FakeTransport) {
  return moduleCtx(t);
}

describe('sysctl', () => {
  const p = sysctl.schema.parse({ name: 'net.ipv4.ip_forward', value: 1, sysctl_file: '/etc/sysctl.d/90-lvs.conf' });
  it('reads the live value and the persisted file in one round trip', async () => {
    const t = new FakeTransport('lb1').on(/sysctl -n -- net\.ipv4\.ip_forward/, {
      stdout: `0\n\n__lvsrun_probe_end__ 0\nabsent\n\n__lvsrun_probe_end__ 0\n`,
    });
    const o = await sysctl.check(ctxFor(t), p);
    expect(t.calls).toHaveLength(1);
    expect(o).toEqual({ live: '0', file: { exists: false } });
  });
  it('plans the live change and the persisted line, with an undo that restores both', () => {
    const plan = sysctl.plan(p, { live: '0', file: { exists: false } });
    expect(plan.action).toBe('update');
    expect(plan.steps[0]!.cmd).toBe('sysctl -q -w -- net.ipv4.ip_forward=1');
    expect(Buffer.from(plan.steps[1]!.stdin!, 'base64').toString()).toBe('net.ipv4.ip_forward=1\n');
    expect(plan.undo.map((s) => s.cmd)).toEqual([
      'rm -rf -- /etc/sysctl.d/90-lvs.conf',
      'sysctl -q -w -- net.ipv4.ip_forward=0',
    ]);
  });
  it('does nothing when converged', () => {
    const plan = sysctl.plan(p, {
      live: '1',
      file: { exists: true, type: 'file', content: 'net.ipv4.ip_forward=1\n' },
    });
    expect(plan).toMatchObject({ action: 'noop', steps: [], undo: [] });
  });
  it('fails cleanly on a sysctl the host does not have', () => {
    expect(sysctl.plan(p, { live: null, file: { exists: false } }).fail).toMatch(/does not exist/);
  });
});

describe('lineinfile', () => {
  const a = (x: object) => ({ path: '/f', state: 'present' as const, create: true, backup: false, ...x });
  it('replaces the last regexp match, appends otherwise, and is idempotent', () => {
    expect(editLines('a=1\nb=2\n', a({ regexp: '^a=', line: 'a=9' }))).toBe('a=9\nb=2\n');
    expect(editLines('b=2\n', a({ regexp: '^a=', line: 'a=9' }))).toBe('b=2\na=9\n');
    expect(editLines('a=9\n', a({ regexp: '^a=', line: 'a=9' }))).toBe('a=9\n');
    expect(editLines('', a({ line: 'x' }))).toBe('x\n');
  });
  it('inserts after a match and removes with state absent', () => {
    expect(editLines('[s]\nk=v\n', a({ line: 'n=1', insertafter: '^\\[s\\]' }))).toBe('[s]\nn=1\nk=v\n');
    expect(editLines('a=1\nb=2\n', a({ regexp: '^a=', state: 'absent' }))).toBe('b=2\n');
  });
  it('create under missing directories makes them, and its undo removes exactly the top one it made', () => {
    const st = parseFileState(
      { code: 0, signal: null, stdout: 'absent\n2\n', stderr: '', durationMs: 1 },
      '/srv/a/b/c.conf',
    );
    expect(st).toEqual({ exists: false, missingFrom: '/srv/a' });
    const plan = lineinfile.plan(lineinfile.schema.parse({ path: '/srv/a/b/c.conf', line: 'x=1', create: true }), st);
    expect(plan.steps[0]!.cmd).toMatch(/^d=\/srv\/a\/b\/c\.conf; u=\/srv\/a\/b;[^\n]*\nmkdir -p -- "\$u"/);
    expect(plan.undo.map((u) => u.cmd)).toEqual(['rm -rf -- /srv/a']);
  });
  it('fixes only the mode when the line is already there', () => {
    const st = {
      exists: true,
      type: 'file' as const,
      mode: '0600',
      owner: 'root',
      group: 'root',
      content: 'x=1\n',
      b64: b64('x=1\n'),
    };
    const plan = lineinfile.plan(lineinfile.schema.parse({ path: '/f', line: 'x=1', mode: '0644' }), st);
    expect(plan.steps.map((x) => x.cmd)).toEqual([expect.stringMatching(/^p=\/f;[^]*chmod -- 0644 h/)]);
    expect(plan.undo.map((x) => x.cmd)).toEqual([expect.stringMatching(/^p=\/f;[^]*chmod -- 0600 h/)]);
    expect(lineinfile.plan(lineinfile.schema.parse({ path: '/f', line: 'x=1', mode: '0600' }), st).action).toBe('noop');
  });
});

describe('copy/template file writes', () => {
  const args = { dest: '/etc/x.conf', backup: false, mode: '0640' };
  it('creates a missing file; undo removes it', () => {
    const plan = planFileWrite(args, { state: { exists: false }, want: 'hello\n', source: 'content' });
    expect(plan.action).toBe('create');
    expect(plan.undo.map((s) => s.cmd)).toEqual(['rm -rf -- /etc/x.conf']);
    expect(plan.diff![0]).toEqual({ path: '/etc/x.conf', before: '', after: 'hello\n' });
  });
  it('updates a changed file; undo puts back the old bytes, mode and owner', () => {
    const before = {
      exists: true,
      type: 'file' as const,
      mode: '0600',
      owner: 'root',
      group: 'adm',
      content: 'old\n',
      b64: b64('old\n'),
    };
    const plan = planFileWrite(args, { state: before, want: 'new\n', source: 'content' });
    expect(plan.action).toBe('update');
    const restore = plan.undo.find((s) => s.stdin);
    expect(Buffer.from(restore!.stdin!, 'base64').toString()).toBe('old\n');
    expect(restore!.cmd).toContain('chmod -- 0600 f');
    expect(restore!.cmd).toContain('chown -h -- root:adm f');
  });
  it('is a noop when content and mode match, and fixes only the mode when only it differs', () => {
    const same = {
      exists: true,
      type: 'file' as const,
      mode: '0640',
      owner: 'root',
      group: 'root',
      content: 'x',
      b64: b64('x'),
    };
    expect(planFileWrite(args, { state: same, want: 'x', source: 'content' }).action).toBe('noop');
    const plan = planFileWrite(args, { state: { ...same, mode: '0644' }, want: 'x', source: 'content' });
    expect(plan.steps.map((s) => s.cmd)).toEqual([expect.stringMatching(/^p=\/etc\/x\.conf;[^]*chmod -- 0640 h/)]);
    expect(plan.undo.map((s) => s.cmd)).toEqual([expect.stringMatching(/^p=\/etc\/x\.conf;[^]*chmod -- 0644 h/)]);
  });
});

describe('file', () => {
  it('creates a directory with an undo, and leaves an existing one alone', () => {
    const p = file.schema.parse({ path: '/srv/a b', state: 'directory', mode: '0755' });
    const plan = file.plan(p, { exists: false });
    expect(plan.steps[0]!.cmd).toBe("mkdir -p -- '/srv/a b'");
    expect(plan.undo).toHaveLength(1);
    expect(file.plan(p, { exists: true, type: 'directory', mode: '0755', owner: 'root', group: 'root' }).action).toBe(
      'noop',
    );
  });
  it('refuses to turn a file into a directory', () => {
    const p = file.schema.parse({ path: '/x', state: 'directory' });
    expect(file.plan(p, { exists: true, type: 'file' }).fail).toMatch(/not a directory/);
  });
});

describe('service', () => {
  const p = service.schema.parse({ name: 'nginx', state: 'started' });
  it('parses the probe for systemd and sysv hosts', () => {
    expect(parseServiceProbe('init=sysv\nexists=yes\nactive=inactive\nenabled=disabled\n')).toEqual({
      init: 'sysv',
      exists: true,
      active: false,
      enabled: false,
    });
    expect(parseServiceProbe('init=systemd\nactive=active\nenabled=enabled\nexists=yes\n').init).toBe('systemd');
  });
  it('starts a stopped service; undo stops it; converged is a noop', () => {
    const plan = service.plan(p, { init: 'systemd', exists: true, active: false, enabled: false });
    expect(plan.steps.map((s) => s.cmd)).toEqual(['systemctl start nginx']);
    expect(plan.undo.map((s) => s.cmd)).toEqual(['systemctl stop nginx && systemctl reset-failed nginx']);
    expect(service.plan(p, { init: 'systemd', exists: true, active: true, enabled: false }).action).toBe('noop');
  });
  it('fails for a service that is not installed', () => {
    expect(service.plan(p, { init: 'sysv', exists: false, active: false, enabled: false }).fail).toMatch(
      /not installed/,
    );
  });
  it('reads masked, failed and a changed unit file from the systemd probe', () => {
    expect(parseServiceProbe('init=systemd\nactive=inactive\nenabled=masked\nreload=no\nexists=no\n')).toMatchObject({
      exists: true,
      masked: true,
      active: false,
      enabled: false,
      failed: false,
    });
    expect(parseServiceProbe('init=systemd\nactive=failed\nenabled=disabled\nreload=yes\nexists=yes\n')).toEqual({
      init: 'systemd',
      exists: true,
      active: false,
      enabled: false,
      masked: false,
      failed: true,
      reloadNeeded: true,
    });
  });
  it('refuses to start or enable a masked unit with a clear error; stopping it is a noop', () => {
    const masked = { init: 'systemd' as const, exists: true, active: false, enabled: false, masked: true };
    expect(service.plan(p, masked).fail).toBe(
      'service nginx is masked on this host: systemd refuses to start it (unmask it first: systemctl unmask nginx)',
    );
    expect(service.plan(service.schema.parse({ name: 'nginx', enabled: true }), masked).fail).toMatch(
      /masked .* refuses to enable it/,
    );
    expect(service.plan(service.schema.parse({ name: 'nginx', state: 'stopped' }), masked).action).toBe('noop');
  });
  it("undoes a start under systemd with stop and reset-failed, so a start that failed leaves no 'failed' state", () => {
    const plan = service.plan(p, { init: 'systemd', exists: true, active: false, enabled: false, failed: false });
    expect(plan.undo.map((s) => s.cmd)).toEqual(['systemctl stop nginx && systemctl reset-failed nginx']);
    // A unit that was failed before stays failed after the undo: only stopped.
    const wasFailed = service.plan(p, { init: 'systemd', exists: true, active: false, enabled: false, failed: true });
    expect(wasFailed.undo.map((s) => s.cmd)).toEqual(['systemctl stop nginx']);
  });
  it('runs daemon-reload first when the unit file changed on disk, even if the service is converged', () => {
    const o = { init: 'systemd' as const, exists: true, active: false, enabled: false, reloadNeeded: true };
    expect(service.plan(p, o).steps.map((s) => s.cmd)).toEqual(['systemctl daemon-reload', 'systemctl start nginx']);
    const up = service.plan(p, { ...o, active: true });
    expect(up.action).toBe('update');
    expect(up.steps.map((s) => s.cmd)).toEqual(['systemctl daemon-reload']);
    expect(service.plan(p, { ...o, active: true, reloadNeeded: false }).action).toBe('noop');
  });
});

describe('package', () => {
  it('installs only what is missing and undoes by removing it', () => {
    const p = pkg.schema.parse({ name: ['keepalived', 'ipvsadm'] });
    const plan = pkg.plan(p, { mgr: 'apt', installed: { keepalived: '1:2.2.7', ipvsadm: null }, upgradable: [] });
    expect(plan.steps[0]!.cmd).toContain(
      'apt-get install -y -q --no-upgrade -o Dpkg::Options::=--force-confold ipvsadm',
    );
    expect(plan.undo[0]!.cmd).toContain('apt-get remove -y -q ipvsadm');
    expect(pkg.plan(p, { mgr: 'apt', installed: { keepalived: '1', ipvsadm: '1' }, upgradable: [] }).action).toBe(
      'noop',
    );
  });
});

describe('command', () => {
  it('splits like a shell without running one, and skips when creates exists', () => {
    expect(splitArgs(`cp "a b" 'c d' e\\ f`)).toEqual(['cp', 'a b', 'c d', 'e f']);
    const p = command.schema.parse({ cmd: 'echo $(id)' });
    expect(command.plan(p, {}).steps[0]!.cmd).toBe("echo '$(id)'");
    expect(command.plan(p, { skip: '/x exists' }).action).toBe('noop');
    expect(command.plan(p, {}).irreversible).toBe(true);
  });
});
