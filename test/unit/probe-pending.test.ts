import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { delegateView, HostState } from '../../src/engine/host-state.js';
import { changed, probeAhead, stepsSent, type ProbeEnv } from '../../src/engine/speculate.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { TemplateEngine } from '../../src/template/render.js';
import { FakeTransport } from '../../src/transport/fake.js';

// A change delegated to d1 from another host's task is counted on d1 (its probes are stale) before
// its journal record is durable, and written to d1 only after. A probe d1 sent in between would run
// before the change while counting as made after it, and a later task would trust a stale answer.
describe('probes sent ahead wait for a change that is recorded but not yet written', () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-pending-'));
    writeFileSync(
      join(dir, 'pb.yaml'),
      '- hosts: all\n  tasks:\n    - {name: a, copy: {content: "a\\n", dest: /tmp/x/a}}\n' +
        '    - {name: b, stat: {path: /tmp/x/b}}\n',
    );
    const play = loadPlaybook(join(dir, 'pb.yaml')).plays[0]!;
    const env: ProbeEnv = { play, check: false, templates: new TemplateEngine(), vars: () => ({}) };
    const d1 = new HostState('d1');
    const t = new FakeTransport('d1').on(/./, { code: 0, stdout: '' });
    d1.transport = t;
    return { env, play, d1, t, origin: new HostState('h1') };
  };

  it('no probe goes out between the change being counted and its steps being written; after that they do', () => {
    const { env, play, d1, t, origin } = setup();
    const view = delegateView(origin, d1);
    changed(view.probing); // h1's task, delegated to d1, is about to change it (journal not yet durable)
    probeAhead(env, d1, play.tasks);
    expect(t.calls).toEqual([]);
    expect(d1.probing.probes.size).toBe(0);
    stepsSent(view.probing); // its steps are written to d1's shell: probes queue behind them
    probeAhead(env, d1, play.tasks);
    expect(t.calls.length).toBeGreaterThan(0);
    expect([...d1.probing.probes.values()].every((p) => p.changes === d1.probing.changes)).toBe(true);
  });

  it('two changes pending: probes wait until both are written', () => {
    const { env, play, d1, t, origin } = setup();
    changed(delegateView(origin, d1).probing);
    changed(d1.probing);
    stepsSent(d1.probing);
    probeAhead(env, d1, play.tasks, 1);
    expect(t.calls).toEqual([]);
    stepsSent(d1.probing);
    probeAhead(env, d1, play.tasks, 1);
    expect(t.calls.length).toBeGreaterThan(0);
  });
});
