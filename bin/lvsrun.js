#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// Grow the heap by half of what survives a full collection, not by V8's default (up to 4x on a
// fast-allocating process): a run's live data is small, but a 200-host run peaked at 210 MiB with
// the default and 150 MiB with this, for about 5% more CPU. Set before anything is loaded.
setFlagsFromString('--heap-growing-percent=50');
const { main } = await import('../dist/lvsrun-cli.js');

const code = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stdout.isTTY) && !process.env.CI,
  cwd: process.cwd(),
  env: process.env,
});
process.exitCode = code;
