import { existsSync, readFileSync } from 'node:fs';
import { Client, type ConnectConfig, type ClientChannel } from 'ssh2';
import { TransportError } from '../errors.js';
import { KnownHosts, KnownHostsCache, keyTypeOf } from './known-hosts.js';
import { refuseNul, sudoRefusal, wrapBecome } from './become.js';
import { execOneByOne } from './exec-seq.js';
import { ShellSession, type ShellChannel } from './shell-session.js';
import type { ShellCmd } from './shell.js';
import type { ConnectSpec, ExecItem, ExecOptions, ExecResult, Held, Transport } from './types.js';

/** Only this file imports ssh2. One Client per host, reused for every command. */
export class SshTransport implements Transport {
  private readonly session?: ShellSession;
  private constructor(
    readonly host: string,
    private readonly client: Client,
    private readonly user: string,
    private readonly jump?: SshTransport,
    persistent = true,
  ) {
    if (persistent) this.session = new ShellSession(() => this.openShell());
    client.on('close', () => {
      this.lost = true;
    });
  }

  private lost = false;
  private trips = 0;

  warm(): void {
    this.session?.warm();
  }

  roundTrips(): number {
    return this.trips + (this.session?.roundTrips ?? 0);
  }

  private lostError(): TransportError {
    return new TransportError(`${this.host}: connection lost`, {
      code: 'E_TRANSPORT',
      hint: 'the host or its sshd went away mid-run; its changes stay in the journal for `lvsrun rollback`',
    });
  }

  /** `knownHosts`: one per run, so N connections parse each known_hosts file once, not N times. */
  static async connect(spec: ConnectSpec, knownHosts = new KnownHostsCache()): Promise<SshTransport> {
    let jump: SshTransport | undefined;
    let sock: NodeJS.ReadableStream | undefined;
    if (spec.proxyJump) {
      jump = await SshTransport.connect(spec.proxyJump, knownHosts);
      sock = await jump.forward(spec.host, spec.port);
    }
    const client = new Client();
    // Dropped once the handshake is over: a rekey must show the key the handshake accepted.
    let known: KnownHosts | undefined = new KnownHosts(spec.knownHostsFiles, knownHosts);
    let accepted: string | undefined;
    let keyProblem: TransportError | undefined;
    const hostVerifier = (blob: Buffer): boolean => {
      const type = keyTypeOf(blob);
      const b64 = blob.toString('base64');
      // A key exchange after the handshake (a rekey) must show the key the handshake accepted.
      if (!known) return b64 === accepted;
      const v = known.verify(spec.host, spec.port, type, b64);
      if (v.ok) {
        accepted = b64;
        return true;
      }
      if (v.reason === 'unknown' && spec.acceptNewHostKeys && known.record(spec.host, spec.port, type, b64)) {
        accepted = b64;
        return true;
      }
      keyProblem =
        v.reason === 'revoked'
          ? new TransportError(`host key for ${spec.host}:${spec.port} is REVOKED in known_hosts (${type})`, {
              code: 'E_HOSTKEY',
              hint: 'the host presented a key marked @revoked: do not trust it; replace the host key',
            })
          : v.reason === 'unknown'
            ? new TransportError(`host key for ${spec.host}:${spec.port} is unknown (${type})`, {
                code: 'E_HOSTKEY',
                hint:
                  `add it to ${spec.knownHostsFiles[0] ?? 'known_hosts'} (ssh-keyscan -p ${spec.port} ${spec.host}) ` +
                  'or pass --accept-new-host-keys to trust on first use',
              })
            : new TransportError(
                `HOST KEY CHANGED for ${spec.host}:${spec.port}: ` +
                  `the server sent a ${type} key that does not match known_hosts`,
                {
                  code: 'E_HOSTKEY',
                  hint:
                    'this may be a man-in-the-middle attack; if the host was rebuilt, ' +
                    'remove its old line with ssh-keygen -R',
                },
              );
      return false;
    };
    const preferred = known.keyTypes(spec.host, spec.port);
    const cfg: ConnectConfig = {
      host: spec.host,
      port: spec.port,
      username: spec.user,
      readyTimeout: spec.connectTimeoutMs,
      keepaliveInterval: spec.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier,
      authHandler: authMethods(spec),
      algorithms: {
        // Fast, modern choices first; offer the host key types we can verify first.
        kex: [
          'curve25519-sha256',
          'curve25519-sha256@libssh.org',
          'ecdh-sha2-nistp256',
          'diffie-hellman-group14-sha256',
        ],
        cipher: [
          'aes128-gcm@openssh.com',
          'aes128-ctr',
          'chacha20-poly1305@openssh.com',
          'aes256-gcm@openssh.com',
          'aes256-ctr',
        ],
        serverHostKey: orderHostKeys(preferred),
        compress: ['none'],
      },
      ...(sock ? { sock: sock as unknown as ConnectConfig['sock'] } : {}),
    };
    // Nagle plus delayed ACKs cost ~40 ms per exec round trip; OpenSSH sets TCP_NODELAY too.
    client.once('connect', () => client.setNoDelay(true));
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (err: Error & { level?: string }) => {
        if (keyProblem) return reject(keyProblem);
        const auth = err.level === 'client-authentication';
        reject(
          new TransportError(`${spec.name}: cannot connect to ${spec.user}@${spec.host}:${spec.port}: ${err.message}`, {
            code: auth ? 'E_AUTH' : 'E_TRANSPORT',
            cause: err,
            hint: auth ? authHint(spec) : 'is sshd running and reachable?',
          }),
        );
      });
      client.connect(cfg);
    }).finally(() => {
      known = undefined;
    });
    client.on('error', () => {
      /* later errors surface through exec */
    });
    return new SshTransport(spec.name, client, spec.user, jump, spec.persistentShell ?? true);
  }

  private forward(host: string, port: number): Promise<NodeJS.ReadableStream> {
    return new Promise((resolve, reject) => {
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  async exec(cmd: ShellCmd, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.lost) throw this.lostError();
    refuseNul(cmd, this.host);
    return this.refusedOrAnswer(await this.execRaw(cmd, opts), opts);
  }

  async execSeq(items: ReadonlyArray<ExecItem>, after?: () => void): Promise<ExecResult[]> {
    if (this.lost) throw this.lostError();
    // A sudo password needs a channel of its own per command: those run one by one.
    if (!this.session || items.some((it) => it.opts?.become?.password !== undefined)) {
      return execOneByOne(this, items, after);
    }
    for (const it of items) refuseNul(it.cmd, this.host);
    const sent = this.session.runSeq(
      items.map((it) => {
        const o = it.opts ?? {};
        const { cmd: full, stdin } = wrapBecome(it.cmd, this.user, o);
        return {
          cmd: full,
          opts: { ...(stdin !== undefined ? { stdin } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) },
          ...(it.mayFail ? { mayFail: true } : {}),
        };
      }),
    );
    // Asked for now, a command is written to the same shell after these (see ShellSession.runSeq).
    after?.();
    const answers = await sent;
    const ran = answers.filter((r) => r.signal !== 'SKIPPED');
    if (ran.some((r) => r.signal === 'SHELL_CLOSED')) await this.shellClosed();
    return ran.map((r, i) => this.refusedOrAnswer(r, items[i]!.opts ?? {}));
  }

  /** The answer, unless sudo refused to become the user asked for (a clear error then). */
  private refusedOrAnswer(r: ExecResult, opts: ExecOptions): ExecResult {
    const b = opts.become;
    const refused = b && b.user !== this.user ? sudoRefusal(r, this.host, this.user, b.user) : undefined;
    if (refused) throw refused;
    return r;
  }

  /** The shell went away: either the whole connection did (unreachable, thrown) or only the shell did. */
  private async shellClosed(): Promise<void> {
    await new Promise((res) => setTimeout(res, 50));
    if (this.lost) throw this.lostError();
  }

  private async execRaw(cmd: ShellCmd, opts: ExecOptions): Promise<ExecResult> {
    const { cmd: full, stdin } = wrapBecome(cmd, this.user, opts);
    // A sudo password travels on stdin of its own channel, never through the shared shell's script.
    if (!this.session || opts.become?.password !== undefined) return this.execChannel(full, stdin, opts);
    const r = await this.session.run(full, {
      ...(stdin !== undefined ? { stdin } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (r.signal === 'SHELL_CLOSED') await this.shellClosed();
    return r;
  }

  hold(cmd: ShellCmd): Promise<Held> {
    refuseNul(cmd, this.host);
    this.trips += 2;
    return new Promise((resolve, reject) => {
      this.client.exec(cmd, (err, stream: ClientChannel) => {
        if (err)
          return reject(new TransportError(`${this.host}: cannot open a channel: ${err.message}`, { cause: err }));
        let buf = '';
        let done = false;
        const release = (): void => {
          stream.close();
        };
        const give = (line: string): void => {
          if (!done) {
            done = true;
            resolve({ line, release });
          }
        };
        stream.on('data', (d: Buffer) => {
          buf += d.toString();
          const nl = buf.indexOf('\n');
          if (nl >= 0) give(buf.slice(0, nl));
        });
        stream.stderr.on('data', () => undefined);
        stream.on('close', () => give(buf));
      });
    });
  }

  /** The long-lived `/bin/sh` behind ShellSession: one exec channel kept open. */
  private openShell(): Promise<ShellChannel> {
    return new Promise((resolve, reject) => {
      if (this.lost) return reject(this.lostError());
      this.trips += 2;
      this.client.exec('exec /bin/sh', (err, stream: ClientChannel) => {
        if (err)
          return reject(
            new TransportError(`${this.host}: cannot open a shell channel: ${err.message}`, { cause: err }),
          );
        resolve({
          write: (d) => {
            stream.write(d);
          },
          onStdout: (cb) => {
            stream.on('data', cb);
          },
          onStderr: (cb) => {
            stream.stderr.on('data', cb);
          },
          onClose: (cb) => {
            stream.on('close', cb);
          },
          close: () => {
            stream.close();
          },
        });
      });
    });
  }

  /** One command on its own channel (used for become with a password). */
  private execChannel(full: ShellCmd, stdin: string | Buffer | undefined, opts: ExecOptions): Promise<ExecResult> {
    const started = performance.now();
    this.trips += 2;
    return new Promise((resolve, reject) => {
      this.client.exec(full, (err, stream: ClientChannel) => {
        if (err)
          return reject(new TransportError(`${this.host}: cannot open a channel: ${err.message}`, { cause: err }));
        const out: Buffer[] = [];
        const errb: Buffer[] = [];
        let code: number | null = null;
        let signal: string | null = null;
        let timer: NodeJS.Timeout | undefined;
        const onAbort = (): void => {
          signal = 'ABORT';
          stream.close();
        };
        if (opts.timeoutMs)
          timer = setTimeout(() => {
            signal = 'TIMEOUT';
            stream.close();
          }, opts.timeoutMs);
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errb.push(d));
        stream.on('exit', (c: number | null, s?: string) => {
          code = c;
          if (s) signal = s;
        });
        stream.on('close', () => {
          if (timer) clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          resolve({
            code,
            signal,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errb).toString('utf8'),
            durationMs: performance.now() - started,
          });
        });
        stream.end(stdin ?? undefined);
      });
    });
  }

  async close(): Promise<void> {
    this.session?.close();
    this.client.end();
    await this.jump?.close();
  }
}

const HOST_KEY_ORDER = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function orderHostKeys(
  preferred: string[],
): ConnectConfig['algorithms'] extends infer A ? (A extends { serverHostKey?: infer S } ? S : never) : never {
  const want = preferred.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  return [...new Set([...want.filter((t) => HOST_KEY_ORDER.includes(t)), ...HOST_KEY_ORDER])] as never;
}

/** What was offered, so a failed login says which key files, agent or password to look at. */
function authHint(spec: ConnectSpec): string {
  const files = spec.privateKeyFiles.map((f) => (existsSync(f) ? f : `${f} (missing)`));
  const tried = [
    files.length ? `key files ${files.join(', ')}` : 'no key file',
    spec.agent ? `ssh-agent at SSH_AUTH_SOCK=${spec.agent}` : 'no ssh-agent (SSH_AUTH_SOCK is not set)',
    ...(spec.password !== undefined ? ['a password'] : []),
  ];
  return (
    `tried ${tried.join('; ')}: check ansible_user and ansible_ssh_private_key_file, ` +
    'or load the key into ssh-agent'
  );
}

function authMethods(spec: ConnectSpec): NonNullable<ConnectConfig['authHandler']> {
  const queue: Array<Record<string, unknown>> = [];
  for (const f of spec.privateKeyFiles) {
    try {
      queue.push({ type: 'publickey', username: spec.user, key: readFileSync(f) });
    } catch {
      /* missing key file: try the next method */
    }
  }
  if (spec.agent) queue.push({ type: 'agent', username: spec.user, agent: spec.agent });
  if (spec.password !== undefined) queue.push({ type: 'password', username: spec.user, password: spec.password });
  return queue as unknown as NonNullable<ConnectConfig['authHandler']>;
}
