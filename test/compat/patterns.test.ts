import { beforeAll, describe, expect, it } from 'vitest';
import { askAnsible, writeCases, type AnsibleView, type InvCase } from './ansible-oracle.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts } from '../../src/inventory/select.js';
import type { Inventory } from '../../src/inventory/types.js';

const INV = `solo
badwolf.example.com:5309
[webservers]
web3.example.com
web1.example.com
web2.example.com
[dbservers]
db2.example.com
db1.example.com
web1.example.com
[lb]
lb1
[edge:children]
lb
webservers
[staging]
web2.example.com
db1.example.com
`;

const PATTERNS = [
  'all',
  '*',
  'webservers',
  'dbservers',
  'webservers:dbservers',
  'dbservers:webservers',
  'webservers,dbservers',
  'dbservers,webservers',
  'webservers:&staging',
  'webservers:!staging',
  'all:!webservers',
  '!webservers',
  '&staging',
  'edge',
  'edge:!lb',
  'web*',
  '*.example.com',
  'db?.example.com',
  'web[12].example.com',
  'web[!3].example.com',
  '~web',
  '~example',
  '~.*example',
  '~(web|db)1',
  'all[0]',
  'webservers[0]',
  'webservers[-1]',
  'webservers[0:1]',
  'webservers[1:]',
  'dbservers[0:2]',
  'edge[1]',
  'solo',
  'badwolf.example.com',
  'db1.example.com,web3.example.com',
  'web3.example.com:db1.example.com',
  'staging:dbservers:&webservers',
  'webservers:dbservers:!staging',
  'ungrouped',
  'e*',
  'lb1,webservers[0]',
  '*:!*.example.com',
  'nosuch,lb',
  'localhost',
];

/** Intended differences from `ansible PATTERN --list-hosts`, each with its reason (each must still differ). */
const INTENDED: ReadonlyArray<{ pattern: string; reason: string }> = [
  {
    pattern: 'localhost',
    reason: 'no implicit localhost: lvsrun reaches every host over SSH, so localhost must be in the inventory',
  },
];

const cases: InvCase[] = [{ id: 'patterns', files: { hosts: INV }, patterns: PATTERNS }];
let ansible: AnsibleView;
let inv: Inventory;

beforeAll(() => {
  const paths = writeCases(cases);
  ansible = askAnsible(cases, paths).patterns!;
  inv = loadInventory(paths.get('patterns')!);
}, 120_000);

describe('host patterns match `ansible PATTERN --list-hosts` (2.14), order included', () => {
  it('has at least 30 patterns', () => expect(PATTERNS.length).toBeGreaterThanOrEqual(30));
  for (const p of PATTERNS) {
    it(p, () => {
      const theirs = ansible.patterns[p]!;
      expect(theirs.code, theirs.stderr).toBe(0);
      const mine = selectHosts(inv, p, { unknown: () => undefined });
      const allowed = INTENDED.find((e) => e.pattern === p);
      if (allowed) expect(mine, `stale allow-list entry: ${allowed.reason}`).not.toEqual(theirs.hosts);
      else expect(mine).toEqual(theirs.hosts);
    });
  }

  it('an index past the end is an error, as in Ansible', () => {
    expect(() => selectHosts(inv, 'webservers[7]')).toThrow(/no host at index 7/);
  });
});
