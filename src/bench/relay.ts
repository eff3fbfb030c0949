import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay that holds every chunk for `oneWayMs` in each direction, so loopback hosts look
 * like hosts across a WAN link (this kernel has no netem). Order is kept: every chunk of one
 * direction waits the same time, and timers of equal length fire in the order they were set.
 * It also counts turns: how often the client sends after having heard from the server, i.e.
 * how many times a client waited on a reply (a round trip), per connection.
 */
export interface Relay {
  /** The address clients connect to instead of the host. */
  host: string;
  port: number;
  /** Client turns summed over every connection so far. */
  turns(): number;
  close(): Promise<void>;
}

export async function startRelay(
  listen: { host: string; port: number },
  target: { host: string; port: number },
  oneWayMs: number,
): Promise<Relay> {
  let turns = 0;
  const sockets = new Set<Socket>();
  const later = (fn: () => void): void => {
    if (oneWayMs > 0) setTimeout(fn, oneWayMs);
    else fn();
  };
  const server: Server = createServer((client) => {
    const up = createConnection(target);
    client.setNoDelay(true);
    up.setNoDelay(true);
    sockets.add(client).add(up);
    // The client's first flight counts as a turn too: the connection's first round trip.
    let heard = true;
    client.on('data', (b) => {
      if (heard) turns++;
      heard = false;
      later(() => up.write(b));
    });
    up.on('data', (b) => {
      later(() => {
        heard = true;
        client.write(b);
      });
    });
    const end = (): void => {
      later(() => {
        client.destroy();
        up.destroy();
        sockets.delete(client);
        sockets.delete(up);
      });
    };
    client.on('close', end).on('error', end);
    up.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const bound = server.address();
  return {
    host: listen.host,
    port: typeof bound === 'object' && bound ? bound.port : listen.port,
    turns: () => turns,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
