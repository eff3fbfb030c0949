import { createTwoFilesPatch } from 'diff';
import type { Diff } from '../change/types.js';

/** Only this file imports diff. */
export function unifiedDiff(d: Diff): string {
  return createTwoFilesPatch(`${d.path} (before)`, `${d.path} (after)`, d.before, d.after, '', '', { context: 3 })
    .split('\n')
    .slice(1)
    .join('\n');
}
