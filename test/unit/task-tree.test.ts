import { describe, expect, it } from 'vitest';
import { taskTree, type TaskNode } from '../../src/engine/task-tree.js';
import type { BlockFrame, Task } from '../../src/playbook/types.js';

const task = (name: string, ...block: BlockFrame[]): Task =>
  ({ name, ...(block.length ? { block } : {}) }) as unknown as Task;
const shape = (nodes: TaskNode[]): unknown =>
  nodes.map((n) =>
    n.kind === 'task'
      ? n.task.name
      : { id: n.id, block: shape(n.block), rescue: shape(n.rescue), always: shape(n.always) },
  );

describe('taskTree', () => {
  it('rebuilds nested blocks from the flat list; adjacent blocks stay apart', () => {
    const b1 = (part: BlockFrame['part']): BlockFrame => ({ id: 1, part });
    const b2 = (part: BlockFrame['part']): BlockFrame => ({ id: 2, part });
    const b3: BlockFrame = { id: 3, part: 'block' };
    const tasks = [
      task('a'),
      task('b', b1('block')),
      task('c', b1('block'), b2('block')),
      task('d', b1('block'), b2('always')),
      task('e', b1('rescue')),
      task('f', b1('always')),
      task('g', b3),
      task('h'),
    ];
    expect(shape(taskTree(tasks))).toEqual([
      'a',
      {
        id: 1,
        block: ['b', { id: 2, block: ['c'], rescue: [], always: ['d'] }],
        rescue: ['e'],
        always: ['f'],
      },
      { id: 3, block: ['g'], rescue: [], always: [] },
      'h',
    ]);
  });
});
