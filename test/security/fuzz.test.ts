import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LvsrunError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts } from '../../src/inventory/select.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { compileExpr, evalCondition } from '../../src/playbook/when.js';
import { checkTemplateSyntax, TemplateEngine } from '../../src/template/render.js';

/*
 * Property: whatever the input, the loaders either succeed or throw a typed LvsrunError (never a
 * TypeError, RangeError or other internal error), each case finishes within 2 s, and the heap
 * stays bounded. Runs are bounded by count and by time so the whole file stays well under 60 s.
 */
const CASE_MS = 2000;
const PROPERTY_MS = 6000;
const HEAP_GROWTH_BYTES = 256 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const heapAtStart = process.memoryUsage().heapUsed;
let slowest = { ms: 0, what: '' };

/** Run one generated case: only LvsrunError may escape, and it must be quick. */
function guarded(what: string, input: unknown, f: () => unknown): void {
  const t = performance.now();
  try {
    f();
  } catch (e) {
    if (!(e instanceof LvsrunError)) {
      const shown = JSON.stringify(input)?.slice(0, 400);
      throw new Error(`${what}: not a typed error for ${shown}: ${String(e)}`, { cause: e });
    }
  }
  const ms = performance.now() - t;
  if (ms > slowest.ms) slowest = { ms, what };
  if (ms > CASE_MS) throw new Error(`${what}: took ${Math.round(ms)} ms for ${JSON.stringify(input)?.slice(0, 400)}`);
}

function run<T extends unknown[]>(prop: fc.IProperty<T>, numRuns: number): void {
  fc.assert(prop, { numRuns, interruptAfterTimeLimit: PROPERTY_MS, markInterruptAsFailure: false });
}

// Hostile pieces: prototype names, quotes, braces, template markers, NUL, newlines, dashes, ranges.
const hostile = fc.constantFrom(
  '__proto__',
  'constructor',
  'toString',
  'prototype',
  'hasOwnProperty',
  '{{',
  '}}',
  '{{ x }}',
  '"',
  "'",
  '\\',
  '-',
  '--x',
  '\0',
  '\n',
  '\r\n',
  ':',
  '[',
  ']',
  '[1:3]',
  '[0:9999]',
  '[a:z]',
  '[1:3:0]',
  '[:]',
  '[01:10]',
  '[z:a]',
  '*',
  '~',
  '&',
  '!',
  '#',
  ';',
  '=',
  ' ',
  '\t',
  '&a',
  '*a',
  '<<',
  '|',
  '>',
  '%',
  '@',
  '`',
  'é',
  '\u202e',
  '\ud800',
  'all',
  'ungrouped',
  'children',
  'vars',
);
const word = fc.oneof(fc.string({ maxLength: 12 }), hostile, fc.stringMatching(/^[a-z]{1,6}(\[[0-9a-z:]{0,8}\])?$/));
const text = fc.array(word, { maxLength: 24 }).map((ws) => ws.join(''));
const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  hostile,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    scalar,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(word, tie('v'), { maxKeys: 4 }),
  ),
})).v;

const bound = fc.oneof(
  fc.constant(''),
  fc.nat({ max: 200_000 }).map(String),
  fc.constantFrom('a', 'z', 'A', 'Z', '00', '007', 'aa'),
);
const range = fc
  .tuple(bound, bound, fc.option(fc.oneof(fc.nat({ max: 3 }), fc.constant(-1))))
  .map(([a, b, s]) => `[${a}:${b}${s === null ? '' : `:${s}`}]`);

let n = 0;
const file = (name: string, content: string): string => {
  const p = join(dir, String(n++));
  mkdirSync(p);
  writeFileSync(join(p, name), content);
  return join(p, name);
};

describe('fuzz: inventories', () => {
  it('INI text', () => {
    const line = fc.oneof(
      word.map((w) => `[${w}]`),
      word.map((w) => `[${w}:children]`),
      word.map((w) => `[${w}:vars]`),
      fc.tuple(word, word, word).map(([h, k, v]) => `${h} ${k}=${v}`),
      text,
      fc.tuple(word, range, word, fc.option(range)).map(([a, r, b, r2]) => `${a}${r}${b}${r2 ?? ''}`),
    );
    run(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        const f = file('hosts.ini', lines.join('\n'));
        guarded('INI inventory', lines, () => {
          const inv = loadInventory(f);
          selectHosts(inv, 'all');
        });
      }),
      1000,
    );
  });

  it('YAML structures and raw YAML text', () => {
    const group = fc.letrec<{ g: unknown }>((tie) => ({
      g: fc.oneof(
        { depthSize: 'small', maxDepth: 3 },
        fc.constant(null),
        value,
        fc.record(
          {
            hosts: fc.oneof(fc.dictionary(word, fc.oneof(fc.constant(null), value), { maxKeys: 5 }), value),
            children: fc.oneof(fc.dictionary(word, tie('g'), { maxKeys: 3 }), value),
            vars: fc.oneof(fc.dictionary(word, value, { maxKeys: 4 }), value),
          },
          { requiredKeys: [] },
        ),
      ),
    })).g;
    const doc = fc.oneof(
      fc.dictionary(word, group, { maxKeys: 4 }).map((d) => safeStringify(d)),
      fc
        .array(fc.oneof(word, fc.constantFrom('  ', '- ', ': ', '&a ', '*a', '{', '}', '[', ']', '!!map ', '? ')), {
          maxLength: 60,
        })
        .map((ws) => ws.join('')),
    );
    run(
      fc.property(doc, (y) => {
        const f = file('hosts.yaml', y);
        guarded('YAML inventory', y, () => {
          const inv = loadInventory(f);
          for (const pattern of ['all', '*', '~.*']) selectHosts(inv, pattern);
        });
      }),
      1000,
    );
  });

  it('host patterns', () => {
    const f = file('hosts.ini', '[web]\nweb[1:3]\n[db]\ndb-[a:c]\n[lvs:children]\nweb\ndb\n');
    const inv = loadInventory(f);
    run(
      fc.property(text, (pattern) => {
        guarded('host pattern', pattern, () => selectHosts(inv, pattern));
      }),
      1000,
    );
  });
});

describe('fuzz: playbooks', () => {
  const modules = fc.constantFrom(
    'command',
    'shell',
    'copy',
    'template',
    'lineinfile',
    'file',
    'service',
    'sysctl',
    'wait_for',
    'assert',
    'stat',
    'ipvs',
    'vip',
    'include_tasks',
    'import_tasks',
    'debug',
    '__proto__',
  );
  const keyword = fc.constantFrom(
    'name',
    'when',
    'loop',
    'with_items',
    'loop_control',
    'register',
    'notify',
    'tags',
    'ignore_errors',
    'changed_when',
    'failed_when',
    'become',
    'become_user',
    'no_log',
    'vars',
    'listen',
    'args',
  );
  const task = fc
    .tuple(modules, value, fc.dictionary(keyword, value, { maxKeys: 4 }))
    .map(([m, args, kw]) => ({ ...kw, [m]: args }));
  const play = fc.record(
    {
      hosts: fc.oneof(fc.constant('all'), value),
      tasks: fc.oneof(fc.array(task, { maxLength: 5 }), value),
      vars: value,
      become: value,
      tags: value,
      serial: value,
      handlers: fc.array(task, { maxLength: 2 }),
    },
    { requiredKeys: ['hosts'] },
  );
  it('plays and tasks with values of any type', () => {
    run(
      fc.property(fc.oneof(fc.array(play, { maxLength: 3 }), value), (pb) => {
        const f = file('site.yaml', safeStringify(pb));
        writeFileSync(join(f, '..', 'inc.yaml'), safeStringify([{ command: 'echo' }, { include_tasks: 'inc.yaml' }]));
        guarded('playbook', pb, () => loadPlaybook(f));
      }),
      600,
    );
  });
});

describe('fuzz: templates and conditions', () => {
  const template = fc
    .array(
      fc.oneof(
        word,
        fc.constantFrom(
          '{{',
          '}}',
          '{{#if x}}',
          '{{/if}}',
          '{{#each l}}',
          '{{/each}}',
          '{{> p}}',
          '{{!',
          '{{{',
          '}}}',
          '{{ x.y }}',
          '{{ lookup x "y" }}',
          '{{ constructor }}',
          '{{ __proto__ }}',
          '{{ ../x }}',
          '{{ @root }}',
          '{{else}}',
        ),
      ),
      { maxLength: 20 },
    )
    .map((ws) => ws.join(''));
  const vars = fc.dictionary(word, value, { maxKeys: 4 });
  it('template text', () => {
    const engine = new TemplateEngine();
    run(
      fc.property(template, vars, (t, v) => {
        guarded('template', t, () => {
          checkTemplateSyntax(t, { file: 'fuzz.hbs', line: 1 });
          engine.renderString(t, v, { file: 'fuzz.hbs', line: 1 });
        });
      }),
      1000,
    );
  });
  it('when expressions', () => {
    const expr = fc
      .array(
        fc.oneof(
          word,
          fc.constantFrom(
            'and',
            'or',
            'not',
            'in',
            'is',
            'defined',
            'none',
            '==',
            '!=',
            '<',
            '>=',
            '(',
            ')',
            '[',
            ']',
            '.',
            ',',
            '|',
            'length',
            'default(',
            'int',
            'bool',
            '1',
            '"a"',
            "'b'",
            'true',
            'x',
            'x.y',
            'x[0]',
            'constructor',
            '__proto__',
            'toString',
          ),
        ),
        { maxLength: 16 },
      )
      .map((ws) => ws.join(' '));
    run(
      fc.property(expr, vars, (e, v) => {
        guarded('when', e, () => {
          compileExpr(e);
          evalCondition(e, v);
        });
      }),
      2000,
    );
  });
});

describe('fuzz: resources', () => {
  it('heap growth stays bounded and no case came near the limit', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const growth = process.memoryUsage().heapUsed - heapAtStart;
    // Reported by the test runner's output when it fails; kept as a number for the security report.
    expect(growth, `heap grew by ${Math.round(growth / 1e6)} MB`).toBeLessThan(HEAP_GROWTH_BYTES);
    expect(slowest.ms, `slowest case: ${slowest.what} ${Math.round(slowest.ms)} ms`).toBeLessThan(CASE_MS);
  });
});

/** YAML text for any generated value (values that YAML cannot write become a plain string). */
function safeStringify(v: unknown): string {
  try {
    return stringify(v);
  } catch {
    return String(v);
  }
}
