import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { moduleCtx } from '../../src/engine/module-run.js';
import { parseDpkgQuery, pkg } from '../../src/modules/package.js';
import { FakeTransport } from '../../src/transport/fake.js';
import type { ShellCmd } from '../../src/transport/shell.js';
import type { ExecResult, Transport } from '../../src/transport/types.js';

const LINES = [
  'ipvsadm|amd64|install ok installed|1:1.31-1+b1',
  'keepalived|amd64|deinstall ok config-files|1:2.2.7-1+b2',
  'libfoo|i386|install ok installed|2.0-1',
  'nginx-common|all|unknown ok not-installed|',
  'nginx-core|amd64|install ok installed|1.22.1-9',
].join('\n');

describe('package: the apt probe', () => {
  it('asks dpkg-query once for every name and gives each name its own lines', async () => {
    const t = new FakeTransport('rs1')
      .on(/command -v apt-get/, { stdout: 'apt\n' })
      .on(/dpkg-query/, { stdout: `${LINES}\n`, code: 1 });
    const names = ['ipvsadm', 'keepalived', 'libfoo', 'libfoo:amd64', 'libfoo:i386', 'nginx-*', 'nginx=1.22.1-9'];
    const o = await pkg.check(moduleCtx(t), pkg.schema.parse({ name: names }));
    const probes = t.calls.filter((c) => c.cmd.includes('dpkg-query'));
    expect(probes).toHaveLength(1);
    expect(probes[0]!.cmd).not.toMatch(/for p in/);
    expect(o.installed).toEqual({
      ipvsadm: '1:1.31-1+b1',
      keepalived: null, // only its configuration files are left
      libfoo: '2.0-1', // any architecture
      'libfoo:amd64': null,
      'libfoo:i386': '2.0-1',
      'nginx-*': '1.22.1-9', // the first installed package the pattern matches
      'nginx=1.22.1-9': null, // dpkg-query matches no NAME=VERSION: apt-get installs that version
    });
  });

  it('reads hostile package fields as data', () => {
    expect(
      parseDpkgQuery('x|amd64|install ok installed|1|extra\n__proto__|amd64|install ok installed|1\n', ['x']),
    ).toEqual({ x: null });
    const o = parseDpkgQuery('constructor|all|install ok installed|$(id)\n', ['constructor', 'toString']);
    expect(o).toEqual({ constructor: '$(id)', toString: null });
  });
});

/** Runs commands with this machine's /bin/sh; PATH puts a counting dpkg-query in front of the real one. */
class LocalTransport implements Transport {
  readonly host = 'local';
  constructor(private readonly path: string) {}
  async exec(cmd: ShellCmd): Promise<ExecResult> {
    const r = spawnSync('/bin/sh', ['-c', cmd], { env: { PATH: this.path } });
    return { code: r.status, signal: null, stdout: r.stdout.toString(), stderr: r.stderr.toString(), durationMs: 0 };
  }
  async close(): Promise<void> {}
}

const hasDpkg = spawnSync('sh', ['-c', 'command -v dpkg-query && command -v apt-get']).status === 0;

describe.skipIf(!hasDpkg)("package: the apt probe on this machine's dpkg database", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsrun-dpkg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('one dpkg-query process for two names, with the versions dpkg-query gives one name at a time', async () => {
    const real = spawnSync('sh', ['-c', 'command -v dpkg-query']).stdout.toString().trim();
    writeFileSync(join(dir, 'dpkg-query'), `#!/bin/sh\necho x >> '${dir}/count'\nexec '${real}' "$@"\n`);
    chmodSync(join(dir, 'dpkg-query'), 0o755);
    const t = new LocalTransport(`${dir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`);
    const o = await pkg.check(moduleCtx(t), pkg.schema.parse({ name: ['dpkg', 'lvsrun-no-such-package'] }));
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('x\n');
    const version = spawnSync(real, ['-W', '-f=${Version}', 'dpkg']).stdout.toString();
    expect(version).not.toBe('');
    expect(o.installed).toEqual({ dpkg: version, 'lvsrun-no-such-package': null });
  });
});
