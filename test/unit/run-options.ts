import type { RunOptions } from '../../src/engine/types.js';

/** The options of a plain run in tests: no check mode, 5 forks, no tags, no -e, run id 't'. */
export const runOptions = (o: Partial<RunOptions> = {}): RunOptions => ({
  check: false,
  forks: 5,
  tags: [],
  skipTags: [],
  extraVars: {},
  runId: 't',
  ...o,
});
