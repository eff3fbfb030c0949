// Import rules for src/ (docs/architecture.md, "Layers"). A file may import its own layer and the
// layers below it, never a layer above, and no import cycle: either is an error, with no exceptions.
// Type-only imports count: they tie the files together just the same. Each third-party package is
// imported by its one seam (SEAMS) only.

/** Lowest first. Each entry: the layer's name and the paths (regular expressions) it holds. */
const LAYERS = [
  ['base', ['^src/(errors|exit-codes|package-root)\\.ts$', '^src/(data|text)/']],
  ['io', ['^src/(transport|vault|yaml)/']],
  // Plan, Step, Diff, the change kinds and JournalEntry: what modules, engine and rollback all speak.
  ['change', ['^src/change/']],
  [
    'inputs',
    [
      '^src/(template|inventory|facts)/',
      // The LVS file formats and address checks the modules write and read.
      '^src/lvs/(addr|ifcfg-text|ipvs-table|ipvs-list|group-reals|keepalived-conf|keepalived-weight)\\.ts$',
    ],
  ],
  ['modules', ['^src/modules/']],
  ['playbook', ['^src/playbook/']],
  ['engine', ['^src/(engine|rollback)/']],
  ['features', ['^src/(drills|report|lab)/', '^src/lvs/(model|rules|validate|task-directors|task-reals)\\.ts$']],
  ['entry', ['^src/(cli|schemas|bench)/']],
];

/** Each third-party dependency has one seam: [package, the files (regular expression) that may import it]. */
const SEAMS = [
  ['ssh2', '^src/transport/ssh\\.ts$'],
  ['ssh-config', '^src/transport/ssh-config\\.ts$'],
  ['handlebars', '^src/template/render\\.ts$'],
  ['yaml', '^src/yaml/source\\.ts$'],
  ['listr2', '^src/report/listr\\.ts$'],
  ['p-queue', '^src/engine/runner\\.ts$'],
  ['diff', '^src/report/diff\\.ts$'],
  ['re2js', '^src/text/user-regex\\.ts$'],
  ['ipaddr.js', '^src/lvs/addr\\.ts$'],
  // The argument schemas: the rest of the code reads argument problems through modules/args.ts.
  ['zod', '^src/modules/'],
  ['zod-to-json-schema', '^src/modules/json-schema\\.ts$'],
];

const pathsUpTo = (i) => LAYERS.slice(0, i + 1).flatMap(([, paths]) => paths);
const allLayers = pathsUpTo(LAYERS.length - 1);

const layerRules = LAYERS.map(([name, paths], i) => ({
  name: `layer-${name}`,
  comment: `${name} imports only ${LAYERS.slice(0, i + 1)
    .map(([n]) => n)
    .join(', ')}`,
  severity: 'error',
  from: { path: paths },
  to: { path: '^src/', pathNot: pathsUpTo(i) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: split out the shared part into a file both can import',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-layer',
      comment: 'Every file in src/ belongs to a layer: add its path to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: allLayers },
      to: {},
    },
    ...layerRules,
    ...SEAMS.map(([pkg, seam]) => ({
      name: `seam-${pkg}`,
      comment: `Only ${seam} imports ${pkg}: use it through that file`,
      severity: 'error',
      from: { path: '^src/', pathNot: seam },
      to: { path: `(^|/)node_modules/${pkg.replace(/\./g, '\\.')}/` },
    })),
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
