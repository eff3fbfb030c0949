import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import type { Finding } from '../../src/lvs/rules.js';
import { validateInventory } from '../../src/lvs/validate.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { TemplateEngine } from '../../src/template/render.js';

/*
 * Clusters written the way a user would from the docs (test/clusters/*: site.yaml, inventory/), each
 * outside the shipped playbooks' folder, so the shipped roles are found through the roles path. Each
 * validates clean; each broken variant (broken.yaml: edits to its files) is refused with its rule.
 */
const root = join(import.meta.dirname, '..', 'clusters');
const layouts = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

interface Edit {
  file: string;
  find: string;
  replace: string;
  all?: boolean;
}
interface Variant {
  name: string;
  edits: Edit[];
  expect: { rule: string; host: string; severity?: string };
}

function validate(dir: string): Finding[] {
  return validateInventory(
    loadInventory(join(dir, 'inventory')),
    loadPlaybook(join(dir, 'site.yaml')),
    new TemplateEngine(),
    {},
  );
}
const shown = (fs: Finding[]): string[] =>
  fs.filter((f) => f.severity !== 'info').map((f) => `${f.severity}[${f.rule}] ${f.host}: ${f.message}`);

describe('cluster layouts written from the docs', () => {
  it('there are at least six', () => expect(layouts.length).toBeGreaterThanOrEqual(6));
  for (const name of layouts) {
    describe(name, () => {
      it('validates clean', () => expect(shown(validate(join(root, name)))).toEqual([]));
      const variants = parse(readFileSync(join(root, name, 'broken.yaml'), 'utf8')) as Variant[];
      for (const v of variants) {
        it(`broken: ${v.name} → ${v.expect.rule}`, () => {
          const dir = mkdtempSync(join(tmpdir(), `lvsrun-cluster-${name}-`));
          cpSync(join(root, name), dir, { recursive: true });
          for (const e of v.edits) {
            const f = join(dir, e.file);
            const text = readFileSync(f, 'utf8');
            // an edit that finds nothing would leave the layout unbroken and the test meaningless
            expect(text, `${e.file} holds ${e.find}`).toContain(e.find);
            writeFileSync(f, e.all ? text.split(e.find).join(e.replace) : text.replace(e.find, e.replace));
          }
          const fs = validate(dir);
          expect(
            fs.filter((f) => f.rule === v.expect.rule && f.host === v.expect.host),
            shown(fs).join('\n'),
          ).toContainEqual(expect.objectContaining({ severity: v.expect.severity ?? 'error' }));
        });
      }
    });
  }
});
