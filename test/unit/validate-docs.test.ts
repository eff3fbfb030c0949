import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/load.js';
import { buildModel, type HostInput } from '../../src/lvs/model.js';
import { validateModel } from '../../src/lvs/rules.js';
import { validateInventory } from '../../src/lvs/validate.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { TemplateEngine } from '../../src/template/render.js';

/* docs/lvs.md's table of validate rules: every rule is in it, and each failing example fails. */
const repo = join(import.meta.dirname, '..', '..');
const md = readFileSync(join(repo, 'docs/lvs.md'), 'utf8');
type Vars = Record<string, unknown>;
type Cluster = Record<'directors' | 'realservers', { vars?: Vars; hosts: Record<string, Vars> }>;
const cluster = parse(/```yaml\n# rules-example-cluster\n([^]*?)```/.exec(md)![1]!) as Cluster;
const rows = [...md.matchAll(/^\| ([a-z-]+) \| (error|warn|info) \| [^|]+ \| (.+) \|$/gm)].map((m) => ({
  rule: m[1]!,
  severity: m[2]!,
  example: m[3]!,
}));
/** Rules whose example is a keepalived task (tested with playbooks in cli-validate.test.ts). */
const TASK_ONLY = new Set(['unicast-peers', 'unicast-mixed']);

/** The example cluster with the row's changes, as inventory hosts and variables. */
function hostsWith(change: Record<string, Vars>): Array<{ name: string; group: string; vars: Vars }> {
  const out: Array<{ name: string; group: string; vars: Vars }> = [];
  const names = new Set<string>();
  for (const g of ['directors', 'realservers'] as const) {
    for (const [name, v] of Object.entries(cluster[g].hosts)) {
      out.push({ name, group: g, vars: { ...cluster[g].vars, ...v, ...change[name] } });
      names.add(name);
    }
  }
  for (const [name, v] of Object.entries(change)) {
    if (names.has(name)) continue;
    const g = name.startsWith('rs') ? 'realservers' : 'directors';
    out.push({ name, group: g, vars: { ...cluster[g].vars, ...v } });
  }
  for (const h of out) for (const k of Object.keys(h.vars)) if (h.vars[k] === null) delete h.vars[k];
  return out;
}
const model = (change: Record<string, Vars>) =>
  validateModel(
    buildModel(
      hostsWith(change).map((h): HostInput => ({
        name: h.name,
        groups: [h.group],
        vars: h.vars,
        origins: {},
      })),
    ),
  );
const exampleOf = (cell: string): Record<string, Vars> => parse(/`(\{.*\})`/.exec(cell)![1]!) as Record<string, Vars>;

describe('docs/lvs.md: the table of validate rules', () => {
  it('lists every rule validate has', () => {
    const src = ['rules.ts', 'validate.ts'].map((f) => readFileSync(join(repo, 'src/lvs', f), 'utf8')).join('\n');
    const inCode = new Set([...src.matchAll(/'([a-z]+(?:-[a-z]+)*)',\s*'(?:error|warn|info)'/g)].map((m) => m[1]!));
    inCode.add('task-args');
    expect(inCode.size).toBeGreaterThan(25);
    expect(rows.map((r) => r.rule).sort()).toEqual([...inCode].sort());
  });
  it('the example cluster passes clean', () => {
    expect(model({}).filter((f) => f.severity !== 'info')).toEqual([]);
  });
  for (const row of rows.filter((r) => !TASK_ONLY.has(r.rule) && r.rule !== 'task-args')) {
    it(`${row.rule}: ${row.example}`, () => {
      const found = model(exampleOf(row.example)).map((f) => `${f.severity}:${f.rule}`);
      expect(found).toContain(`${row.severity}:${row.rule}`);
    });
  }
  it('task-args: the example fails with playbooks/site.yaml', () => {
    const row = rows.find((r) => r.rule === 'task-args')!;
    const inv: Record<string, unknown> = { all: { children: {} } };
    const children = (inv.all as { children: Record<string, { hosts: Record<string, Vars> }> }).children;
    for (const h of hostsWith(exampleOf(row.example))) {
      children[h.group] ??= { hosts: {} };
      children[h.group]!.hosts[h.name] = h.vars;
    }
    const f = join(mkdtempSync(join(tmpdir(), 'lvsrun-docs-')), 'inv.yaml');
    writeFileSync(f, stringify(inv));
    const site = loadPlaybook(join(repo, 'playbooks/site.yaml'));
    expect(validateInventory(loadInventory(f), site, new TemplateEngine()).map((x) => x.rule)).toContain('task-args');
    // the example cluster itself is clean under the playbook too
    const clean = join(mkdtempSync(join(tmpdir(), 'lvsrun-docs-')), 'inv.yaml');
    for (const h of hostsWith({})) children[h.group]!.hosts[h.name] = h.vars;
    writeFileSync(clean, stringify(inv));
    expect(
      validateInventory(loadInventory(clean), site, new TemplateEngine())
        .filter((x) => x.severity !== 'info')
        .map((x) => x.message),
    ).toEqual([]);
  });
});

describe('docs/lvs.md documents every variable of the shipped playbooks and roles', () => {
  it('each lvs_* name they use is in it', () => {
    const grep = execFileSync('grep', ['-rhoE', '\\blvs_[a-z_]+', join(repo, 'playbooks')], { encoding: 'utf8' });
    const used = new Set(grep.split('\n').filter(Boolean));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((v) => !md.includes(`\`${v}\``)).sort()).toEqual([]);
  });
});
