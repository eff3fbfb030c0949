import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';

// The import rules of `npm run lint`, run on a copy of src/ so that imports can be added to it.
const work = mkdtempSync(join(tmpdir(), 'lvsrun-layers-'));
for (const f of ['src', 'tsconfig.json', '.dependency-cruiser.cjs']) {
  cpSync(join(PACKAGE_ROOT, f), join(work, f), { recursive: true });
}
// The packages resolve as they do in the repository, so that the one-seam rules see them.
symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(work, 'node_modules'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const depcruise = (): { code: number | null; out: string } => {
  const bin = join(PACKAGE_ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  const r = spawnSync(process.execPath, [bin, 'src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd: work,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
};

describe('import layers', () => {
  it('src as it is passes: no import cycle and no upward import, not even as a warning', () => {
    const r = depcruise();
    expect(r.out).toMatch(/no dependency violations found/);
    expect(r.out).not.toMatch(/warn|error/);
    expect(r.code).toBe(0);
  });

  it('a new cycle, a new upward import and a file outside the layers fail', () => {
    // A cycle inside one layer, closed by a type-only import.
    appendFileSync(join(work, 'src/transport/shell.ts'), "import type { SshTransport as _T } from './ssh.js';\n");
    // A new command taking the Io type from cli/main.ts, the way today's known cycle does.
    const newcmd = "import type { Io } from '../main.js';\nexport const x = (io: Io): Io => io;\n";
    writeFileSync(join(work, 'src/cli/commands/newcmd.ts'), newcmd);
    appendFileSync(join(work, 'src/cli/main.ts'), "import { x as _x } from './commands/newcmd.js';\n");
    // An input-layer probe reaching up into the engine.
    appendFileSync(join(work, 'src/facts/os.ts'), "import type { RunSummary as _R } from '../engine/types.js';\n");
    appendFileSync(join(work, 'src/errors.ts'), "import type { unifiedDiff as _Re } from './report/diff.js';\n");
    writeFileSync(join(work, 'src/stray.ts'), "export { ConfigError } from './errors.js';\n");
    const r = depcruise();
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error no-circular: src\/transport\/shell\.ts →/);
    expect(r.out).toMatch(/error no-circular: src\/cli\/commands\/newcmd\.ts →/);
    expect(r.out).toMatch(/error layer-inputs: src\/facts\/os\.ts → src\/engine\/types\.ts/);
    expect(r.out).toMatch(/error layer-base: src\/errors\.ts → src\/report\/diff\.ts/);
    expect(r.out).toMatch(/error no-layer: src\/stray\.ts → src\/errors\.ts/);
  });

  it('a third-party package imported beside its one seam fails', () => {
    // zod outside modules/ (the engine reading schema issues itself), yaml outside yaml/source.ts.
    appendFileSync(join(work, 'src/engine/task-args.ts'), "import type { ZodIssue as _Z } from 'zod';\n");
    appendFileSync(join(work, 'src/inventory/load.ts'), "import { parse as _p } from 'yaml';\n");
    const r = depcruise();
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/error seam-zod: src\/engine\/task-args\.ts → \S*node_modules\/zod\//);
    expect(r.out).toMatch(/error seam-yaml: src\/inventory\/load\.ts → \S*node_modules\/yaml\//);
  });
});
