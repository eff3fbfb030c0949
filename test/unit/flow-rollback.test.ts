import { describe, expect, it } from 'vitest';
import { cmds, runFlow } from './flow-fixture.js';

const INV = `all:
  children:
    directors:
      hosts:
        d1: {}
    realservers:
      hosts:
        rs1: {}
        rs2: {}
`;
const DRAIN = `    - name: drain
      sysctl: {name: "net.ipv4.{{ inventory_hostname }}", value: 1, sysctl_file: "/etc/{{ inventory_hostname }}.conf"}
      delegate_to: d1
`;

describe('delegate_to with on_failure and interruption', () => {
  it('rollback-play undoes every host of the batch, delegated changes on the host they were made on', async () => {
    const r = await runFlow(
      `- hosts: realservers
  on_failure: rollback-play
  tasks:
${DRAIN}    - command: /bin/false
      when: inventory_hostname == 'rs2'
`,
      INV,
    );
    expect(r.s.exitCode).toBe(2);
    const d1 = cmds(r.t.d1!);
    expect(d1).toContain('rm -rf -- /etc/rs1.conf');
    expect(d1).toContain('rm -rf -- /etc/rs2.conf');
    expect(r.journal.filter((x) => x.phase === 'undone').map((x) => x.host)).toEqual(['d1', 'd1']);
    expect(cmds(r.t.rs1!)).toEqual([]);
  });

  it('an interrupted run puts back the delegated changes too', async () => {
    const ac = new AbortController();
    const r = await runFlow(
      `- hosts: realservers
  tasks:
${DRAIN}    - command: emit stop
      when: inventory_hostname == 'rs1'
    - name: never
      command: /bin/true
`,
      INV,
      { signal: ac.signal },
      (t) => {
        if (t.host === 'rs1') t.on(/^emit stop/, () => (ac.abort(), {}));
      },
    );
    expect(r.s.interrupted).toBe(true);
    expect(r.order.some((o) => o.includes(':never:'))).toBe(false);
    expect(
      cmds(r.t.d1!)
        .filter((c) => c.startsWith('rm -rf'))
        .sort(),
    ).toEqual(['rm -rf -- /etc/rs1.conf', 'rm -rf -- /etc/rs2.conf']);
    expect(r.journal.filter((x) => x.phase === 'begin').length).toBe(
      r.journal.filter((x) => x.phase === 'undone').length,
    );
  });

  it('--check probes the delegated host and changes nothing anywhere', async () => {
    const r = await runFlow(`- hosts: realservers\n  tasks:\n${DRAIN}`, INV, {
      check: true,
      lock: { enabled: true, breakLock: false, operator: 'op' },
    });
    expect(r.s.recap.rs1).toMatchObject({ changed: 1 });
    for (const c of cmds(r.t.d1!)) expect(c).toMatch(/^\(\nsysctl -n/);
    expect(r.journal.filter((x) => x.phase === 'begin')).toEqual([]);
  });

  it('the free strategy runs blocks: a rescued host goes on, an unrescued one fails', async () => {
    const r = await runFlow(
      `- hosts: realservers
  strategy: free
  tasks:
${DRAIN}    - block:
        - command: /bin/false
      rescue:
        - command: /bin/false
          when: inventory_hostname == 'rs2'
    - name: after
      command: /bin/true
`,
      INV,
    );
    expect(r.s.recap.rs1).toMatchObject({ failed: 0, rescued: 1, rolled_back: 0 });
    expect(r.s.recap.rs2).toMatchObject({ failed: 1, rescued: 1 });
    expect(r.order).toContain('rs1:after:changed');
    expect(r.order).not.toContain('rs2:after:changed');
    // The drains were made on d1: they belong to d1, which did not fail.
    expect(cmds(r.t.d1!).filter((c) => c.startsWith('rm -rf'))).toEqual([]);
  });
});
