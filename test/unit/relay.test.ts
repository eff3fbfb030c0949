import { createServer, createConnection, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay, type Relay } from '../../src/bench/relay.js';

// The bench's WAN stand-in: loopback only (an echo server on 127.0.0.1).
describe('bench relay (delay per chunk, round trips counted)', () => {
  let echo: Server | undefined;
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
  });

  it('passes bytes through exactly, adds at least the round-trip time, and counts each client turn', async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
    const port = (echo.address() as { port: number }).port;
    relay = await startRelay({ host: '127.0.0.1', port: 0 }, { host: '127.0.0.1', port }, 40);
    const rport = relay.port || 0;
    expect(rport).toBeGreaterThan(0);
    const c = createConnection({ host: '127.0.0.1', port: rport });
    const got: Buffer[] = [];
    const ask = async (b: Buffer): Promise<number> => {
      const t0 = performance.now();
      const want = Buffer.concat(got).length + b.length;
      c.write(b);
      while (Buffer.concat(got).length < want) await new Promise((r) => c.once('data', r));
      return performance.now() - t0;
    };
    c.on('data', (b: Buffer) => got.push(b));
    await new Promise((r) => c.once('connect', r));
    const bin = Buffer.from([0, 255, 10, 13, 0x7b, 0x7b]);
    const t1 = await ask(bin);
    const t2 = await ask(Buffer.from('second'));
    expect(Buffer.concat(got)).toEqual(Buffer.concat([bin, Buffer.from('second')]));
    // A lower bound only: a busy machine makes it slower, never faster.
    expect(t1).toBeGreaterThanOrEqual(78);
    expect(t2).toBeGreaterThanOrEqual(78);
    expect(relay.turns()).toBe(2);
    c.destroy();
  });
});
