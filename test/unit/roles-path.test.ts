import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseConfig } from '../../src/cli/config.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { findLocalFile } from '../../src/playbook/local-files.js';

const repo = join(import.meta.dirname, '..', '..');
// Operator folders live outside this repository, as they do for an installed lvsrun.
const fresh = (): string => mkdtempSync(join(tmpdir(), 'lvsrun-roles-'));
const put = (d: string, files: Record<string, string>): void => {
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(join(d, p, '..'), { recursive: true });
    writeFileSync(join(d, p), t);
  }
};
const role = (msg: string): string => `- name: says\n  debug: {msg: ${msg}}\n`;
const INV = 'all:\n  hosts:\n    h1: {ansible_host: 127.0.0.9}\n';

type Result = { code: number; out: string; err: string };
async function cli(cwd: string, env: NodeJS.ProcessEnv, ...argv: string[]): Promise<Result> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    isTTY: false,
    cwd,
    env,
  });
  return { code, out, err };
}

describe('roles path', () => {
  it('a playbook outside the repository uses the shipped roles and their templates', () => {
    const d = fresh();
    put(d, { 'site.yaml': '- hosts: all\n  roles: [lvs_director, lvs_realserver]\n' });
    const pb = loadPlaybook(join(d, 'site.yaml'));
    const files = new Set(pb.plays[0]!.tasks.map((t) => t.where.file));
    const shipped = (r: string): string => join(repo, `playbooks/roles/${r}/tasks/main.yaml`);
    expect([...files]).toEqual([shipped('lvs_director'), shipped('lvs_realserver')]);
  });

  it('order: roles/ next to the playbook, then the configured paths in order, then the shipped roles', () => {
    const d = fresh();
    put(d, {
      'a/lvs_director/tasks/main.yaml': role('a'),
      'b/lvs_director/tasks/main.yaml': role('b'),
      'b/only_b/tasks/main.yaml': role('b'),
      'site.yaml': '- hosts: all\n  roles: [lvs_director, only_b]\n',
    });
    const from = (rolesPath: string[]): Array<string | undefined> =>
      loadPlaybook(join(d, 'site.yaml'), { rolesPath }).plays[0]!.tasks.map((t) => t.where.file);
    expect(from([join(d, 'a'), join(d, 'b')])).toEqual([
      join(d, 'a/lvs_director/tasks/main.yaml'),
      join(d, 'b/only_b/tasks/main.yaml'),
    ]);
    expect(from([join(d, 'b'), join(d, 'a')])[0]).toBe(join(d, 'b/lvs_director/tasks/main.yaml'));
    put(d, { 'roles/lvs_director/tasks/main.yaml': role('local') });
    expect(from([join(d, 'a'), join(d, 'b')])[0]).toBe(join(d, 'roles/lvs_director/tasks/main.yaml'));
  });

  it('a missing role is a load-time error listing every folder tried, the shipped one last', () => {
    const d = fresh();
    put(d, { 'site.yaml': '- hosts: all\n  roles: [nope]\n' });
    expect(() => loadPlaybook(join(d, 'site.yaml'), { rolesPath: [join(d, 'mine')] })).toThrow(
      expect.objectContaining({
        message: `role 'nope' not found`,
        hint: expect.stringContaining(
          `looked in ${[
            join(d, 'roles/nope'),
            join(d, '../roles/nope'),
            join(d, 'mine/nope'),
            join(repo, 'playbooks/roles/nope'),
          ].join(', ')}`,
        ),
        where: expect.objectContaining({ file: join(d, 'site.yaml'), line: 2 }),
      }),
    );
  });

  it('a role name that is no name (.., control characters) is refused, not searched', () => {
    const d = fresh();
    for (const name of ['..', '"a\\nb"']) {
      put(d, { 'site.yaml': `- hosts: all\n  roles: [${name}]\n` });
      expect(() => loadPlaybook(join(d, 'site.yaml'))).toThrow(/is not a role name/);
    }
  });

  it('lvsrun.cfg roles_path (relative to the file) and LVSRUN_ROLES_PATH (overrides it) reach the CLI', async () => {
    const d = fresh();
    put(d, {
      'site.yaml': '- hosts: all\n  roles: [mine]\n',
      'inv.yaml': INV,
      'cfgroles/mine/tasks/main.yaml': role('cfg'),
      'envroles/mine/tasks/main.yaml': 'not: [a list\n',
      'lvsrun.cfg': '# ops\n[defaults]\nroles_path = cfgroles\nforks = 7\n',
    });
    expect((await cli(d, {}, 'validate', 'site.yaml', '-i', 'inv.yaml')).code).toBe(0);
    const viaEnv = await cli(d, { LVSRUN_ROLES_PATH: 'envroles' }, 'validate', 'site.yaml', '-i', 'inv.yaml');
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.err).toContain(join(d, 'envroles/mine/tasks/main.yaml'));
    const elsewhere = fresh();
    const args = ['validate', join(d, 'site.yaml'), '-i', join(d, 'inv.yaml')];
    const viaCfgVar = await cli(elsewhere, { LVSRUN_CONFIG: join(d, 'lvsrun.cfg') }, ...args);
    expect(viaCfgVar.code, viaCfgVar.err).toBe(0);
    expect((await cli(elsewhere, {}, ...args)).err).toContain(`role 'mine' not found`);
  });

  it('lvsrun.cfg mistakes name the file, line and setting, exit 1', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        '[defaults]\nrole_path = x\n',
        /lvsrun\.cfg:2 \(role_path\): unknown setting 'role_path'\n {2}hint: did you mean 'roles_path'\?/,
      ],
      ['[defaults]\nforks = 0x10\n', /lvsrun\.cfg:2 \(forks\): forks must be a positive whole number, got "0x10"/],
      ['[nope]\nforks = 1\n', /lvsrun\.cfg:1: unknown section \[nope\]/],
      ['forks = 1\n', /lvsrun\.cfg:1 \(forks\): settings go under \[defaults\]/],
      ['[defaults]\n{{x}}\n', /lvsrun\.cfg:2: expected key = value/],
      ['[defaults]\n__proto__ = 1\n', /unknown setting '__proto__'/],
    ];
    for (const [text, re] of cases) {
      const d = fresh();
      put(d, { 'lvsrun.cfg': text, 'inv.yaml': INV, 'site.yaml': '- hosts: all\n  tasks: []\n' });
      const r = await cli(d, {}, 'validate', 'site.yaml', '-i', 'inv.yaml');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(re);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(
      parseConfig('[defaults]\nroles_path = a:/b: ~/c\n', '/etc/lvs/lvsrun.cfg', { HOME: '/home/op' }).rolesPath,
    ).toEqual(['/etc/lvs/a', '/b', '/home/op/c']);
  });
});

describe('templates: the playbook folder first, the shipped templates last', () => {
  it("the keepalived module's default template is found from a folder outside the repository", () => {
    const d = fresh();
    const r = findLocalFile('keepalived/keepalived.conf.hbs', [d, join(d, 'templates')], 'templates');
    expect(r.found).toBe(join(repo, 'templates/keepalived/keepalived.conf.hbs'));
    put(d, { 'templates/keepalived/keepalived.conf.hbs': 'mine' });
    expect(findLocalFile('keepalived/keepalived.conf.hbs', [d], 'templates').found).toBe(
      join(d, 'templates/keepalived/keepalived.conf.hbs'),
    );
    // copy's files are never taken from the shipped templates.
    expect(findLocalFile('keepalived/keepalived.conf.hbs', [fresh()], 'files').found).toBeUndefined();
  });

  it('a keepalived task whose template is missing fails when the playbook loads, listing the paths tried', () => {
    const d = fresh();
    put(d, {
      'site.yaml': `- hosts: all
  tasks:
    - name: conf
      keepalived:
        template: custom/ka.hbs
        vrrp_instances:
          - {name: VI_1, state: MASTER, interface: eth0, virtual_router_id: 51, priority: 100,
             virtual_ipaddress: [192.0.2.1]}
`,
    });
    expect(() => loadPlaybook(join(d, 'site.yaml'))).toThrow(
      expect.objectContaining({
        message: `template 'custom/ka.hbs' not found`,
        hint: expect.stringContaining(`${join(d, 'custom/ka.hbs')}, ${join(d, 'templates/custom/ka.hbs')}`),
        where: expect.objectContaining({ line: 5, field: '[0].tasks[0].keepalived.template' }),
      }),
    );
    put(d, { 'templates/custom/ka.hbs': 'vrrp_instance {{x}} {}\n' });
    expect(loadPlaybook(join(d, 'site.yaml')).plays[0]!.tasks).toHaveLength(1);
  });
});
