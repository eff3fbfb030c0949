import type { ExecItem, ExecResult, Transport } from './types.js';

/**
 * Commands in order, each only if the one before it exited 0 (unless that one `mayFail`): sent
 * together when the transport can, else one by one. Answers the commands that ran.
 */
export async function execSeq(t: Transport, items: ReadonlyArray<ExecItem>): Promise<ExecResult[]> {
  return t.execSeq && items.length > 1 ? t.execSeq(items) : execOneByOne(t, items);
}

/** The same, one command at a time (each waits for the answer of the one before). */
export async function execOneByOne(t: Transport, items: ReadonlyArray<ExecItem>): Promise<ExecResult[]> {
  const out: ExecResult[] = [];
  for (const it of items) {
    const r = await t.exec(it.cmd, it.opts);
    out.push(r);
    if (r.code !== 0 && !it.mayFail) break;
  }
  return out;
}
