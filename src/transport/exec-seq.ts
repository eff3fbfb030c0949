import type { ExecItem, ExecResult, Transport } from './types.js';

/**
 * Commands in order, each only if the one before it exited 0 (unless that one `mayFail`): sent
 * together when the transport can, else one by one. Answers the commands that ran. `after` is
 * called once a command sent from it is sure to run on the host after these.
 */
export function execSeq(t: Transport, items: ReadonlyArray<ExecItem>, after?: () => void): Promise<ExecResult[]> {
  return t.execSeq ? t.execSeq(items, after) : execOneByOne(t, items, after);
}

/** The same, one command at a time (each waits for the answer of the one before); `after` at the end. */
export async function execOneByOne(
  t: Transport,
  items: ReadonlyArray<ExecItem>,
  after?: () => void,
): Promise<ExecResult[]> {
  const out: ExecResult[] = [];
  for (const it of items) {
    const r = await t.exec(it.cmd, it.opts);
    out.push(r);
    if (r.code !== 0 && !it.mayFail) break;
  }
  after?.();
  return out;
}
