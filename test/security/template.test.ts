import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/engine/events.js';
import { moduleCtx } from '../../src/engine/module-run.js';
import { runPlaybook } from '../../src/engine/runner.js';
import type { RunOptions } from '../../src/engine/types.js';
import { ConfigError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { evalCondition } from '../../src/playbook/when.js';
import { TemplateEngine } from '../../src/template/render.js';
import { FakeTransport } from '../../src/transport/fake.js';
import { cli } from '../integration/helpers.js';
import { runOptions } from '../unit/run-options.js';

const repo = join(import.meta.dirname, '..', '..');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'lvsrun-sec-tpl-'));

/** Hosts nothing listens on (loopback, port 1): lvsrun must decide everything without them. */
const UNREACHABLE_INV = 'all:\n  vars: {ansible_host: 127.0.31.1, ansible_port: 1}\n  hosts:\n    h1: {}\n';

/**
 * The chain from the report: `{{constructor}}` and `{{__proto__}}` in a loop item hand Object and
 * Object.prototype to the template; Object.assign pollutes Object.prototype so that Handlebars'
 * options object stringifies to JavaScript, and the Function constructor (reached through
 * Object.getOwnPropertyDescriptor) compiles it; `#with` calls the result. The code writes `canary`.
 */
function exploitPlaybook(canary: string): string {
  const code = `process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(canary)}, 'x')`;
  const msg =
    '{{#with (item.o.getOwnPropertyDescriptor (item.o.getPrototypeOf item.o) "constructor") as |d|}}' +
    '{{@root.item.o.assign @root.item.p @root.item.q}}{{#with (d.value "x")}}{{/with}}{{/with}}';
  return `- hosts: all
  tasks:
    - name: canary
      debug:
        msg: '${msg}'
      loop:
        - o: "{{constructor}}"
          p: "{{__proto__}}"
          q: {toString: "{{group_names.join}}", length: 1, "0": ${JSON.stringify(code)}}
`;
}

/**
 * Runs `fn`, then undoes any change it made to Object.prototype (the exploit's side effect on a
 * vulnerable build) so the test process stays sound; returns the keys that had been changed.
 */
async function prototypeChanges(fn: () => Promise<void>): Promise<string[]> {
  const before = Object.getOwnPropertyDescriptors(Object.prototype) as Record<PropertyKey, PropertyDescriptor>;
  const proto = Object.prototype as Record<PropertyKey, unknown>;
  const changed: string[] = [];
  try {
    await fn();
  } finally {
    for (const k of Reflect.ownKeys(proto)) {
      const was = Object.hasOwn(before, k) ? before[k] : undefined;
      if (!was) {
        changed.push(String(k));
        delete proto[k];
      } else if (was.value !== Object.getOwnPropertyDescriptor(proto, k)?.value) {
        changed.push(String(k));
        Object.defineProperty(proto, k, was);
      }
    }
  }
  return changed;
}

describe('1. a template never reaches JavaScript objects, functions or prototypes', () => {
  const eng = new TemplateEngine();
  const vars = { x: { a: 1 }, list: ['a', 'b'], s: 'text', group_names: ['web'] };
  const undefinedVar = (tpl: string): string => {
    try {
      const v = eng.renderValue(tpl, vars, { field: 'f' });
      return `rendered to ${typeof v === 'function' ? 'a function' : (JSON.stringify(v) ?? typeof v)}`;
    } catch (e) {
      return e instanceof ConfigError ? e.message : `crashed: ${String(e)}`;
    }
  };

  it('prototype names are undefined variables, alone or inside a value; own data still works', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(undefinedVar(`{{${name}}}`)).toMatch(new RegExp(`undefined variable '${name}'`));
      expect(undefinedVar(`a {{${name}}} b`)).toMatch(/undefined variable/);
      // Inside a value an inherited member reads as nothing (Handlebars' own guard), never the member.
      expect(undefinedVar(`{{x.${name}}}`)).toMatch(/undefined variable|^rendered to ""$/);
      expect(undefinedVar(`{{list.${name}}}`)).toMatch(/undefined variable|^rendered to ""$/);
    }
    expect(undefinedVar('{{list.join}}')).toMatch(/undefined variable|^rendered to ""$/);
    expect(undefinedVar('{{x.constructor.constructor}}')).toMatch(/undefined variable|^rendered to ""$/);
    // Own data keeps working, including the type of a value that is exactly one {{path}}.
    expect(eng.renderValue('{{x}}', vars)).toEqual({ a: 1 });
    expect(eng.renderValue('{{list.length}}', vars)).toBe(2);
    expect(eng.renderValue('{{x.a}}', vars)).toBe(1);
    // A value named like a prototype member is fine when it is the variable's own data.
    expect(eng.renderValue('{{o.constructor}}', { o: { constructor: 'own' } })).toBe('own');
  });

  it('Handlebars built-ins (lookup, with, each, @root, ../) stop at own data', () => {
    expect(eng.renderString('[{{lookup x "constructor"}}][{{lookup list "join"}}]', vars)).toBe('[][]');
    expect(eng.renderString('{{#each x}}{{@key}}={{this}};{{/each}}', vars)).toBe('a=1;');
    expect(() => eng.renderString('{{@root.constructor}}', vars)).toThrow(/undefined variable/);
    expect(() => eng.renderString('{{#with x}}{{../constructor}}{{/with}}', vars)).toThrow(/undefined variable/);
    // Inside a value Handlebars' own guard answers for inherited members: nothing, never the member.
    expect(eng.renderString('[{{#with x}}{{constructor}}{{toString}}{{/with}}]', vars)).toBe('[]');
  });

  it('a variable is never called as a helper: the template is refused at load, naming it', () => {
    expect(() => eng.renderString('{{x.a "arg"}}', vars)).toThrow(/'x\.a' is not a helper/);
    expect(() => eng.renderString('{{#with (s "arg")}}{{/with}}', vars)).toThrow(/'s' is not a helper/);
    const d = tmp();
    writeFileSync(join(d, 'pb.yaml'), '- hosts: all\n  tasks:\n    - debug: {msg: "ok {{x.a 1}}"}\n');
    let err: unknown;
    try {
      loadPlaybook(join(d, 'pb.yaml'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).format()).toMatch(/pb\.yaml:3 .*'x\.a' is not a helper/);
  });

  it('conditions (when, assert) see own data only', () => {
    const w = (c: string): boolean => evalCondition(c, vars);
    expect(w('constructor is defined')).toBe(false);
    expect(w('x.constructor is defined')).toBe(false);
    expect(w("x['__proto__'] is defined")).toBe(false);
    expect(w('list.join is defined')).toBe(false);
    expect(w("'toString' in x")).toBe(false);
    expect(w("'a' in x and list.length == 2")).toBe(true);
    expect(() => w('x.constructor.name == "Object"')).toThrow(/'x\.constructor\.name' is undefined/);
  });

  it('the debug msg chain runs no code on the controller under validate, --check or a run', async () => {
    for (const argv of [['validate'], ['--check'], []]) {
      const d = tmp();
      const canary = join(d, 'canary');
      writeFileSync(join(d, 'pb.yaml'), exploitPlaybook(canary));
      writeFileSync(join(d, 'inv.yaml'), UNREACHABLE_INV);
      let r = { code: -1, out: '', err: '' };
      const changed = await prototypeChanges(async () => {
        const [cmd = [], flags = []] = argv[0] === 'validate' ? [['validate'], []] : [[], argv];
        r = await cli(...cmd, join(d, 'pb.yaml'), '-i', join(d, 'inv.yaml'), ...flags);
      });
      expect(existsSync(canary), `code ran under '${argv.join(' ')}'`).toBe(false);
      expect(changed).toEqual([]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/error\[E_TEMPLATE\] .*pb\.yaml:5 .*is not a helper/);
    }
  });

  it('the same chain straight through the engine (no load-time check in the way) runs no code', async () => {
    const canary = join(tmp(), 'canary');
    const code = `process.getBuiltinModule('fs').writeFileSync(${JSON.stringify(canary)}, 'x')`;
    const msg =
      '{{#with (item.o.getOwnPropertyDescriptor (item.o.getPrototypeOf item.o) "constructor") as |d|}}' +
      '{{@root.item.o.assign @root.item.p @root.item.q}}{{#with (d.value "x")}}{{/with}}{{/with}}';
    const q = { toString: '{{group_names.join}}', length: 1, 0: code };
    const item = { o: '{{constructor}}', p: '{{__proto__}}', q };
    const outcome: string[] = [];
    const changed = await prototypeChanges(async () => {
      for (const step of [
        () => eng.renderString(msg, { ...vars, item: eng.renderValue(item, vars) }),
        // Even if a function were handed in, no variable is ever called.
        () => eng.renderString(msg, { ...vars, item: { o: Object, p: Object.prototype, q } }),
      ]) {
        try {
          step();
          outcome.push('rendered');
        } catch (e) {
          outcome.push(e instanceof ConfigError ? e.message : String(e));
        }
      }
    });
    expect(existsSync(canary)).toBe(false);
    expect(changed).toEqual([]);
    expect(outcome[0]).toMatch(/undefined variable 'constructor'/);
    expect(outcome[1]).toMatch(/is not a helper/);
  });

  it('end to end: node bin/lvsrun.js validate and --check against unreachable hosts run no code', () => {
    // Runs the built CLI (dist/) as a user would: build with `npm run build` first.
    for (const argv of [['validate'], ['--check']]) {
      const d = tmp();
      const canary = join(d, 'canary');
      writeFileSync(join(d, 'pb.yaml'), exploitPlaybook(canary));
      writeFileSync(join(d, 'inv.yaml'), UNREACHABLE_INV);
      const args =
        argv[0] === 'validate'
          ? ['validate', join(d, 'pb.yaml'), '-i', join(d, 'inv.yaml')]
          : [join(d, 'pb.yaml'), '-i', join(d, 'inv.yaml'), '--check'];
      const r = spawnSync(process.execPath, [join(repo, 'bin/lvsrun.js'), ...args], { encoding: 'utf8', cwd: d });
      expect(existsSync(canary), `code ran under lvsrun ${argv[0]}: ${r.stdout}${r.stderr}`).toBe(false);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is not a helper/);
    }
  });
});

const runOpts = (o: Partial<RunOptions> = {}): RunOptions => ({
  ...runOptions(),
  ...o,
});

describe('2. what a host prints is data, never rendered again', () => {
  it("a host printing {{hostvars.OTHER.db_password}} does not get the other host's secret", async () => {
    const d = tmp();
    writeFileSync(
      join(d, 'pb.yaml'),
      `- hosts: web
  vars:
    banner: "{{r.stdout}}"
  tasks:
    - command: cat /etc/issue
      register: r
      changed_when: false
    - name: lines as loop items
      command: "logger -- {{item}}"
      loop: "{{r.stdout_lines}}"
    - name: one item
      debug: {msg: "{{item}}"}
      loop: ["{{r.stdout}}"]
    - name: nested in an item
      debug: {msg: "{{item.text}}"}
      loop: [{text: "{{r.stdout}}"}]
    - name: through a variable
      debug: {msg: "{{banner}}"}
    - name: debug var
      debug: {var: __proto__}
`,
    );
    writeFileSync(
      join(d, 'inv.yaml'),
      `all:
  children:
    web:
      hosts:
        evil: {}
    db:
      hosts:
        db1: {db_password: s3cret-of-db1}
`,
    );
    const printed = '{{hostvars.db1.db_password}}';
    const t = new FakeTransport('evil').on(/^cat /, { stdout: `${printed}\n` }).on(/^logger /, {});
    const s = await runPlaybook(
      loadPlaybook(join(d, 'pb.yaml')),
      loadInventory(join(d, 'inv.yaml')),
      runOpts({ runDir: join(d, 'run') }),
      async () => t,
      new EventBus(),
    );
    const msgs = s.results.map((r) => `${r.task}: ${r.msg ?? ''}`).join('\n');
    expect(s.recap.evil, msgs).toMatchObject({ failed: 0 });
    expect(msgs).not.toMatch(/s3cret/);
    expect(t.calls.map((c) => c.cmd).join('\n')).not.toMatch(/s3cret/);
    expect(t.calls.find((c) => c.cmd.startsWith('logger'))?.cmd).toContain(printed);
    // debug var: names a variable, never an inherited member of the variables
    expect(s.results.find((r) => r.task === 'debug var')?.msg).toBe('');
    for (const task of ['one item', 'nested in an item', 'through a variable']) {
      expect(s.results.find((r) => r.task === task)?.msg).toBe(printed);
    }
  });
});

describe("2b. a module's own render context (keepalived's rendered arguments) is data", () => {
  it('{{ in an already rendered argument is written as text', () => {
    const ctx = moduleCtx(new FakeTransport('h1'), { vars: { inventory_hostname: 'h1' }, check: true });
    const printed = '{{inventory_hostname}}';
    const data = { auth_pass: printed, vrrp: [{ name: printed }], inventory_hostname: 'h1' };
    expect(
      ctx.render('{{auth_pass}} {{#each vrrp}}{{name}}{{/each}} {{inventory_hostname}}', { file: 't.hbs' }, data),
    ).toBe('{{inventory_hostname}} {{inventory_hostname}} h1');
  });
});

describe('4. {{quote x}} is POSIX shell single-quoting', () => {
  const eng = new TemplateEngine();
  const viaShell = (value: unknown, dir: string): string =>
    execFileSync('/bin/sh', ['-c', eng.renderString('printf %s {{quote name}}', { name: value })], {
      cwd: dir,
      encoding: 'utf8',
    });

  it('a value with $(…), backticks, quotes or newlines is one word, never code', () => {
    const d = tmp();
    for (const name of [
      '$(touch canary)',
      '`touch canary`',
      "'; touch canary; '",
      '"$(touch canary)"',
      'a\'b"c\\d',
      'x\ntouch canary',
      '--help',
      '*',
      '',
    ]) {
      const out = viaShell(name, d);
      expect(existsSync(join(d, 'canary')), name).toBe(false);
      expect(out).toBe(name);
    }
  });

  it('matches Ansible: plain words stay bare, everything else is single-quoted', () => {
    expect(eng.renderString('{{quote a}}', { a: 'eth0.100' })).toBe('eth0.100');
    expect(eng.renderString('{{quote a}}', { a: '' })).toBe("''");
    expect(eng.renderString('{{quote a}}', { a: "it's" })).toBe("'it'\\''s'");
    expect(eng.renderString('{{quote a}}', { a: 8080 })).toBe('8080');
  });

  it('a NUL byte, which no shell word can hold, is an error naming the field', () => {
    expect(() => eng.renderString('echo {{quote a}}', { a: 'a\0b' }, { field: 'shell' })).toThrow(/NUL byte/);
  });

  it('any string round-trips through /bin/sh as one argument', () => {
    const d = tmp();
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0') && !s.includes('{{')),
        (s) => {
          expect(viaShell(s, d)).toBe(s);
        },
      ),
      { numRuns: 60 },
    );
    expect(existsSync(join(d, 'canary'))).toBe(false);
  });
});
