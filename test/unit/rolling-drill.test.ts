import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { DirectorConn } from '../../src/drills/failover.js';
import { rollingDrill } from '../../src/drills/rolling.js';
import { FakeTransport } from '../../src/transport/fake.js';

// The rollout drill against fake directors whose IPVS table a fake rollout changes over time, and a
// probe against an HTTP server on loopback standing in for the VIP.
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((_q, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

type Table = Record<string, { weight: number; active: number }>;

function director(name: string, table: Table, saved: () => string): DirectorConn {
  const t = new FakeTransport(name)
    .on(/^ipvsadm -S -n/, () => ({ stdout: saved() }))
    .on(/^ipvsadm -L -n -t 127\.0\.0\.1:\d+/, () => ({
      stdout:
        'Prot LocalAddress:Port Scheduler Flags\n' +
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
        `TCP  127.0.0.1:${port} rr\n` +
        Object.entries(table)
          .map(([rs, s]) => `  -> ${rs}                 Route   ${s.weight}      ${s.active}          0         \n`)
          .join(''),
    }));
  return { name, t, vars: {}, become: { enabled: false, user: 'root' } };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cluster() {
  const table: Table = { '10.0.0.1:80': { weight: 2, active: 3 }, '10.0.0.2:80': { weight: 1, active: 0 } };
  const save = () =>
    Object.entries(table)
      .map(([rs, s]) => `-a -t 127.0.0.1:${port} -r ${rs} -g -w ${s.weight}\n`)
      .join('');
  return { table, directors: [director('lb1', table, save), director('lb2', table, save)] };
}

const input = (c: ReturnType<typeof cluster>, rollout: () => Promise<number>) => ({
  runId: 'r1',
  directors: c.directors,
  reals: [
    { name: 'rs1', key: '10.0.0.1:80' },
    { name: 'rs2', key: '10.0.0.2:80' },
  ],
  vip: '127.0.0.1',
  port,
  protocol: 'tcp' as const,
  probe: `http:${port}`,
  probeEveryMs: 50,
  probeTimeoutMs: 2000,
  watchEveryMs: 20,
  rollout,
});

/** Drain one server the way lvs_member does: weight 0, its connections end after `ms`, then its weight back. */
async function roll(t: Table, rs: string, ms: number, back = true): Promise<void> {
  const w = t[rs]!.weight;
  t[rs]!.weight = 0;
  await pause(ms);
  t[rs]!.active = 0;
  await pause(200);
  if (back) t[rs]!.weight = w;
  await pause(100);
}

describe('drill rolling', () => {
  it("times each server's drain from the tables, counts requests, and checks every table is as before", async () => {
    const c = cluster();
    const r = await rollingDrill(
      input(c, async () => {
        await roll(c.table, '10.0.0.1:80', 1000);
        await roll(c.table, '10.0.0.2:80', 0);
        return 0;
      }),
    );
    expect(r.ok, r.verdict).toBe(true);
    expect(r.metrics['drain_s rs1']).toBeGreaterThanOrEqual(0.3);
    expect(r.metrics['drain_s rs1']).toBeLessThan(5);
    expect(r.metrics['drain_s rs2']).toBeLessThan(r.metrics['drain_s rs1'] as number);
    // the same tables on both directors: each waited for rs1's connections as long as the whole drain
    expect(r.metrics['conn_drain_s rs1']).toBeGreaterThanOrEqual(0.3);
    expect(r.metrics).toMatchObject({ servers_done: 'rs1, rs2', tables_identical: 'yes', failed_probes: 0 });
    expect(r.metrics.probes).toBeGreaterThan(10);
    expect(r.events.map((e) => `${e.event}${e.host ? ` ${e.host}` : ''}`)).toEqual(
      expect.arrayContaining(['weight-0 rs1', 'drained rs1', 'weight-restored rs1', 'drained rs2']),
    );
    expect(r.verdict).toMatch(/2 server\(s\) rolled through with 0 failed request\(s\)/);
  });

  it('a stopped rollout: the exit code, the servers done and the one left drained', async () => {
    const c = cluster();
    const r = await rollingDrill(
      input(c, async () => {
        await roll(c.table, '10.0.0.1:80', 0);
        await roll(c.table, '10.0.0.2:80', 0, false);
        return 2;
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.metrics).toMatchObject({ exit_code: 2, servers_done: 'rs1', left_drained: 'rs2' });
    expect(r.metrics.tables_identical).toBe('no (lb1, lb2)');
    expect(r.verdict).toMatch(/the rollout stopped \(exit 2\): done rs1; left drained: rs2/);
  });

  it('a table that is not as before fails the drill even when every request succeeded', async () => {
    const c = cluster();
    const r = await rollingDrill(
      input(c, async () => {
        c.table['10.0.0.2:80']!.weight = 5;
        return 0;
      }),
    );
    expect(r.ok).toBe(false);
    expect(r.verdict).toMatch(/the IPVS table of lb1, lb2 differs from before/);
  });

  it('a director answering with something that is not a listing is reported, not read', async () => {
    const c = cluster();
    c.directors[1]!.t = new FakeTransport('lb2')
      .on(/^ipvsadm -S -n/, () => ({ stdout: '' }))
      .on(/^ipvsadm -L/, () => ({ stdout: 'TCP  127.0.0.1:80 rr\n  -> 10.0.0.1:80 Route 1 0 0\n\u0000\n' }));
    const r = await rollingDrill(input(c, async () => 0));
    expect(r.ok).toBe(false);
    expect(r.verdict).toMatch(/a director's table could not be read: lb2: line 3/);
  });
});

describe('drill rolling: bad input', () => {
  const inv = join(mkdtempSync(join(tmpdir(), 'lvsrun-rolling-')), 'inv.yaml');
  writeFileSync(
    inv,
    'all:\n  vars: {lvs_vip: 10.0.0.100}\n  children:\n    directors: {hosts: {lb1: {ansible_host: 192.0.2.1}}}\n' +
      '    realservers: {hosts: {rs1: {ansible_host: 192.0.2.11}}}\n',
  );
  const run = async (...argv: string[]) => {
    let err = '';
    const code = await main(['drill', 'rolling', '-i', inv, ...argv], {
      out: () => undefined,
      err: (s) => {
        err += s;
      },
      isTTY: false,
      cwd: process.cwd(),
      env: process.env,
    });
    return { code, err };
  };
  it.each([
    [['--reals', 'nosuch'], /host pattern 'nosuch'/],
    [['-e', 'rolling_tasks=/nonexistent/change.yaml'], /include_tasks: \/nonexistent\/change\.yaml does not exist/],
    [['--rate', '0'], /--rate must be a number of requests a second from 1 to 200/],
    [['-e', 'rolling_serial=many'], /serial must be a positive number/],
  ])('%j is refused (exit 1) before any host is touched', async (argv, msg) => {
    // 192.0.2.0/24 answers nothing: reaching for a host would take the connect timeout, not milliseconds
    const t0 = performance.now();
    const r = await run(...argv);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(msg);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
