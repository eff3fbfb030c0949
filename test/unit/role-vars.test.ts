import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostVars, inventoryMagic } from '../../src/engine/vars.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';

function setup(files: Record<string, string>) {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-rolevars-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, rel)), { recursive: true });
    writeFileSync(join(d, rel), text);
  }
  const inv = loadInventory(join(d, 'hosts.yaml'));
  const play = loadPlaybook(join(d, 'pb.yaml')).plays[0]!;
  const at = (name: string) => {
    const task = play.tasks.find((t) => t.name === name)!;
    return hostVars({
      inv,
      host: 'h1',
      play,
      playHosts: ['h1'],
      task,
      registered: {},
      extraVars: {},
      magic: inventoryMagic(inv),
    });
  };
  return at;
}

describe("every role's defaults and vars are the play's, as in Ansible", () => {
  const at = setup({
    'hosts.yaml': 'all:\n  hosts:\n    h1: {inv: host, d3: host}\n',
    'pb.yaml': `- hosts: all
  vars: {v1: play, d2: play}
  pre_tasks:
    - {name: pre, command: /bin/true}
  roles:
    - {role: r1, vars: {rp: param}}
    - r2
  tasks:
    - {name: after, command: /bin/true}
`,
    'roles/r1/defaults/main.yml': 'd1: r1\nd2: r1\nd3: r1\n__proto__: {polluted: true}\n',
    'roles/r1/vars/main.yml': 'v1: r1\n',
    'roles/r1/tasks/main.yml': '- {name: in r1, command: /bin/true}\n',
    'roles/r2/defaults/main.yml': 'd1: r2\n',
    'roles/r2/vars/main.yml': 'v2: r2\n',
    'roles/r2/tasks/main.yml': '- {name: in r2, command: /bin/true}\n',
  });
  it('tasks before and after the roles see them: later roles win, role vars over play vars, defaults lowest', () => {
    for (const name of ['pre', 'after']) {
      expect(at(name)).toMatchObject({ d1: 'r2', d2: 'play', d3: 'host', v1: 'r1', v2: 'r2', rp: 'param' });
    }
  });
  it("a role's task sees its own defaults over another role's", () => {
    expect(at('r1 : in r1')).toMatchObject({ d1: 'r1', v1: 'r1', v2: 'r2' });
    expect(at('r2 : in r2')).toMatchObject({ d1: 'r2', v1: 'r1', v2: 'r2' });
  });
  it('a __proto__ key in a defaults file is a plain variable, never a prototype', () => {
    const v = at('after');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
