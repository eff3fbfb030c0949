import { describe, expect, it } from 'vitest';
import { cmds, runFlow } from './flow-fixture.js';

const INV3 = 'all:\n  hosts:\n    h1: {}\n    h2: {}\n    h3: {}\n';
const FWD = 'sysctl: {name: net.ipv4.ip_forward, value: 1, sysctl_file: /etc/s.conf}';

describe('run_once', () => {
  it('runs on the first host of the batch; what it registers is registered on every host', async () => {
    const r = await runFlow(
      `- hosts: all
  tasks:
    - name: once
      command: echo from {{ inventory_hostname }}
      run_once: true
      register: once
    - name: each
      command: echo {{ inventory_hostname }} got {{ once.stdout }}
`,
      INV3,
    );
    expect(r.s.exitCode).toBe(0);
    expect(cmds(r.t.h1!)).toEqual(['echo from h1', 'echo h1 got from h1']);
    expect(cmds(r.t.h2!)).toEqual(['echo h2 got from h1']);
    expect(cmds(r.t.h3!)).toEqual(['echo h3 got from h1']);
    // Reported once, on the host that ran it (Ansible's recap counts it there only).
    expect(r.order.filter((o) => o.includes(':once:'))).toEqual(['h1:once:changed']);
    expect(r.s.recap.h2).toMatchObject({ ok: 1, changed: 1 });
  });

  it('with serial: once per batch', async () => {
    const r = await runFlow(
      `- hosts: all
  serial: 2
  tasks:
    - name: once
      command: echo once
      run_once: true
`,
      INV3,
    );
    expect(r.order).toEqual(['h1:once:changed', 'h3:once:changed']);
  });

  it('a failure fails every host of the batch, each rolled back; counted failed on the host that ran it', async () => {
    const r = await runFlow(
      `- hosts: all
  tasks:
    - name: fwd
      ${FWD}
    - name: once
      command: /bin/false
      run_once: true
    - name: after
      command: /bin/true
`,
      INV3,
    );
    expect(r.s.exitCode).toBe(2);
    expect(r.s.recap.h1).toMatchObject({ failed: 1, rolled_back: 1 });
    for (const h of ['h2', 'h3']) {
      expect(r.s.recap[h]).toMatchObject({ failed: 0, rolled_back: 1 });
      expect(cmds(r.t[h]!).at(-1)).toBe('sysctl -q -w -- net.ipv4.ip_forward=0');
    }
    expect(r.order.filter((o) => o.includes(':after:'))).toEqual([]);
    expect(new Set(r.journal.filter((x) => x.phase === 'undone').map((x) => x.host))).toEqual(
      new Set(['h1', 'h2', 'h3']),
    );
  });

  it('its change is journaled under the host that ran it, and undone only with that host', async () => {
    const r = await runFlow(
      `- hosts: all
  tasks:
    - name: once
      ${FWD}
      run_once: true
    - name: boom
      command: /bin/false
      when: inventory_hostname == 'h2'
`,
    );
    expect(r.journal.filter((x) => x.phase === 'begin').map((x) => [x.host, x.task])).toEqual([['h1', 'once']]);
    expect(r.s.recap.h2).toMatchObject({ failed: 1, rolled_back: 0 });
    expect(cmds(r.t.h1!).some((c) => c.startsWith('rm -rf'))).toBe(false);
    expect(cmds(r.t.h2!)).toEqual(['/bin/false']);
  });

  it('a change notifies the handler on every host of the batch', async () => {
    const r = await runFlow(`- hosts: all
  tasks:
    - name: once
      command: echo once
      run_once: true
      notify: h
  handlers:
    - name: h
      command: echo handler {{ inventory_hostname }}
`);
    expect(cmds(r.t.h1!)).toEqual(['echo once', 'echo handler h1']);
    expect(cmds(r.t.h2!)).toEqual(['echo handler h2']);
  });

  it('the free strategy runs it once too, and every host sees its result', async () => {
    const r = await runFlow(
      `- hosts: all
  strategy: free
  tasks:
    - name: once
      command: echo once
      run_once: true
      register: o
    - command: echo {{ o.stdout }}
`,
      INV3,
    );
    expect(r.order.filter((o) => o.includes(':once:'))).toHaveLength(1);
    for (const h of ['h1', 'h2', 'h3']) expect(cmds(r.t[h]!)).toContain('echo once');
    expect([...cmds(r.t.h1!), ...cmds(r.t.h2!), ...cmds(r.t.h3!)].filter((c) => c === 'echo once')).toHaveLength(4);
  });
});

describe('run_once in handlers', () => {
  it('the first notified host runs the handler once for the batch', async () => {
    const r = await runFlow(`- hosts: all
  tasks:
    - name: change
      command: echo change {{ inventory_hostname }}
      notify: reload
  handlers:
    - name: reload
      command: echo reload
      run_once: true
`);
    expect([...cmds(r.t.h1!), ...cmds(r.t.h2!)].filter((c) => c === 'echo reload')).toHaveLength(1);
    expect(r.order.filter((o) => o.includes(':reload:'))).toHaveLength(1);
    expect(
      r.journal
        .filter((x) => x.phase === 'handler')
        .map((x) => x.host)
        .sort(),
    ).toEqual(['h1', 'h2']);
  });
});
