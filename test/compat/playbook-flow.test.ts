import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdDown, sshdUp, type SshdHosts } from '../../src/bench/sshd-hosts.js';
import { closeMasters } from '../../src/bench/tools.js';
import { writeInventories, type Inventories } from '../../src/bench/workload.js';
import { lvsrun } from './ansible-oracle.js';
import { FLOW_CASES } from './playbook-flow-cases.js';

// Four OpenSSH servers on loopback (127.0.77.1-4, port 22770 unless LVSRUN_FLOW_NET and LVSRUN_FLOW_PORT
// say otherwise, so runs side by side do not collide), started and stopped here. Both tools run the same
// playbook against them; the task order, each host's result, the recap and the files written must match.
// Each tool gets its own output folder as `out` (absolute) and `rel` (the same folder relative to the
// login folder, where a module's relative path starts); a case writes under it, per host.
const net = process.env.LVSRUN_FLOW_NET ?? '127.0.77';
const port = Number(process.env.LVSRUN_FLOW_PORT ?? 22770);
const dir = `/tmp/lvsrun-compat-flow-${net}`;
const N = 4;
let h: SshdHosts;
let inv: Inventories;

type Status = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';
/** One task as both tools report it: its name and each host's status, in the order tasks ran. */
type Step = [string, Record<string, Status>];
interface Outcome {
  code: number;
  steps: Step[];
  recap: Record<string, Record<string, number>>;
}

beforeAll(async () => {
  sshdDown(dir);
  rmSync(dir, { recursive: true, force: true });
  h = await sshdUp(dir, N, { net, port });
  inv = writeInventories(h);
}, 120_000);

afterAll(() => {
  // ansible-playbook's ssh masters (ControlPersist) would outlive the test by a minute.
  closeMasters(inv.cpDir.default);
  expect(sshdDown(dir)).toBe(N);
  rmSync(dir, { recursive: true, force: true });
});

function ansible(pb: string, args: string[]): Outcome {
  const home = join(dir, 'ansible-home');
  mkdirSync(home, { recursive: true });
  const r = spawnSync('ansible-playbook', ['-i', inv.ansible, '-f', String(N), ...args, pb], {
    encoding: 'utf8',
    cwd: dir,
    env: {
      ...process.env,
      HOME: home,
      ANSIBLE_CONFIG: inv.ansibleCfg.default,
      ANSIBLE_STDOUT_CALLBACK: 'flow_json',
      ANSIBLE_CALLBACK_PLUGINS: join(import.meta.dirname, 'ansible-callback'),
      ANSIBLE_NOCOLOR: '1',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status === null || !r.stdout.trim()) {
    throw new Error(`ansible-playbook: ${r.error?.message ?? r.signal ?? ''} ${r.stderr.slice(-2000)}`);
  }
  const j = JSON.parse(r.stdout) as { steps: Step[]; stats: Record<string, Record<string, number>> };
  const steps = j.steps.filter(([, hosts]) => Object.keys(hosts).length > 0);
  const recap = Object.fromEntries(
    Object.entries(j.stats).map(([k, s]) => [
      k,
      {
        ok: s.ok!,
        changed: s.changed!,
        failed: s.failures!,
        skipped: s.skipped!,
        rescued: s.rescued!,
        ignored: s.ignored!,
      },
    ]),
  );
  return { code: r.status, steps, recap };
}

async function mine(pb: string, cwd: string, args: string[]): Promise<Outcome> {
  const r = await lvsrun([pb, '-i', inv.lvsrun, '--json', ...args], cwd);
  const j = JSON.parse(r.stdout || 'null') as {
    results: Array<{ task: string; host: string; status: Status }>;
    recap: Record<string, Record<string, number>>;
  } | null;
  if (!j) throw new Error(`lvsrun exit ${r.code}: ${r.stderr}`);
  // FLOW_DEBUG=1 prints lvsrun's failed results, to see why a case differs.
  if (process.env.FLOW_DEBUG) console.log(JSON.stringify(j.results.filter((x) => x.status === 'failed')));
  const steps: Step[] = [];
  for (const x of j.results) {
    const last = steps.at(-1);
    if (last && last[0] === x.task && !(x.host in last[1])) last[1][x.host] = x.status;
    else steps.push([x.task, { [x.host]: x.status }]);
  }
  const recap = Object.fromEntries(
    Object.entries(j.recap).map(([k, s]) => [
      k,
      {
        ok: s.ok!,
        changed: s.changed!,
        failed: s.failed!,
        skipped: s.skipped!,
        rescued: s.rescued!,
        ignored: s.ignored!,
      },
    ]),
  );
  return { code: r.code, steps, recap };
}

/**
 * A folder's tree: each path below it with its type, mode, owner and group, and a file's content or a
 * link's target (numeric ids, so that both tools' trees are compared as the kernel holds them).
 */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const attrs = `${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${st.uid}:${st.gid}`;
      const rel = relative(root, p);
      if (st.isSymbolicLink()) out[rel] = `link ${attrs} -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${attrs}`;
        walk(p);
      } else out[rel] = `file ${attrs} ${JSON.stringify(readFileSync(p, 'utf8'))}`;
    }
  };
  walk(root);
  return out;
}

/** A fresh, empty output folder for one tool's run of a case, and the `-e` options that name it. */
function outDir(cwd: string, tool: string): { dir: string; args: string[] } {
  const d = join(cwd, `out-${tool}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true, mode: 0o755 });
  // sshd starts a session in the login user's home folder (from passwd: HOME set by SetEnv does not move it).
  return { dir: d, args: ['-e', `out=${d}`, '-e', `rel=${relative(userInfo().homedir, d)}`] };
}

/**
 * Intended differences: cases where lvsrun's outcome may differ from ansible-playbook 2.14's. Each must
 * still differ (an entry that starts matching Ansible is stale and fails the test).
 */
const INTENDED: ReadonlyArray<{ id: string; reason: string }> = [
  {
    id: 'any-errors-fatal-in-block',
    reason:
      'ansible-core 2.14 goes on with the other hosts when the failed task sits in a block with always; ' +
      'lvsrun stops the play on every host, as any_errors_fatal says',
  },
];

describe('lvsrun runs blocks, run_once, delegate_to, any_errors_fatal, throttle as ansible-playbook 2.14 does', () => {
  for (const c of FLOW_CASES) {
    it(
      c.id,
      async () => {
        const cwd = join(dir, 'cases', c.id);
        mkdirSync(cwd, { recursive: true });
        const pb = join(cwd, 'pb.yml');
        writeFileSync(pb, c.playbook);
        for (const [rel, text] of Object.entries(c.files ?? {})) {
          mkdirSync(dirname(join(cwd, rel)), { recursive: true });
          writeFileSync(join(cwd, rel), text);
        }
        const theirOut = outDir(cwd, 'ansible');
        const theirs = ansible(pb, [...theirOut.args, ...(c.args ?? [])]);
        const ourOut = outDir(cwd, 'lvsrun');
        const ours = await mine(pb, cwd, [...ourOut.args, ...(c.args ?? [])]);
        const allowed = INTENDED.find((x) => x.id === c.id);
        if (allowed) {
          expect(ours.steps, `stale allow-list entry: ${allowed.reason}`).not.toEqual(theirs.steps);
          expect(ours.code, 'exit code').toBe(theirs.code);
          return;
        }
        expect(ours.steps, "task order and each host's result").toEqual(theirs.steps);
        expect(ours.recap, 'recap').toEqual(theirs.recap);
        expect(ours.code, 'exit code').toBe(theirs.code);
        expect(tree(ourOut.dir), 'files written (type, mode, owner, content)').toEqual(tree(theirOut.dir));
      },
      180_000,
    );
  }
});
