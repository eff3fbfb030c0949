import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, LvsrunError } from '../../src/errors.js';
import { expandRange, MAX_RANGE_HOSTS } from '../../src/inventory/host-range.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts } from '../../src/inventory/select.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { compileUserRegex } from '../../src/text/user-regex.js';

/*
 * Malformed input must end in exit 1 with file:line, quickly and in bounded memory. Inputs that
 * used to hang or exhaust memory run in a child process (the built CLI, or a small script over
 * dist/) with a hard timeout and a heap cap, so that this file itself can never hang.
 */
const repo = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-malformed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HARD_TIMEOUT_MS = 40_000;

function put(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

interface Ran {
  code: number | null;
  out: string;
  ms: number;
}

function node(args: string[]): Ran {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: HARD_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1', LVSRUN_DEBUG: '' },
  });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, ms: Math.round(performance.now() - t) };
}

const cli = (...args: string[]): Ran => node([join(repo, 'bin', 'lvsrun.js'), ...args]);
const inventoryList = (file: string): Ran => cli('inventory', '-i', file, '--list');

/** Bad input: exit 1, the file and line named, no internal error. */
function expectBadInput(r: Ran, file: string, line: number, message: RegExp): void {
  expect(r.out, r.out).not.toMatch(/internal error|Maximum call stack|heap out of memory/);
  expect(r.code, `${r.out} (${r.ms} ms)`).toBe(1);
  const at = r.out.indexOf(`${file}:${line}`);
  expect(at, r.out).toBeGreaterThanOrEqual(0);
  expect(r.out.charAt(at + `${file}:${line}`.length), r.out).toMatch(/[: ]/);
  expect(r.out).toMatch(message);
}

function thrown(f: () => unknown): LvsrunError {
  try {
    f();
  } catch (e) {
    if (e instanceof LvsrunError) return e;
    throw e;
  }
  throw new Error('expected an LvsrunError, nothing was thrown');
}

it('the CLI under test is built (npm test builds dist/ first)', () => {
  expect(existsSync(join(repo, 'dist', 'cli', 'main.js'))).toBe(true);
});

describe('11. host ranges', () => {
  it('a step of 0 is bad input, not an endless loop', () => {
    const f = put('step0.ini', '[web]\nw[1:3:0]\n');
    expectBadInput(inventoryList(f), f, 2, /step must be at least 1/);
  });
  it('a product of ranges is sized before expanding and refused over the limit', () => {
    const f = put('square.ini', '[web]\nw[0:999][0:999]\n');
    expectBadInput(inventoryList(f), f, 2, /names 1000000 hosts \(at most 10000\)/);
  });
  it('one huge range is refused at once, in YAML inventories too', () => {
    const f = put('huge.yaml', 'all:\n  hosts:\n    web[0:100000]: {}\n');
    expectBadInput(inventoryList(f), f, 3, /names 100001 hosts/);
  });
  it('a whole inventory is bounded too, and big legal ones load in linear time', () => {
    const lines = Array.from({ length: 11 }, (_, i) => `web${i}-[0:9999]`);
    const f = put('many.ini', `[web]\n${lines.join('\n')}\n`);
    expectBadInput(inventoryList(f), f, 12, /more than 100000 hosts/);
    const ok = put('big.ini', `[web]\n${lines.slice(0, 5).join('\n')}\n`);
    const t = performance.now();
    expect(loadInventory(ok).hosts.size).toBe(50_000);
    // Quadratic membership checks took minutes here; linear loading takes about a second.
    expect(performance.now() - t).toBeLessThan(20_000);
  });
  it('expands the forms Ansible accepts and refuses the ones it refuses', () => {
    expect(expandRange('web[01:03]')).toEqual(['web01', 'web02', 'web03']);
    expect(expandRange('w[1:9:4]x')).toEqual(['w1x', 'w5x', 'w9x']);
    expect(expandRange('[:2]')).toEqual(['0', '1', '2']);
    expect(expandRange('db-[y:B]')).toEqual(['db-y', 'db-z', 'db-A', 'db-B']);
    expect(expandRange('x[1:2]-[a:b]')).toEqual(['x1-a', 'x1-b', 'x2-a', 'x2-b']);
    expect(expandRange('w[3:1]')).toEqual([]);
    expect(expandRange('w[1]')).toEqual(['w[1]']);
    for (const bad of ['w[1:]', 'w[01:100]', 'w[a:5]', 'w[1:2:3:4]', 'w[c:a]', 'w[1:3:x]']) {
      expect(() => expandRange(bad, 'inv.ini', 4), bad).toThrow(ConfigError);
    }
    expect(thrown(() => expandRange(`w[0:${MAX_RANGE_HOSTS}]`, 'inv.ini', 4)).location()).toBe('inv.ini:4');
  });
});

describe('12. YAML', () => {
  it('duplicate keys are found in linear time (50k keys)', () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `    k${i}: ${i}`);
    const f = put('keys.yaml', `all:\n  vars:\n${keys.join('\n')}\n    k5: again\n`);
    const r = inventoryList(f);
    expectBadInput(r, f, 50_003, /duplicate key 'k5' \(first at line 8\)/);
  });
  it('a file over the size cap is refused before parsing', () => {
    const keys = Array.from({ length: 240_000 }, (_, i) => `    k${i}: ${i}`);
    const f = put('keys240k.yaml', `all:\n  vars:\n${keys.join('\n')}\n`);
    const r = inventoryList(f);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/YAML inputs hold at most/);
  });
  it('circular children through YAML aliases are bad input, not a stack overflow', () => {
    const f = put('alias-cycle.yaml', 'all:\n  children:\n    a: &x\n      children:\n        b: *x\n');
    expectBadInput(inventoryList(f), f, 5, /alias \*x refers to a node that contains it/);
  });
  it('groups that contain each other are a recursive dependency loop (YAML, INI, --graph)', () => {
    const y = put(
      'cycle.yaml',
      'all:\n  children:\n    a:\n      children:\n        b:\n    b:\n      children:\n        a:\n',
    );
    expectBadInput(inventoryList(y), y, 8, /groups 'a' -> 'b' -> 'a' form a recursive dependency loop/);
    const i = put('cycle.ini', '[a:children]\nb\n[b:children]\na\n');
    expectBadInput(inventoryList(i), i, 4, /recursive dependency loop/);
    expectBadInput(cli('inventory', '-i', i, '--graph'), i, 4, /recursive dependency loop/);
  });
  it('a group that is its own child is refused', () => {
    const f = put('self.ini', '[a:children]\na\n');
    expectBadInput(inventoryList(f), f, 2, /group 'a' is its own child/);
    const y = put('self.yaml', 'all:\n  children:\n    a:\n      children:\n        a:\n');
    expectBadInput(inventoryList(y), y, 5, /its own child/);
  });
  it('an alias bomb is bad input (exit 1 with file:line), not an internal error', () => {
    const levels = ['    l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let n = 1; n < 10; n++)
      levels.push(
        `    l${n}: &l${n} [${Array(10)
          .fill(`*l${n - 1}`)
          .join(', ')}]`,
      );
    const f = put('bomb.yaml', `all:\n  vars:\n${levels.join('\n')}\n`);
    expectBadInput(inventoryList(f), f, 4, /aliases expand to too many nodes/);
  });
});

describe('13. regular expressions', () => {
  it('lineinfile with a catastrophic pattern finishes at once (RE2, linear time)', () => {
    const script = put(
      'edit.mjs',
      [
        `import { editLines } from ${JSON.stringify(join(repo, 'dist', 'modules', 'lineinfile.js'))};`,
        `const text = 'a'.repeat(5000) + 'b\\n';`,
        `const t = performance.now();`,
        `const out = editLines(text, { path: '/x', regexp: '^(a+)+$', line: 'ok', state: 'present' });`,
        `console.log(JSON.stringify({ ms: performance.now() - t, appended: out.endsWith('ok\\n') }));`,
      ].join('\n'),
    );
    const r = node([script]);
    expect(r.code, `${r.out} (${r.ms} ms)`).toBe(0);
    const res = JSON.parse(r.out.trim().split('\n').pop()!) as { ms: number; appended: boolean };
    expect(res.appended).toBe(true);
    expect(res.ms).toBeLessThan(2000);
  });
  it('an invalid regexp is bad input at load with file:line and an RE2 hint', () => {
    const f = put(
      're/bad.yaml',
      [
        '- hosts: all',
        '  tasks:',
        '    - name: edit',
        '      lineinfile:',
        '        path: /etc/x',
        '        regexp: "^(a"',
        '        line: x',
        '',
      ].join('\n'),
    );
    const e = thrown(() => loadPlaybook(f));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.location()).toBe(`${f}:6 ([0].tasks[0].lineinfile.regexp)`);
    const look = put(
      're/look.yaml',
      '- hosts: all\n  tasks:\n    - lineinfile: {path: /etc/x, insertafter: "(?<=a)b", line: x}\n',
    );
    expect(thrown(() => loadPlaybook(look)).hint).toMatch(/RE2 syntax: no backreferences/);
    const back = put(
      're/back.yaml',
      '- hosts: all\n  tasks:\n    - lineinfile: {path: /etc/x, regexp: "(a)\\\\1", line: x}\n',
    );
    expect(thrown(() => loadPlaybook(back)).message).toMatch(/invalid regexp/);
  });
  it('host patterns run on the same engine: a bad glob or regex is a pattern error', () => {
    const f = put('pat.ini', '[web]\nweb1\nweb2\n');
    const inv = loadInventory(f);
    expect(selectHosts(inv, 'web[12]*')).toEqual(['web1', 'web2']);
    // As in Ansible, `group[12]` is a subscript of the group `web`, and it has no 13th host.
    expect(thrown(() => selectHosts(inv, 'web[12]')).code).toBe('E_PATTERN');
    expect(selectHosts(inv, '~^web(1|2)$')).toEqual(['web1', 'web2']);
    expect(thrown(() => selectHosts(inv, 'w[z-a]*')).code).toBe('E_PATTERN');
    expect(thrown(() => selectHosts(inv, '~(a)\\1')).code).toBe('E_PATTERN');
  });
  it('the seam searches and replaces with groups', () => {
    const re = compileUserRegex('(?P<k>\\w+)=(\\d+)');
    expect(re.search('x a=1')).toEqual({ index: 2, match: 'a=1', groups: ['a', '1'] });
    expect(re.replaceAll('a=1 b=2', '$2:$1')).toBe('1:a 2:b');
  });
});

describe('14. include blow-up', () => {
  it('16 files each including the next twice fail at once with the expanded size', () => {
    for (let i = 1; i < 16; i++) {
      put(`inc/t${i}.yaml`, `- include_tasks: t${i + 1}.yaml\n- include_tasks: t${i + 1}.yaml\n`);
    }
    put('inc/t16.yaml', '- command: echo hi\n');
    const site = put('inc/site.yaml', '- hosts: all\n  tasks:\n    - include_tasks: t1.yaml\n');
    const e = thrown(() => loadPlaybook(site));
    expect(e.location()).toBe(`${site}:3:7 ([0].tasks[0])`);
    expect(e.message).toMatch(/expands to 16384 tasks: the playbook would hold more than 10000 tasks/);
    const inv = put('inc/hosts.ini', 'localhost\n');
    expectBadInput(cli('validate', site, '-i', inv), site, 3, /more than 10000 tasks/);
  });
  it('a file that includes itself stops at the depth limit', () => {
    put('inc/self.yaml', '- include_tasks: self.yaml\n');
    const site = put('inc/self-site.yaml', '- hosts: all\n  tasks:\n    - include_tasks: self.yaml\n');
    expect(thrown(() => loadPlaybook(site)).message).toMatch(/nested more than 20 deep/);
  });
});

describe('15. wrong types are refused at load', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['when', 'when: {a: 1}', /'when' must be a condition string/],
    ['notify', 'notify: {a: 1}', /'notify' must be a name or a list of names/],
    ['tags', 'tags: {a: 1}', /'tags' must be a name or a list of names/],
    ['register', 'register: [x]', /'register' must be a variable name/],
    ['vars', 'vars: [1]', /'vars' must be a mapping/],
    ['become', 'become: {x: 1}', /'become' must be true or false/],
  ];
  it.each(cases)('%s', (field, line, message) => {
    const f = put(
      `types/${field}.yaml`,
      `- hosts: all\n  tasks:\n    - name: t\n      command: echo hi\n      ${line}\n`,
    );
    const e = thrown(() => loadPlaybook(f));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(message);
    expect(e.location()).toBe(`${f}:5:7 ([0].tasks[0].${field})`);
  });
  it('play keywords too', () => {
    const f = put('types/play.yaml', '- hosts: all\n  become: {x: 1}\n  tasks: []\n');
    expect(thrown(() => loadPlaybook(f)).location()).toBe(`${f}:2:3 ([0].become)`);
  });
});
