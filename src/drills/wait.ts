import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

/** Poll `pred` every `every` ms until it holds (true), the limit passes or `signal` aborts (false). */
export async function until(
  pred: () => Promise<boolean>,
  ms: number,
  signal?: AbortSignal,
  every = 250,
): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end && !signal?.aborted) {
    if (await pred()) return true;
    await sleep(every);
  }
  return false;
}
