// Bundles the compiled CLI (dist/cli/main.js) and its pure-JS dependencies into dist/lvsrun-cli.js,
// which bin/lvsrun.js loads, and a few chunks next to it. Node then reads, resolves and links about
// 45 files instead of about 430: a run's first connection starts about 60 ms sooner
// (docs/benchmark.md).
//
// Each command's implementation stays in chunks loaded only when the command runs (a chunk holds
// the modules reached from the same set of lazily imported modules), so --version and --help still
// load no command code. dist/lvsrun-cli.meta.json records which modules each chunk holds.
//
// ssh2 stays a package of its own: it loads an optional native addon and finds its files next to
// its own modules. The bundle sits directly in dist/, as dist/package-root.js does, so the
// package root it computes from its own address is the same.
import { build } from 'esbuild';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

// Chunk names carry a hash of their content: the last build's would otherwise stay behind.
for (const f of readdirSync(dist)) if (f.startsWith('lvsrun-chunk-')) rmSync(join(dist, f));

const result = await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist',
  entryNames: 'lvsrun-cli',
  chunkNames: 'lvsrun-chunk-[hash]',
  splitting: true,
  metafile: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ssh2'],
  // The CommonJS dependencies call require() for Node's own modules; an ES module has none.
  banner: {
    js: "import { createRequire as lvsrunCreateRequire } from 'node:module';\nconst require = lvsrunCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'eof',
  logLevel: 'warning',
});
writeFileSync(join(dist, 'lvsrun-cli.meta.json'), JSON.stringify(result.metafile));
