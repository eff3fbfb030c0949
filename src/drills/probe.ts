import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Timeline } from './timeline.js';

/**
 * Requests through the VIP from the control machine, several per second, each recorded in the
 * timeline: `icmp` (who holds the VIP answers; works without IPVS), `tcp:PORT`, or `http[:PORT]`.
 */
export interface Prober {
  stop(): Promise<void>;
}

/** `timeoutMs`: how long one request may take before it counts as failed (default three intervals). */
export function startProbe(
  kind: string,
  vip: string,
  tl: Timeline,
  intervalMs = 100,
  timeoutMs = intervalMs * 3,
): Prober {
  if (kind === 'icmp') return icmp(vip, tl, intervalMs);
  const [k, p] = kind.split(':');
  const port = Number(p ?? (k === 'http' ? 80 : 0));
  if ((k !== 'http' && k !== 'tcp') || !port) throw new Error(`unknown probe '${kind}': icmp, tcp:PORT or http[:PORT]`);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t = tl.now();
      const started = performance.now();
      const err = await (k === 'http' ? httpOnce(vip, port, timeoutMs) : tcpOnce(vip, port, timeoutMs));
      tl.probe({ t, ok: !err, ms: Math.round(performance.now() - started), ...(err ? { error: err } : {}) });
      const wait = intervalMs - (performance.now() - started);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

export function httpOnce(host: string, port: number, timeout: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', timeout, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode && res.statusCode < 500 ? undefined : `HTTP ${res.statusCode}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

function tcpOnce(host: string, port: number, timeout: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host, port, timeout });
    s.on('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.on('timeout', () => {
      s.destroy();
      resolve('timeout');
    });
    s.on('error', (e) => resolve(e.message));
  });
}

/** One `ping` process: -O reports every missed reply, -D timestamps each line. */
function icmp(vip: string, tl: Timeline, intervalMs: number): Prober {
  const p: ChildProcess = spawn('ping', ['-n', '-O', '-i', String(intervalMs / 1000), '-W', '1', vip], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const ok = /bytes from .* time=([\d.]+) ms/.exec(line);
      if (ok) tl.probe({ ok: true, ms: Number(ok[1]) });
      else if (/no answer yet/.test(line)) tl.probe({ ok: false, error: 'no answer' });
    }
  });
  p.on('error', () => tl.mark('probe-error', undefined, 'ping is not installed (iputils-ping)'));
  return {
    stop: async () => {
      p.kill('SIGINT');
      await new Promise((r) => p.once('exit', r));
    },
  };
}
