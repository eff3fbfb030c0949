import { execOpts } from '../transport/become.js';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { becomeSpec } from '../engine/connect.js';
import { lockHost } from '../engine/host-lock.js';
import type { Connector } from '../engine/connect-host.js';
import { LvsrunError, TransportError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import type { TemplateEngine } from '../template/render.js';
import { Journal, readJournal } from './journal.js';
import { outstanding, withoutUndo } from './outstanding.js';
import { replayUndo } from './replay.js';

/**
 * `changes`: changes put back (when ok). `noUndo`: tasks of the run that changed the host without a
 * full undo: never restored.
 */
export interface HostRestore {
  host: string;
  changes: number;
  steps: number;
  ok: boolean;
  pending?: boolean;
  error?: string;
  noUndo?: string[];
}

export interface RestoreInput {
  runDir: string;
  inv: Inventory;
  connect: Connector;
  templates: TemplateEngine;
  extraVars: Record<string, unknown>;
  hosts?: Set<string>;
  lock: { operator: string; breakLock: boolean };
  onHost?: (r: HostRestore) => void;
}

/** The runs folder, newest last (run ids start with a UTC timestamp). */
export function runIds(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((d) => existsSync(join(runsDir, d, 'journal.jsonl')))
    .sort();
}

/**
 * `lvsrun rollback`: revert every change a run left in effect, host by host, newest first,
 * appending to the same journal, so it can be run again after a partial rollback.
 */
export async function restoreRun(i: RestoreInput): Promise<HostRestore[]> {
  const file = join(i.runDir, 'journal.jsonl');
  if (!existsSync(file))
    throw new LvsrunError('E_JOURNAL', `no journal at ${file}`, {
      hint: 'lvsrun runs lists the runs this folder knows',
    });
  const records = readJournal(file);
  const todo = [...outstanding(records)].filter(([h]) => !i.hosts || i.hosts.has(h));
  const noUndo = [...withoutUndo(records)].filter(([h]) => !i.hosts || i.hosts.has(h));
  const journal = new Journal(i.runDir);
  try {
    const restored = await Promise.all(
      todo.map(async ([host, entries]) => {
        const r = await restoreHost(i, journal, host, entries);
        journal.write({
          phase: r.pending ? 'pending' : 'restored',
          host,
          outcome: r.ok ? 'ok' : (r.error ?? 'failed'),
        });
        const tasks = noUndo.find(([h]) => h === host)?.[1];
        const out = tasks ? { ...r, noUndo: tasks } : r;
        i.onHost?.(out);
        return out;
      }),
    );
    // Hosts whose only changes had no undo: nothing to run, but they are reported, never as restored.
    const only = noUndo
      .filter(([h]) => !todo.some(([t]) => t === h))
      .map(([host, tasks]): HostRestore => ({ host, changes: 0, steps: 0, ok: true, noUndo: tasks }));
    for (const r of only) i.onHost?.(r);
    return [...restored, ...only];
  } finally {
    await journal.close();
  }
}

async function restoreHost(
  i: RestoreInput,
  journal: Journal,
  host: string,
  entries: ReturnType<typeof outstanding> extends Map<string, infer E> ? E : never,
): Promise<HostRestore> {
  const base = { host, changes: entries.length, steps: 0 };
  const h = i.inv.hosts.get(host);
  if (!h)
    return {
      ...base,
      ok: false,
      pending: true,
      error: `${host} is not in this inventory (pass the inventory of the run with -i)`,
    };
  const vars: Record<string, unknown> = { ...h.vars, ...i.extraVars, inventory_hostname: host };
  let t;
  try {
    t = await i.connect(host, vars);
  } catch (e) {
    return { ...base, ok: false, pending: true, error: e instanceof LvsrunError ? e.format() : (e as Error).message };
  }
  try {
    const lock = await lockHost(
      t,
      vars,
      i.templates,
      `rollback of ${i.runDir.split('/').at(-1)}`,
      i.lock.operator,
      i.lock.breakLock,
    );
    try {
      const become = (user?: string) => ({
        ...becomeSpec(vars, false, 'root'),
        enabled: user !== undefined,
        user: user ?? 'root',
      });
      const r = await replayUndo(t, entries, journal, (e) => execOpts(become(e.becomeUser)));
      return { ...base, ...r };
    } finally {
      lock.release();
    }
  } catch (e) {
    if (e instanceof TransportError) return { ...base, ok: false, pending: true, error: e.format() };
    return { ...base, ok: false, error: e instanceof LvsrunError ? e.format() : (e as Error).message };
  } finally {
    await t.close().catch(() => undefined);
  }
}
