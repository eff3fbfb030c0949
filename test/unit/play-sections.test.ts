import { describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { fakeHost, writePlay } from './flow-fixture.js';
import { runOptions } from './run-options.js';

const PB = `- hosts: h1
  post_tasks:
    - name: post
      command: echo post
      notify: report
  tasks:
    - name: main
      command: echo main
      notify: report
  roles: [r1]
  pre_tasks:
    - name: pre
      command: echo pre
      notify: report
  handlers:
    - name: report
      command: echo handler
`;

describe('pre_tasks and post_tasks', () => {
  it('run in Ansible order (pre_tasks, roles, tasks, post_tasks), handlers flushed after each section', async () => {
    const dir = writePlay(PB, 'all:\n  hosts:\n    h1: {}\n');
    mkdirSync(join(dir, 'roles', 'r1', 'tasks'), { recursive: true });
    writeFileSync(join(dir, 'roles', 'r1', 'tasks', 'main.yaml'), '- name: role task\n  command: echo role\n');
    const t = fakeHost('h1');
    const started: string[] = [];
    const bus = new EventBus().add({ on: (e) => void (e.type === 'task:start' && started.push(e.task)) });
    const s = await runPlaybook(
      loadPlaybook(join(dir, 'pb.yaml')),
      loadInventory(join(dir, 'inv.yaml')),
      {
        ...runOptions(),
      },
      async () => t,
      bus,
    );
    expect(s.exitCode).toBe(0);
    expect(started).toEqual([
      'pre',
      'handler: report',
      'r1 : role task',
      'main',
      'handler: report',
      'post',
      'handler: report',
    ]);
    expect(t.calls.map((c) => c.cmd)).toEqual([
      'echo pre',
      'echo handler',
      'echo role',
      'echo main',
      'echo handler',
      'echo post',
      'echo handler',
    ]);
  });
});
