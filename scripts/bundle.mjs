// Bundles the compiled CLI (dist/cli/main.js) and its pure-JS dependencies into dist/lvsrun-cli.js,
// which bin/lvsrun.js loads, and about 40 chunks next to it. Node then reads, resolves and links
// about 55 files for a run (26 of them the bundle's, the rest ssh2's) instead of about 400: its
// first connection starts about 60 ms sooner (docs/benchmark.md).
//
// Each command's implementation stays in chunks loaded only when the command runs (a chunk holds
// the modules reached from the same set of lazily imported modules), so --version and --help still
// load no command code. dist/lvsrun-cli.meta.json records which modules each chunk holds, and
// dist/lvsrun-cli.LICENSES.txt the licence of every package bundled.
//
// ssh2 stays a package of its own: it loads an optional native addon and finds its files next to
// its own modules. The bundle sits directly in dist/, as dist/package-root.js does, so the
// package root it computes from its own address is the same.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

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

// Chunk names carry a hash of their content: an earlier build's are removed, once this one is written.
const written = new Set(Object.keys(result.metafile.outputs).map((f) => f.slice('dist/'.length)));
for (const f of readdirSync(dist)) if (f.startsWith('lvsrun-chunk-') && !written.has(f)) rmSync(join(dist, f));
writeFileSync(join(dist, 'lvsrun-cli.meta.json'), JSON.stringify(result.metafile));

// Each bundled package's own folder (a nested copy is a package of its own), with its licence text.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) packages.add(m[1]);
}
const notices = [...packages].sort().map((dir) => {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const files = readdirSync(join(root, dir)).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f));
  if (!files.length) throw new Error(`${dir}: bundled, but it has no licence file to ship with it`);
  const texts = files.map((f) => readFileSync(join(root, dir, f), 'utf8').trim());
  return `${pkg.name} ${pkg.version} (${pkg.license})\n\n${texts.join('\n\n')}\n`;
});
writeFileSync(
  join(dist, 'lvsrun-cli.LICENSES.txt'),
  `dist/lvsrun-cli.js and its chunks include code of these packages, under these licences.\n\n` +
    notices.join(`\n${'-'.repeat(72)}\n\n`),
);
