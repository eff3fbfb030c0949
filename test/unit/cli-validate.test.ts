import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../integration/helpers.js';

const repo = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lvsrun-val-'));
// Hosts on an address nothing listens on: if lvsrun tried to connect, the exit would be 4, not 1.
const inv = (lb2: string): string => {
  const f = join(dir, `inv-${Math.random()}.yaml`);
  writeFileSync(f, `all:
  vars: {lvs_vip: 10.99.0.100, lvs_interface: eth0, ansible_host: 127.0.0.9, ansible_port: 1}
  children:
    directors:
      hosts:
        lb1: {keepalived_state: MASTER, keepalived_priority: 150}
        lb2: {${lb2}}
    realservers:
      hosts:
        rs1: {}
`);
  return f;
};

describe('lvsrun PLAYBOOK validates the whole inventory first', () => {
  it('refuses to start on a validation error, naming host, variable and line, exit 1', async () => {
    const r = await cli(join(repo, 'playbooks/site.yaml'), '-i', inv('keepalived_state: MASTER, keepalived_priority: 100'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/error\[one-master\] lb1 keepalived_state \(.*inv-.*\.yaml:6\): default\/VI_1 has 2 directors with state MASTER/);
    expect(r.err).toMatch(/error\[E_VALIDATION\].*nothing was touched/);
    expect(r.out).not.toMatch(/PLAY/);
  });
  it('lvsrun validate prints the findings and exits 0 on a clean inventory, 1 on errors', async () => {
    expect((await cli('validate', join(repo, 'playbooks/site.yaml'), '-i', inv('keepalived_state: BACKUP, keepalived_priority: 100'))).code).toBe(0);
    const bad = await cli('validate', join(repo, 'playbooks/site.yaml'), '-i', inv('keepalived_state: BACKUP, keepalived_priority: 100, lvs_advert_int: 2'));
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/error\[peer-mismatch\] lb2 lvs_advert_int .*advert_int differs between peers of default\/VI_1: lb2 has 2, lb1 has 1/);
  });
});
