// Import rules for src/ (docs/architecture.md, "Layers"). A file may import its own layer and the
// layers below it, never a layer above. Imports that break this today are listed in KNOWN_UPWARD and
// KNOWN_CYCLE: they are reported as warnings, and any other upward import or import cycle is an error.
// Type-only imports count: they tie the files together just the same.

/** Lowest first. Each entry: the layer's name and the paths (regular expressions) it holds. */
const LAYERS = [
  ['base', ['^src/(errors|exit-codes|package-root)\\.ts$', '^src/(data|text)/']],
  ['io', ['^src/(transport|vault)/']],
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
  ['features', ['^src/(drills|report|lab)/', '^src/lvs/(model|rules|validate|task-directors)\\.ts$']],
  ['entry', ['^src/(cli|schemas|bench)/']],
];

/** Upward imports present today, each to be removed by moving the imported code down: [layer, from, to]. */
const KNOWN_UPWARD = [
  // The YAML seam lives in playbook/ but the inventory loaders read YAML too.
  ['inputs', '^src/inventory/(load|load-yaml|vars-files)\\.ts$', '^src/playbook/yaml-source\\.ts$'],
  // ModuleCtx (the per-host context) is declared with the modules.
  ['inputs', '^src/facts/os\\.ts$', '^src/modules/types\\.ts$'],
  // The redactor is shared by the engine and every reporter.
  ['engine', '^src/engine/(types|run-task)\\.ts$', '^src/report/redact\\.ts$'],
  // Io (the terminal streams) is declared in the CLI entry point.
  ['features', '^src/lab/ssh\\.ts$', '^src/cli/main\\.ts$'],
];

/** Every file of today's cycles: all of them pass through the Io type of cli/main.ts or LabState. */
const KNOWN_CYCLE = [
  '^src/cli/main\\.ts$',
  '^src/cli/vault-options\\.ts$',
  '^src/cli/commands/(completion|drill|init|inventory|lab|rollback|run|runs|validate|vault)\\.ts$',
  '^src/lab/(ssh|lab|inventory)\\.ts$',
];

const pathsUpTo = (i) => LAYERS.slice(0, i + 1).flatMap(([, paths]) => paths);
const allLayers = pathsUpTo(LAYERS.length - 1);

const layerRules = LAYERS.flatMap(([name, paths], i) => {
  const allowed = pathsUpTo(i);
  const excepted = KNOWN_UPWARD.filter(([layer]) => layer === name);
  return [
    {
      name: `layer-${name}`,
      comment: `${name} imports only ${LAYERS.slice(0, i + 1)
        .map(([n]) => n)
        .join(', ')}`,
      severity: 'error',
      from: { path: paths, pathNot: excepted.map(([, from]) => from) },
      to: { path: '^src/', pathNot: allowed },
    },
    // A file with a known upward import is still held to the rule for everything else it imports.
    ...excepted.map(([, from, to]) => ({
      name: `layer-${name}`,
      comment: `${name} imports only lower layers (known exception: ${to})`,
      severity: 'error',
      from: { path: from },
      to: { path: '^src/', pathNot: [...allowed, to] },
    })),
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: split out the shared part into a file both can import',
      severity: 'error',
      from: {},
      to: { circular: true, viaSomeNot: KNOWN_CYCLE },
    },
    {
      name: 'known-cycle',
      comment: 'A cycle present today (Io or LabState imported from the file that imports the importer)',
      severity: 'warn',
      from: { path: KNOWN_CYCLE },
      to: { circular: true, viaOnly: { path: KNOWN_CYCLE } },
    },
    {
      name: 'no-layer',
      comment: 'Every file in src/ belongs to a layer: add its path to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: allLayers },
      to: {},
    },
    ...layerRules,
    ...KNOWN_UPWARD.map(([, from, to]) => ({
      name: 'known-upward',
      comment: 'An upward import present today: move the imported code down',
      severity: 'warn',
      from: { path: from },
      to: { path: to },
    })),
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
