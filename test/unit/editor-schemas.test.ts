import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { SCAFFOLD, scaffoldText } from '../../src/cli/scaffold.js';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { parseYamlText } from '../../src/playbook/yaml-source.js';
import { loadInventory } from '../../src/inventory/load.js';
import { connectionVarKinds, connVarProblems } from '../../src/engine/connect-vars.js';
import { SCHEMA_FILES, buildSchema, schemaText, type SchemaName } from '../../src/schemas/documents.js';

// Union types ("string or number") are what the schemas mean, not a mistake strict mode should warn about.
const ajv = new Ajv({ allErrors: true, allowUnionTypes: true });
// The YAML language server's message keyword: not draft-07, so strict ajv is told of it.
ajv.addKeyword('errorMessage');
const validators = new Map<SchemaName, ValidateFunction>(SCHEMA_FILES.map((n) => [n, ajv.compile(buildSchema(n))]));
const yamlData = (text: string, file = 'x.yaml'): unknown => parseYamlText(text, file).data;
function verdict(name: SchemaName, data: unknown): string {
  const v = validators.get(name)!;
  if (v(data)) return 'ok';
  // One line per error: where, what, and the offending key for an unknown property.
  return (v.errors ?? [])
    .map(
      (e) =>
        `${e.instancePath || '/'} ${e.message}` +
        `${'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : ''}`,
    )
    .join('\n');
}

/** Every YAML file under dir, with the schema it is written against (by where it sits). */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(f) ? [p] : [];
  });
}
function schemaOf(file: string): SchemaName {
  const rel = relative(PACKAGE_ROOT, file);
  if (/\/(tasks|handlers)\/[^/]+$/.test(rel)) return 'tasks';
  if (/\/(defaults|vars|group_vars|host_vars)\//.test(rel)) return 'group_vars';
  if (/^(inventories|test\/fixtures\/inventory)\//.test(rel)) return 'inventory';
  return 'playbook';
}

describe('editor schemas (schemas/*.json)', () => {
  it('the committed files are exactly a fresh generation (npm run schemas), and valid draft-07', () => {
    for (const name of SCHEMA_FILES) {
      const committed = readFileSync(join(PACKAGE_ROOT, 'schemas', `${name}.json`), 'utf8');
      expect(committed, `schemas/${name}.json is stale: run npm run schemas`).toBe(schemaText(name));
      expect(ajv.validateSchema(JSON.parse(committed)), `${name}: ${ajv.errorsText()}`).toBe(true);
    }
  });

  it('every shipped and example playbook, tasks file, inventory and vars file passes its schema', () => {
    const files = ['playbooks', 'test/fixtures/playbooks', 'inventories', 'test/fixtures/inventory'].flatMap((d) =>
      yamlFiles(join(PACKAGE_ROOT, d)),
    );
    const seen = new Set(files.map(schemaOf));
    expect([...seen].sort()).toEqual(['group_vars', 'inventory', 'playbook', 'tasks']);
    for (const f of files) {
      expect(verdict(schemaOf(f), yamlData(readFileSync(f, 'utf8'), f)), relative(PACKAGE_ROOT, f)).toBe('ok');
    }
  });

  it('lvsrun init: each YAML file names its shipped schema in a modeline, and passes it', () => {
    const schemaDir = join(PACKAGE_ROOT, 'schemas');
    const yaml = SCAFFOLD.filter((f) => /\.ya?ml$/.test(f.path));
    expect(yaml.length).toBeGreaterThanOrEqual(5);
    for (const f of yaml) {
      const text = scaffoldText(f, schemaDir);
      const m = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text);
      expect(m, f.path).not.toBeNull();
      const schemaFile = fileURLToPath(m![1]!);
      expect(schemaFile).toBe(join(schemaDir, `${f.schema}.json`));
      expect(statSync(schemaFile).isFile()).toBe(true);
      expect(verdict(f.schema!, yamlData(text)), f.path).toBe('ok');
    }
    // A space in the install path cannot end the modeline's URL.
    const spaced = scaffoldText(
      SCAFFOLD.find((f) => f.schema)!,
      '/opt/my tools/schemas',
    );
    expect(spaced.split('\n')[0]).toBe('# yaml-language-server: $schema=file:///opt/my%20tools/schemas/playbook.json');
  });
});

/**
 * Playbooks the schema and the loader must judge alike: each is also loaded by lvsrun, so a
 * schema that drifts from the loader fails here.
 */
const play = (tasks: string, extra = ''): string => `- hosts: all\n${extra}  tasks:\n${tasks}`;
const CASES: Array<{ what: string; yaml: string; ok: boolean; error?: RegExp }> = [
  {
    what: 'a misspelt module',
    yaml: play('    - copyy: {dest: /x, content: y}\n'),
    ok: false,
    error: /^\/0\/tasks\/0 must NOT have additional properties 'copyy'$/m,
  },
  {
    what: 'a misspelt argument',
    yaml: play('    - sysctl: {nmae: x, value: 1}\n'),
    ok: false,
    error: /^\/0\/tasks\/0\/sysctl must NOT have additional properties 'nmae'$/m,
  },
  {
    what: 'serial as a mapping',
    yaml: play('    - debug: {msg: hi}\n', '  serial: {}\n'),
    ok: false,
    error: /^\/0\/serial must be array$/m,
  },
  { what: 'an unknown play keyword', yaml: play('    - debug: {msg: hi}\n', '  gather_fact: true\n'), ok: false },
  { what: 'a bad enum value', yaml: play('    - service: {name: nginx, state: runing}\n'), ok: false },
  { what: 'register as a list', yaml: play('    - debug: {msg: hi}\n      register: [x]\n'), ok: false },
  { what: 'a task with no module', yaml: play('    - name: nothing\n'), ok: false },
  { what: 'a port that is not a number', yaml: play('    - wait_for: {port: eighty}\n'), ok: false },
  { what: 'on_failure misspelt', yaml: play('    - debug: {msg: hi}\n', '  on_failure: rollback\n'), ok: false },
  { what: 'a missing required argument', yaml: play('    - copy: {content: y}\n'), ok: false },
  { what: 'no hosts', yaml: '- tasks:\n    - debug: {msg: hi}\n', ok: false },
  { what: 'a task key named __proto__', yaml: play('    - __proto__: {dest: /x}\n'), ok: false },
  { what: 'a task key named constructor', yaml: play('    - constructor: {dest: /x}\n'), ok: false },
  { what: 'an argument named toString', yaml: play('    - stat: {path: /x, toString: 1}\n'), ok: false },
  {
    what: 'a block with rescue, always and inherited keywords',
    yaml: play(
      '    - block:\n        - debug: {msg: hi}\n        - block: [{debug: {msg: in}}]\n' +
        '      rescue:\n        - debug: {msg: r}\n      always: []\n' +
        '      when: x\n      run_once: true\n      delegate_to: "{{ item }}"\n      throttle: 2\n',
    ),
    ok: true,
  },
  { what: 'a block with a module beside it', yaml: play('    - block: []\n      debug: {msg: hi}\n'), ok: false },
  { what: 'a block keyword misspelt', yaml: play('    - block: []\n      rescu: []\n'), ok: false },
  { what: 'throttle that is not a count', yaml: play('    - debug: {msg: hi}\n      throttle: -1\n'), ok: false },
  {
    what: 'templates in a number, an enum, a bool and a mapping',
    ok: true,
    yaml: play(
      '    - sysctl: {name: "{{ k }}", value: 1, reload: "{{ r }}", state: "{{ s }}"}\n' +
        '    - wait_for: {port: "{{ p }}", timeout: 5}\n    - ipvs: {services: "{{ lvs_services }}"}\n',
    ),
  },
  {
    what: 'aliases (dest for path, key for name)',
    ok: true,
    yaml: play('    - file: {dest: /tmp/x, state: directory}\n    - sysctl: {key: net.ipv4.ip_forward, value: 1}\n'),
  },
  {
    what: 'numbers written as text where the module reads them',
    ok: true,
    yaml: play('    - vip: {address: 192.0.2.1, interface: lo, prefix: "32"}\n'),
  },
  {
    what: 'free-form, key=value and prefixed modules',
    ok: true,
    yaml: play(
      '    - command: echo hi\n    - ansible.builtin.copy: dest=/tmp/x content=y\n' +
        '    - lvsrun.stat:\n        path: /tmp/x\n      register: st\n      when: st is defined\n',
    ),
  },
  {
    what: 'serial as a list, roles, handlers, include_tasks',
    ok: true,
    yaml: play(
      '    - include_tasks: more.yaml\n',
      '  serial: [1, "30%"]\n  become: yes\n  handlers:\n' +
        '    - name: reload\n      service: {name: nginx, state: reloaded}\n      listen: web\n',
    ),
  },
  { what: 'import_playbook', ok: true, yaml: '- import_playbook: other.yaml\n' },
];

describe('the playbook schema judges as the loader does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsrun-schema-'));
  writeFileSync(join(dir, 'more.yaml'), '- debug: {msg: more}\n');
  writeFileSync(join(dir, 'other.yaml'), play('    - debug: {msg: other}\n'));
  for (const c of CASES) {
    it(`${c.ok ? 'accepts' : 'refuses'} ${c.what}`, () => {
      const v = verdict('playbook', yamlData(c.yaml));
      if (c.ok) expect(v).toBe('ok');
      else expect(v).not.toBe('ok');
      if (c.error) expect(v).toMatch(c.error);
      const f = join(dir, 'pb.yaml');
      writeFileSync(f, c.yaml);
      if (c.ok) expect(() => loadPlaybook(f)).not.toThrow();
      else expect(() => loadPlaybook(f)).toThrow();
    });
  }
});

describe('the inventory and vars schemas', () => {
  it('refuse what the inventory loader refuses (hosts as a list), and flag what it only warns about (a misspelt key)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsrun-schema-inv-'));
    for (const [text, ok, loader] of [
      ['all:\n  children:\n    web:\n      hosts:\n        rs[1:2]:\n        lb1: {ansible_port: 22}\n', true, 'ok'],
      // Ansible warns about an unknown group key and goes on; lvsrun does the same, the editor flags it.
      ['all:\n  host:\n    a: {}\n', false, 'warns'],
      ['all:\n  hosts: [a, b]\n', false, 'throws'],
      ['all:\n  vars: [x]\n', false, 'throws'],
    ] as const) {
      expect(verdict('inventory', yamlData(text)) === 'ok', text).toBe(ok);
      writeFileSync(join(dir, 'inv.yaml'), text);
      if (loader === 'throws') expect(() => loadInventory(join(dir, 'inv.yaml'))).toThrow();
      else expect(loadInventory(join(dir, 'inv.yaml')).warnings?.length ?? 0).toBe(loader === 'warns' ? 1 : 0);
    }
    expect(verdict('group_vars', yamlData('lvs_vip: 192.0.2.1\nlvs_port: 80\n'))).toBe('ok');
    expect(verdict('group_vars', yamlData('- a\n- b\n'))).not.toBe('ok');
  });
});

/** Values for each kind of connection variable, good and bad; lvsrun's own check is the oracle. */
const CONN_SAMPLES: unknown[] = [
  '10.0.0.5',
  'lb1.example.com',
  '-oProxyCommand=x',
  'a b',
  '',
  '{{ host }}',
  'x'.repeat(256),
  22,
  65535,
  0,
  65536,
  22.5,
  '22',
  ' 2222 ',
  '00022',
  '000022',
  '99999',
  'ssh',
  null,
  'root',
  'deploy-user',
  '-root',
  'ro ot',
  "o'neil",
  'x'.repeat(65),
  1000,
  -1,
  '/root/.ssh/id_ed25519',
  'a\nb',
  'with\0nul',
  'two\nlines',
  'C:\\keys',
  10,
  0.5,
  86_400,
  86_401,
  '10',
  '1.5',
  'ten',
  '0',
  '0.0',
  '0.25',
  '86400',
  '86400.0',
  '86400.5',
  '86401',
  '99999',
  true,
  false,
  'yes',
  'No',
  ' on ',
  'OFF',
  1,
  '1',
  '0',
  'maybe',
  2,
];

describe('connection variables in inventories and vars files', () => {
  it("the vars schema refuses exactly the values lvsrun's connection check refuses", () => {
    const kinds = connectionVarKinds();
    expect(Object.keys(kinds)).toContain('ansible_port');
    for (const name of Object.keys(kinds)) {
      for (const v of CONN_SAMPLES) {
        const lvsrun = connVarProblems({ [name]: v }).length === 0;
        expect(verdict('group_vars', { [name]: v }) === 'ok', `${name}: ${JSON.stringify(v)}`).toBe(lvsrun);
        const inv = { all: { hosts: { h1: { [name]: v } }, vars: { [name]: v } } };
        expect(verdict('inventory', inv) === 'ok', `inventory ${name}: ${JSON.stringify(v)}`).toBe(lvsrun);
      }
    }
  });
});
