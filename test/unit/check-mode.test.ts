import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import type { RunOptions } from '../../src/engine/types.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { FakeTransport } from '../../src/transport/fake.js';

/* --check plans against the state the run would reach, and runs what is marked check_mode: false. */
const END = (code: number) => `\n__lvsrun_probe_end__ ${code}\n`;

function host(): FakeTransport {
  return (
    new FakeTransport('h1')
      .on(/redhat-release/, { stdout: 'debian\n' })
      .on(/proc\/net\/ip_vs/, { code: 0 })
      // lvs0 does not exist yet: no address, no persisted file, no link
      .on(/ip -o addr show dev lvs0/, { stdout: `${END(1)}absent\n${END(0)}${END(1)}` })
      .on(/sysctl -n -- net\.ipv4\.conf\.lvs0\.arp_ignore/, { stdout: `${END(255)}absent\n${END(0)}` })
      .on(/sysctl -n -- net\.ipv4\.conf\.default\.arp_ignore/, { stdout: '0\n' })
      .on(/sysctl -n -- net\.ipv4\.ip_forward/, { stdout: `0\n${END(0)}absent\n${END(0)}` })
  );
}

async function run(pb: string, check: boolean) {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-check-'));
  writeFileSync(join(d, 'pb.yaml'), pb);
  writeFileSync(join(d, 'inv.yaml'), 'all:\n  hosts:\n    h1: {}\n');
  const t = host();
  const opts: RunOptions = {
    check,
    forks: 1,
    tags: [],
    skipTags: [],
    extraVars: {},
    runId: 't',
    runDir: join(d, 'run'),
  };
  const s = await runPlaybook(
    loadPlaybook(join(d, 'pb.yaml')),
    loadInventory(join(d, 'inv.yaml')),
    opts,
    async () => t,
    new EventBus(),
  );
  return { s, t, by: (name: string) => s.results.find((r) => r.task === name)! };
}

const PB = `- hosts: all
  tasks:
    - name: probe
      shell: "test -e /proc/net/ip_vs"
      register: probe
      changed_when: false
      failed_when: false
      check_mode: false
    - name: dummy
      vip: {address: 10.20.0.10, interface: lvs0, create: dummy, persist: false}
    - name: arp
      sysctl: {name: net.ipv4.conf.lvs0.arp_ignore, value: 1, persist: false}
    - name: answer
      debug: {msg: "rc={{probe.rc}}"}
`;

describe('--check', () => {
  it('a sysctl on an interface an earlier task would create is planned from the default values, not failed', async () => {
    const { s, by } = await run(PB, true);
    expect(s.recap.h1).toMatchObject({ failed: 0 });
    expect(by('arp')).toMatchObject({ status: 'changed' });
    expect(by('arp').msg).toBe('net.ipv4.conf.lvs0.arp_ignore: 0 → 1 (lvs0 is created by an earlier task)');
  });
  it('without such a task it still fails, as the run would', async () => {
    const { by } = await run(PB.replace(/ {4}- name: dummy\n.*\n/, ''), true);
    expect(by('arp')).toMatchObject({ status: 'failed' });
    expect(by('arp').msg).toMatch(/does not exist/);
  });
  it('check_mode: false runs a read-only task for real, so what depends on its answer is planned right', async () => {
    const { t, by } = await run(PB, true);
    expect(t.calls.some((c) => c.cmd.includes('test -e /proc/net/ip_vs'))).toBe(true);
    expect(by('probe')).toMatchObject({ status: 'ok' });
    expect(by('answer').msg).toBe('rc=0');
    // nothing else ran: the vip and sysctl tasks only read
    expect(t.calls.filter((c) => /ip link add|sysctl -q -w|ip addr add/.test(c.cmd))).toEqual([]);
  });
  it('check_mode: true only plans, even in a real run', async () => {
    const { t, by } = await run(
      `- hosts: all
  tasks:
    - name: fwd
      sysctl: {name: net.ipv4.ip_forward, value: 1, persist: false}
      check_mode: true
`,
      false,
    );
    expect(by('fwd')).toMatchObject({ status: 'changed' });
    expect(t.calls.filter((c) => c.cmd.includes('sysctl -q -w'))).toEqual([]);
  });
  it('check_mode takes a boolean, checked when the playbook loads', () => {
    const d = mkdtempSync(join(tmpdir(), 'lvsrun-check-'));
    writeFileSync(join(d, 'pb.yaml'), '- hosts: all\n  tasks:\n    - debug: {msg: x}\n      check_mode: maybe\n');
    expect(() => loadPlaybook(join(d, 'pb.yaml'))).toThrow(/check_mode/);
  });
});
