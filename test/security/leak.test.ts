import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdDown, sshdUp, type SshdHosts } from '../../src/bench/sshd-hosts.js';
import { main } from '../../src/cli/main.js';
import { drillHtml } from '../../src/drills/report-html.js';
import { Redactor } from '../../src/text/redact.js';
import { encryptVault } from '../../src/vault/format.js';

// One real OpenSSH server on loopback (127.0.40.1:2222); the CLI runs in-process against it, so
// the journal and the report are the ones a user gets.
const dir = '/tmp/lvsrun-test-leak';
const work = join(dir, 'work');

/** One canary per source; some hold a quote, a backslash or a newline (JSON escapes those). */
const C = {
  inventory: 'cnry-inventory',
  group: 'cnry-group"quote',
  host: 'cnry-host\\slash',
  roleDefault: 'cnry-roledefault',
  roleVar: 'cnry-rolevar',
  play: 'cnry-play',
  templated: 'cnry-templated',
  nested: 'cnry-nested',
  varsFile: 'cnry-varsfile\nsecondline',
  extra: 'cnry-extra',
  tagged: 'cnry-tagged',
  vault: 'cnry-vault',
  noLog: 'cnry-nolog',
} as const;

let h: SshdHosts;
let out = '';
let err = '';

async function cli(...argv: string[]): Promise<number> {
  return main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    isTTY: false,
    cwd: work,
    env: process.env,
  });
}

const yq = (s: string): string => JSON.stringify(s); // a JSON string is a YAML double-quoted scalar

function writeProject(): void {
  mkdirSync(join(work, 'roles/x/defaults'), { recursive: true });
  mkdirSync(join(work, 'roles/x/vars'), { recursive: true });
  mkdirSync(join(work, 'roles/x/tasks'), { recursive: true });
  writeFileSync(join(work, 'vault-pass'), 'leak-test-vault-password\n');
  const vaulted = encryptVault(Buffer.from(C.vault), Buffer.from('leak-test-vault-password'));
  mkdirSync(join(work, 'inv/group_vars'), { recursive: true });
  mkdirSync(join(work, 'inv/host_vars'), { recursive: true });
  writeFileSync(
    join(work, 'inv/hosts.yaml'),
    `all:
  vars:
    ansible_user: root
    ansible_port: ${h.port}
    ansible_ssh_private_key_file: ${h.key}
    lvsrun_known_hosts: ${h.knownHosts}
    lvsrun_lock_file: ${join(dir, 'lvsrun.lock')}
    inv_token: ${yq(C.inventory)}
  hosts:
    h01:
      ansible_host: ${h.addr(1)}
`,
  );
  writeFileSync(
    join(work, 'inv/group_vars/all.yml'),
    `group_token: ${yq(C.group)}
site_key: !vault |
${vaulted
  .trimEnd()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`,
  );
  writeFileSync(join(work, 'inv/host_vars/h01.yml'), `host_secret: ${yq(C.host)}\n`);
  writeFileSync(join(work, 'roles/x/defaults/main.yml'), `db_password: ${yq(C.roleDefault)}\n`);
  writeFileSync(join(work, 'roles/x/vars/main.yml'), `role_secret: ${yq(C.roleVar)}\n`);
  // Role defaults and vars are seen by the role's own tasks.
  writeFileSync(
    join(work, 'roles/x/tasks/main.yml'),
    `- name: role prints its own
  debug:
    msg: "{{ db_password }} {{ role_secret }}"
- name: role fails quoting them
  assert:
    that: ["1 == 2"]
    fail_msg: "{{ db_password }} {{ role_secret }}"
  ignore_errors: true
- name: role writes them (diff)
  copy:
    dest: ${join(dir, 'root/h01/role.conf')}
    content: "{{ db_password }} {{ role_secret }}\\n"
`,
  );
  writeFileSync(join(work, 'secrets.yml'), `vf_secret: ${yq(C.varsFile)}\n`);
  const all =
    '{{ inv_token }} {{ group_token }} {{ host_secret }} {{ play_token }} ' +
    '{{ x_password }} {{ creds.password }} {{ vf_secret }} {{ cli_pass }} {{ tagged }} {{ site_key }}';
  writeFileSync(
    join(work, 'site.yaml'),
    `- name: leak
  hosts: all
  vars_files: [secrets.yml]
  vars:
    play_token: ${yq(C.play)}
    real_value: ${yq(C.templated)}
    x_password: "{{ real_value }}"
    creds:
      user: admin
      password: ${yq(C.nested)}
    tagged: !secret ${yq(C.tagged)}
  roles: [x]
  tasks:
    - name: every value in a message
      debug:
        msg: ${yq(all)}
    - name: a nested value by var
      debug:
        var: creds
    - name: a no_log command
      command:
        argv: [echo, ${yq(C.noLog)}]
      register: hidden
      no_log: true
    - name: its registered result, later
      debug:
        var: hidden
    - name: a file that holds them (diff)
      copy:
        dest: ${join(dir, 'root/h01/app.conf')}
        content: ${yq(`${all}\n{{ hidden.stdout }}\n`)}
    - name: a failure that quotes them
      assert:
        that: ["1 == 2"]
        fail_msg: ${yq(`${all} {{ hidden.stdout }}`)}
      ignore_errors: true
`,
  );
}

/** Every file under `d`, recursively. */
function files(d: string): string[] {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** A journal line without what its undo steps carry on stdin (earlier file contents, which may hold secrets). */
function journalWithoutContents(text: string): string {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const r = JSON.parse(l) as { undo?: { stdin?: string }[] };
      for (const s of r.undo ?? []) delete s.stdin;
      return JSON.stringify(r);
    })
    .join('\n');
}

/** Each canary found in `text`: as written, JSON-escaped, or any one of its lines (a diff prefixes each). */
function hits(where: string, text: string): string[] {
  const forms = (c: string): string[] => [c, JSON.stringify(c).slice(1, -1), ...c.split('\n')];
  return Object.entries(C)
    .filter(([, c]) => forms(c).some((f) => text.includes(f)))
    .map(([k]) => `${k} in ${where}`);
}

beforeAll(async () => {
  sshdDown(dir);
  rmSync(dir, { recursive: true, force: true });
  h = await sshdUp(dir, 1, { net: '127.0.40' });
  mkdirSync(work, { recursive: true });
  writeProject();
}, 60_000);
afterAll(() => {
  expect(sshdDown(dir)).toBe(1);
  rmSync(dir, { recursive: true, force: true });
});

describe('no secret reaches any byte lvsrun writes', () => {
  it('run -v -D --report, run -v -D --json --report, validate, runs: 0 canaries', async () => {
    const common = [
      'site.yaml',
      '-i',
      'inv',
      '-e',
      JSON.stringify({ cli_pass: C.extra }),
      '--vault-password-file',
      'vault-pass',
      '-v',
      '-D',
    ];
    const first = await cli(...common, '--report', 'report1.json');
    expect(first, out + err).toBe(0);
    // The run really printed and wrote what would leak: the masked values are there.
    expect(out).toMatch(/ok: \[h01\] => (\*{8} ){9}\*{8}\n/); // the ten values of `all`, each masked whole
    expect(out).toMatch(/ok: \[h01\] => \*{8} \*{8}\n/); // the role's default and var
    expect(readFileSync(join(dir, 'root/h01/app.conf'), 'utf8')).toContain(C.nested);
    // The second run replaces a file that holds a secret: its undo (journal stdin) carries the old content.
    writeFileSync(join(dir, 'root/h01/app.conf'), `old ${C.nested}\n`);
    expect(await cli(...common, '--json', '--report', 'report2.json')).toBe(0);
    await cli(
      'validate',
      'site.yaml',
      '-i',
      'inv',
      '-e',
      JSON.stringify({ cli_pass: C.extra }),
      '--vault-password-file',
      'vault-pass',
      '-v',
    );
    await cli('validate', 'site.yaml', '-i', 'inv', '--json', '--vault-password-file', 'vault-pass');
    await cli('runs');
    await cli('runs', '--json');
    if (process.env.LEAK_DEBUG) console.log(out, err);
    const found = [...hits('stdout', out), ...hits('stderr', err)];
    for (const r of ['report1.json', 'report2.json']) found.push(...hits(r, readFileSync(join(work, r), 'utf8')));
    const lvsrunFiles = files(join(work, '.lvsrun'));
    expect(lvsrunFiles.filter((f) => f.endsWith('journal.jsonl'))).toHaveLength(2);
    const journals = lvsrunFiles.filter((f) => f.endsWith('journal.jsonl')).map((f) => readFileSync(f, 'utf8'));
    const undoContents = journals
      .join('\n')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => (JSON.parse(l) as { undo?: { stdin?: string }[] }).undo ?? [])
      .map((s) => s.stdin ?? '');
    const oldContent = (s: string): boolean =>
      s.includes(`old ${C.nested}`) || Buffer.from(s, 'base64').toString().includes(`old ${C.nested}`);
    expect(undoContents.some(oldContent)).toBe(true);
    for (const f of lvsrunFiles) {
      const text = readFileSync(f, 'utf8');
      found.push(...hits(f, f.endsWith('journal.jsonl') ? journalWithoutContents(text) : text));
    }
    expect(found).toEqual([]);
  }, 120_000);

  it('the drill report masks secrets in its timeline', () => {
    const red = new Redactor([C.group, C.varsFile]);
    const html = drillHtml(
      {
        drill: 'failover',
        target: 'lb',
        runId: 'r1',
        started: 'now',
        probe: 'http',
        ok: false,
        verdict: `lost ${C.group}`,
        metrics: { note: C.varsFile },
        events: [{ t: 10, event: 'stop', host: 'lb1', detail: `auth ${C.group} ${C.varsFile}` }],
        probes: [],
      },
      red,
    );
    expect(html).toContain('stop');
    expect(hits('drill html', html)).toEqual([]);
    // HTML escaping must not hide a secret from the redactor: the quote canary is escaped as &quot;.
    expect(html.includes('cnry-group&quot;quote')).toBe(false);
  });
});
