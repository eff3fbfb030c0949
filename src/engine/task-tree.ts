import type { Task } from '../playbook/types.js';

/** A play's tasks as Ansible runs them: plain tasks and blocks with their three sections. */
export type TaskNode =
  | { kind: 'task'; task: Task }
  | { kind: 'block'; id: number; name?: string; block: TaskNode[]; rescue: TaskNode[]; always: TaskNode[] };

/**
 * The tree of a flat task list (as loaded: each task carries the blocks around it). Consecutive
 * tasks of the same block form one node; a block whose tasks were all filtered out (tags) is gone.
 */
export function taskTree(tasks: readonly Task[], depth = 0): TaskNode[] {
  const out: TaskNode[] = [];
  let i = 0;
  while (i < tasks.length) {
    const t = tasks[i]!;
    const frame = t.block?.[depth];
    if (!frame) {
      out.push({ kind: 'task', task: t });
      i++;
      continue;
    }
    let j = i;
    while (j < tasks.length && tasks[j]!.block?.[depth]?.id === frame.id) j++;
    const inside = tasks.slice(i, j);
    const part = (p: 'block' | 'rescue' | 'always'): TaskNode[] =>
      taskTree(
        inside.filter((x) => x.block![depth]!.part === p),
        depth + 1,
      );
    out.push({
      kind: 'block',
      id: frame.id,
      ...(frame.name !== undefined ? { name: frame.name } : {}),
      block: part('block'),
      rescue: part('rescue'),
      always: part('always'),
    });
    i = j;
  }
  return out;
}
