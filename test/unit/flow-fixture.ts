import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import type { RunOptions, RunSummary } from '../../src/engine/types.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { readJournal, type JournalRecord } from '../../src/rollback/journal.js';
import { FakeTransport } from '../../src/transport/fake.js';
import { runOptions } from './run-options.js';

/** A sysctl probe that finds the value 0 and no file: the task changes it (undo: set 0, remove the file). */
export const SYSCTL_PROBE = '0\n\n__lvsrun_probe_end__ 0\nabsent\n\n__lvsrun_probe_end__ 0\n';

/** A fake host answering sysctl tasks, `echo`, `/bin/true` and failing `/bin/false`. */
export function fakeHost(name: string): FakeTransport {
  return addFakeReplies(new FakeTransport(name));
}

/** fakeHost's replies, after any a test scripted first (the first matching rule answers). */
function addFakeReplies(t: FakeTransport): FakeTransport {
  return (
    t
      .on(/sysctl -n/, { stdout: SYSCTL_PROBE })
      .on(/^sysctl -q -w/, {})
      .on(/base64 -d/, {})
      .on(/^rm -rf/, {})
      .on(/^echo /, (cmd) => ({ stdout: `${cmd.slice(5)}\n` }))
      .on(/^\/bin\/true$/, {})
      // `emit TEXT` prints TEXT percent-decoded: how a test makes a host print braces, newlines, anything.
      .on(/^emit /, (cmd) => ({ stdout: decodeURIComponent(cmd.slice(5)) }))
      .on(/^\/bin\/false$/, { code: 1, stderr: 'nope' })
      .on(/exec 9<>/, { stdout: 'LOCKED\n' })
  );
}

export interface FlowRun {
  s: RunSummary;
  /** host:task:status in the order the results came. */
  order: string[];
  /** Task names in the order they started (linear). */
  started: string[];
  t: Record<string, FakeTransport>;
  journal: JournalRecord[];
  dir: string;
}

export function writePlay(pb: string, inv: string): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsrun-flow-'));
  writeFileSync(join(d, 'pb.yaml'), pb);
  writeFileSync(join(d, 'inv.yaml'), inv);
  return d;
}

export const INV2 = 'all:\n  hosts:\n    h1: {}\n    h2: {}\n';

/** Loads and runs `pb` against fake hosts (one FakeTransport per inventory host). */
export async function runFlow(
  pb: string,
  inv = INV2,
  o: Partial<RunOptions> = {},
  script: (t: FakeTransport) => void = () => undefined,
): Promise<FlowRun> {
  const dir = writePlay(pb, inv);
  const inventory = loadInventory(join(dir, 'inv.yaml'));
  const t: Record<string, FakeTransport> = {};
  for (const h of inventory.hosts.keys()) {
    t[h] = new FakeTransport(h);
    script(t[h]);
    addFakeReplies(t[h]);
  }
  const order: string[] = [];
  const started: string[] = [];
  const bus = new EventBus().add({
    on: (e) => {
      if (e.type === 'host:result') order.push(`${e.result.host}:${e.result.task}:${e.result.status}`);
      if (e.type === 'task:start') started.push(e.task);
    },
  });
  const runDir = join(dir, 'run');
  const s = await runPlaybook(
    loadPlaybook(join(dir, 'pb.yaml')),
    inventory,
    {
      ...runOptions(),
      runDir,
      ...o,
    },
    async (h) => {
      const x = t[h];
      if (!x) throw new Error(`no fake host ${h}`);
      return x;
    },
    bus,
  );
  return { s, order, started, t, journal: readJournal(join(runDir, 'journal.jsonl')), dir };
}

/** The commands a fake host ran. */
export const cmds = (t: FakeTransport): string[] => t.calls.map((c) => c.cmd);
