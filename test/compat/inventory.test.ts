import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ansibleSkipped, askAnsible, lvsrun, writeCases, type AnsibleView, type Call } from './ansible-oracle.js';
import { INVENTORY_CASES } from './inventory-cases.js';

const SECRETS = 'lvsrun inventory prints secret values (…pass, …password, …token, lvsrun_secret_vars) ' + 'as ********';

/**
 * Intended differences from ansible-inventory: the only places where lvsrun's output may differ.
 * Each entry must still differ (an entry that starts matching Ansible is stale and fails the test).
 */
const INTENDED: ReadonlyArray<{ id: string; what: 'list' | 'graph' | 'host'; reason: string }> = [
  { id: 'secret-redacted', what: 'list', reason: SECRETS },
  { id: 'secret-redacted', what: 'host', reason: SECRETS },
];

/** Cases Ansible skips with "Unable to parse" (and lvsrun therefore refuses): listed so that none slips by. */
const REFUSED = ['struct-undefined-child', 'ini-header-comment', 'hostile-names'];

/** Ansible skips an unparsable file with a warning and goes on with an empty inventory; lvsrun refuses it. */
const REFUSED_REASON = 'a file Ansible cannot parse is skipped with a warning there; lvsrun refuses it with an error';

const cases = INVENTORY_CASES;
let paths: Map<string, string>;
let ansible: Record<string, AnsibleView>;

beforeAll(() => {
  paths = writeCases(cases);
  ansible = askAnsible(cases, paths);
}, 300_000);

const intended = (id: string, what: string) => INTENDED.find((e) => e.id === id && e.what === what);

function json(c: Call): unknown {
  return JSON.parse(c.stdout);
}

describe('lvsrun inventory matches ansible-inventory 2.14', () => {
  it('has at least 60 cases', () => expect(cases.length).toBeGreaterThanOrEqual(60));

  for (const c of cases) {
    it(c.id, async () => {
      const a = ansible[c.id]!;
      const path = paths.get(c.id)!;
      const cwd = dirname(path);
      const list = await lvsrun(['inventory', '-i', path, '--list'], cwd);
      expect(ansibleSkipped(a.list), a.list.stderr).toBe(REFUSED.includes(c.id));
      if (REFUSED.includes(c.id)) {
        expect(list.code, REFUSED_REASON).not.toBe(0);
        expect(list.stderr).toMatch(/E_INVENTORY|E_YAML/);
        return;
      }
      expect(a.list.code, a.list.stderr).toBe(0);
      const checks: Array<[string, unknown, unknown]> = [];
      expect(list.code, list.stderr).toBe(0);
      checks.push(['list', json(list), json(a.list)]);
      const graph = await lvsrun(['inventory', '-i', path, '--graph'], cwd);
      checks.push(['graph', graph.stdout, a.graph.stdout]);
      for (const [host, ah] of Object.entries(a.host)) {
        const mine = await lvsrun(['inventory', '-i', path, '--host', host], cwd);
        checks.push([`host`, { [host]: mine.code === 0 ? json(mine) : mine.stderr }, { [host]: json(ah) }]);
      }
      for (const [what, mine, theirs] of checks) {
        const allowed = intended(c.id, what);
        if (allowed) expect(mine, `stale allow-list entry: ${allowed.reason}`).not.toEqual(theirs);
        else expect(mine, `${c.id} ${what}`).toEqual(theirs);
      }
    });
  }

  it('bin/lvsrun.js prints the same as the in-process command', () => {
    const c = cases.find((x) => x.id === 'doc-inherit-ini')!;
    const path = paths.get(c.id)!;
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'lvsrun.js');
    const r = spawnSync(process.execPath, [bin, 'inventory', '-i', path, '--graph'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(ansible[c.id]!.graph.stdout);
  });
});
