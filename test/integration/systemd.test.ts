import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labDir } from '../../src/lab/paths.js';
import { cli, recapLine, waitFor, type CliResult } from './helpers.js';
import { useLab } from './lab-session.js';

// systemd as PID 1 of the namespace lab hosts (the default): the service module meets a real
// systemctl, as on the fleet.
const env = process.env;
const L = useLab();
const on = async (host: string, cmd: string): Promise<string> => (await L.exec(host, cmd)).stdout.trim();

const UNIT = '/etc/systemd/system/lvsrun-probe.service';
const probeUnit = (v: string): string => `[Unit]
Description=lvsrun test unit
[Service]
ExecStart=/bin/sh -c 'echo start-${v} >> /run/probe.log; exec sleep 1000000'
ExecReload=/bin/sh -c 'echo reload >> /run/probe.log'
[Install]
WantedBy=multi-user.target
`;
// A unit whose start fails (a oneshot whose command exits 3).
const BAD_UNIT = `[Unit]
Description=lvsrun test unit that fails to start
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'echo tried >> /run/bad.log; exit 3'
`;

async function play(name: string, tasks: string[]): Promise<CliResult> {
  const f = join(labDir(env), `${name}.yaml`);
  writeFileSync(f, `- hosts: rs1\n  gather_facts: false\n  tasks:\n${tasks.map((t) => `    - ${t}\n`).join('')}`);
  return cli(f, '-i', 'lab');
}
const state = (unit: string): Promise<string> =>
  on('rs1', `systemctl is-active ${unit}; systemctl is-enabled ${unit}; true`);
const mainPid = (): Promise<string> => on('rs1', 'systemctl show -p MainPID --value lvsrun-probe');
const log = (): Promise<string> => on('rs1', 'cat /run/probe.log 2>/dev/null; true');

describe('systemd as PID 1 in the namespace lab', () => {
  it('lab ssh rs1 sees systemd as PID 1, running with no failed unit, and none of the machine services enabled', async () => {
    const r = await cli('lab', 'ssh', 'rs1', 'cat /proc/1/comm');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('systemd\n');
    // Boot finishes after sshd is up: wait for the state, on a busy machine too.
    await waitFor(async () => (await on('rs1', 'systemctl is-system-running; true')) !== 'starting', L.bound(60_000));
    expect(await on('rs1', 'systemctl is-system-running; systemctl --failed --no-legend --plain; true')).toBe(
      'running',
    );
    // A fresh host: nginx and keepalived are installed (the machine's packages) but disabled and stopped.
    expect(await state('nginx')).toBe('inactive\ndisabled');
    expect(await state('keepalived')).toBe('inactive\ndisabled');
    // Its own cgroup namespace: its systemd sees only its own units.
    expect(await on('rs1', 'grep name=systemd /proc/self/cgroup')).toMatch(/:name=systemd:\/system\.slice\//);
  });

  it('site.yaml starts and enables nginx and keepalived through systemctl; a second run changes nothing', async () => {
    const first = await cli('playbooks/site.yaml', '-i', 'lab');
    expect(first.code, first.out + first.err).toBe(0);
    for (const h of ['rs1', 'rs2']) {
      expect(await on(h, 'systemctl is-active nginx; systemctl is-enabled nginx')).toBe('active\nenabled');
    }
    expect(await on('lb1', 'systemctl is-active keepalived')).toBe('active');
    const second = await cli('playbooks/site.yaml', '-i', 'lab');
    for (const h of ['lb1', 'lb2', 'rs1', 'rs2'])
      expect(recapLine(second.out, h)).toMatchObject({ changed: 0, failed: 0 });
  });

  it('start, reload, restart and stop act through systemctl and are seen by the next run', async () => {
    await L.exec('rs1', `cat > ${UNIT} && systemctl daemon-reload`, probeUnit('v1'));
    const started = await play('start', ['service: {name: lvsrun-probe, state: started}']);
    expect(started.code, started.out).toBe(0);
    expect(recapLine(started.out, 'rs1')).toMatchObject({ changed: 1 });
    expect(await state('lvsrun-probe')).toBe('active\ndisabled');
    const again = await play('start', ['service: {name: lvsrun-probe, state: started}']);
    expect(recapLine(again.out, 'rs1')).toMatchObject({ changed: 0, ok: 1 });
    const pid = await mainPid();
    expect(Number(pid)).toBeGreaterThan(1);

    expect((await play('reload', ['service: {name: lvsrun-probe, state: reloaded}'])).code).toBe(0);
    await waitFor(async () => (await log()).includes('reload'), L.bound(30_000));
    expect(await mainPid()).toBe(pid); // a reload keeps the process

    expect((await play('restart', ['service: {name: lvsrun-probe, state: restarted}'])).code).toBe(0);
    expect(await mainPid()).not.toBe(pid);
    expect(await log()).toBe('start-v1\nreload\nstart-v1');

    expect((await play('stop', ['service: {name: lvsrun-probe, state: stopped}'])).code).toBe(0);
    expect(await state('lvsrun-probe')).toBe('inactive\ndisabled');
  });

  it('enabled: true is what systemctl is-enabled reports, and a rollback disables it again', async () => {
    const failing = await play('enable-fail', ['service: {name: lvsrun-probe, enabled: true}', 'command: /bin/false']);
    expect(failing.code, failing.out).toBe(2);
    expect(recapLine(failing.out, 'rs1')).toMatchObject({ failed: 1, rolled_back: 1 });
    expect(await state('lvsrun-probe')).toBe('inactive\ndisabled');
    const ok = await play('enable', ['service: {name: lvsrun-probe, enabled: true}']);
    expect(ok.code, ok.out).toBe(0);
    expect(await state('lvsrun-probe')).toBe('inactive\nenabled');
    expect(await on('rs1', 'readlink /etc/systemd/system/multi-user.target.wants/lvsrun-probe.service')).toBe(UNIT);
  });

  it('a unit that fails to start fails the task; the undo leaves it, and what ran before, as they were', async () => {
    await L.exec('rs1', 'cat > /etc/systemd/system/lvsrun-bad.service && systemctl daemon-reload', BAD_UNIT);
    const before = await state('lvsrun-probe');
    const r = await play('bad', [
      'service: {name: lvsrun-probe, state: restarted}',
      'service: {name: lvsrun-bad, state: started}',
    ]);
    expect(r.code, r.out).toBe(2);
    expect(recapLine(r.out, 'rs1')).toMatchObject({ failed: 1, rolled_back: 1 });
    expect(r.out).toMatch(/lvsrun-bad\.service/); // systemctl's own words name the unit
    expect(await on('rs1', 'cat /run/bad.log')).toBe('tried'); // it really was started
    // Not left 'failed': as it was before the run.
    expect(await state('lvsrun-bad')).toBe('inactive\nstatic');
    expect(await state('lvsrun-probe')).toBe(before);
  });

  it('a masked unit is a clear error naming it and the fix; nothing is started', async () => {
    // keepalived's packaged unit, masked by the admin (a link to /dev/null in /etc).
    expect(await on('rs1', 'systemctl mask keepalived 2>&1 && systemctl is-enabled keepalived; true')).toMatch(
      /masked$/,
    );
    try {
      const r = await play('masked', ['service: {name: keepalived, state: started}']);
      expect(r.code, r.out).toBe(2);
      expect(r.out).toContain(
        'service keepalived is masked on this host: systemd refuses to start it ' +
          '(unmask it first: systemctl unmask keepalived)',
      );
      expect(await on('rs1', 'systemctl is-active keepalived; pidof keepalived || echo none')).toBe('inactive\nnone');
    } finally {
      await on('rs1', 'systemctl unmask keepalived');
    }
  });

  it('a changed unit file is loaded (daemon-reload) before the service is started', async () => {
    await on('rs1', 'systemctl stop lvsrun-probe');
    await L.exec('rs1', `cat > ${UNIT}`, probeUnit('v2'));
    expect(await on('rs1', 'systemctl show -p NeedDaemonReload --value lvsrun-probe')).toBe('yes');
    const r = await play('reloaded-unit', ['service: {name: lvsrun-probe, state: started}']);
    expect(r.code, r.out).toBe(0);
    expect((await log()).split('\n').at(-1)).toBe('start-v2');
    expect(await on('rs1', 'systemctl show -p NeedDaemonReload --value lvsrun-probe')).toBe('no');
    const again = await play('reloaded-unit', ['service: {name: lvsrun-probe, state: started}']);
    expect(recapLine(again.out, 'rs1')).toMatchObject({ changed: 0 });
  });
});
