import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { ExecOptions, ExecResult } from '../../src/transport/types.js';
import type { ShellCmd } from '../../src/transport/shell.js';
import { FakeTransport } from '../../src/transport/fake.js';
import { cmds, fakeHost, runFlow, writePlay } from './flow-fixture.js';
import { runOptions } from './run-options.js';

const INV3 = 'all:\n  hosts:\n    h1: {}\n    h2: {}\n    h3: {}\n';
const FWD = 'sysctl: {name: net.ipv4.ip_forward, value: 1, sysctl_file: /etc/s.conf}';
const FATAL_PLAY = (where: 'play' | 'task') => `- hosts: all
${where === 'play' ? '  any_errors_fatal: true\n' : ''}  tasks:
    - name: fwd
      ${FWD}
    - name: boom
      command: /bin/false
      when: inventory_hostname == 'h2'
${where === 'task' ? '      any_errors_fatal: true\n' : ''}    - name: after
      command: /bin/true
- hosts: all
  tasks:
    - name: next play
      command: /bin/true
`;

describe('any_errors_fatal', () => {
  for (const where of ['play', 'task'] as const) {
    it(`(${where}) a failure on one host ends the play on every host of the batch, each rolled back`, async () => {
      const r = await runFlow(FATAL_PLAY(where), INV3);
      expect(r.s.exitCode).toBe(2);
      expect(r.order.filter((o) => /:(after|next play):/.test(o))).toEqual([]);
      expect(r.s.recap.h2).toMatchObject({ failed: 1, rolled_back: 1 });
      for (const h of ['h1', 'h3']) {
        expect(r.s.recap[h]).toMatchObject({ failed: 0, rolled_back: 1 });
        expect(cmds(r.t[h]!).at(-1)).toBe('sysctl -q -w -- net.ipv4.ip_forward=0');
      }
    });
  }

  it('without it the other hosts go on', async () => {
    const r = await runFlow(FATAL_PLAY('play').replace('  any_errors_fatal: true\n', ''), INV3);
    expect(r.order.filter((o) => o.includes(':after:')).sort()).toEqual(['h1:after:changed', 'h3:after:changed']);
    expect(r.s.recap.h1).toMatchObject({ rolled_back: 0 });
  });

  it('later serial batches do not run', async () => {
    const r = await runFlow(
      `- hosts: all
  serial: 1
  any_errors_fatal: true
  tasks:
    - command: /bin/false
      when: inventory_hostname == 'h1'
`,
      INV3,
    );
    expect(r.order).toEqual(['h1:command:failed']);
  });

  it('a failure a rescue handles is not fatal', async () => {
    const r = await runFlow(
      `- hosts: all
  any_errors_fatal: true
  tasks:
    - block:
        - command: /bin/false
          when: inventory_hostname == 'h2'
      rescue:
        - command: echo rescued
    - name: after
      command: /bin/true
`,
      INV3,
    );
    expect(r.s.exitCode).toBe(0);
    expect(r.order.filter((o) => o.includes(':after:'))).toHaveLength(3);
  });
});

/** A host whose `work` command stays in flight until three run at once, or 150 ms have passed. */
class Overlap {
  inFlight = 0;
  max = 0;
  private wake: Array<() => void> = [];
  host(name: string): FakeTransport {
    const t = fakeHost(name);
    const exec = t.exec.bind(t);
    t.exec = async (cmd: ShellCmd, o?: ExecOptions): Promise<ExecResult> => {
      if (!cmd.startsWith('work')) return exec(cmd, o);
      this.inFlight++;
      this.max = Math.max(this.max, this.inFlight);
      if (this.inFlight >= 3) for (const w of this.wake.splice(0)) w();
      else await new Promise<void>((res) => this.wake.push(res) && setTimeout(res, 150));
      this.inFlight--;
      return { code: 0, signal: null, stdout: '', stderr: '', durationMs: 0 };
    };
    return t.on(/^work/, {});
  }
}

async function overlap(pb: string): Promise<number> {
  const dir = writePlay(pb, INV3);
  const o = new Overlap();
  const t = { h1: o.host('h1'), h2: o.host('h2'), h3: o.host('h3') };
  const s = await runPlaybook(
    loadPlaybook(join(dir, 'pb.yaml')),
    loadInventory(join(dir, 'inv.yaml')),
    {
      ...runOptions(),
    },
    async (h) => t[h as keyof typeof t],
    new EventBus(),
  );
  expect(s.exitCode).toBe(0);
  return o.max;
}

describe('throttle', () => {
  it('without it, the hosts run a task at once (the probe can see overlap)', async () => {
    expect(await overlap('- hosts: all\n  tasks:\n    - command: work\n')).toBe(3);
  });
  it('throttle: 1 runs the task on one host at a time', async () => {
    expect(await overlap('- hosts: all\n  tasks:\n    - command: work\n      throttle: 1\n')).toBe(1);
  });
  it("a block's throttle applies to its tasks, with the free strategy too", async () => {
    const pb = '- hosts: all\n  strategy: free\n  tasks:\n    - block:\n        - command: work\n      throttle: 2\n';
    expect(await overlap(pb)).toBe(2);
  });
  it('a throttle that is not a whole number is refused at load', () => {
    const dir = writePlay('- hosts: all\n  tasks:\n    - command: work\n      throttle: two\n', INV3);
    expect(() => loadPlaybook(join(dir, 'pb.yaml'))).toThrow(/'throttle' must be a whole number, 0 or more/);
  });
});
