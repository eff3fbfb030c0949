import type { Play, Task } from '../playbook/types.js';
import type { HostState } from './host-state.js';
import type { TaskNode } from './task-tree.js';
import type { TaskResult } from './types.js';

/** What the runner gives a batch: how to run, record and settle one task on one host. */
export interface BatchExec {
  play: Play;
  /** linear: every host finishes a task before the next starts; free: each host goes at its own pace. */
  linear: boolean;
  /** Runs one job under the run's fork limit. */
  schedule: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Runs a task on one host (delegation included); the result is not recorded yet. */
  run: (hs: HostState, task: Task) => Promise<TaskResult>;
  record: (r: TaskResult) => void;
  taskStart: (task: Task, hosts: HostState[]) => void;
  /** A failure no rescue handles, or an unreachable host: it leaves the play and follows on_failure. */
  settle: (hs: HostState, r: TaskResult) => Promise<void>;
  /** Before a rescue: what failed, for `ansible_failed_task` and `ansible_failed_result`. */
  rescuing: (hs: HostState, task: Task, r: TaskResult) => void;
  /** run_once: the hosts that did not run the task are notified as the one that did. */
  notify: (hs: HostState, names: readonly string[]) => void;
  /** The run was interrupted or the play stopped (max_fail_percentage). */
  stopped: () => boolean;
  /** After each task at the top of the play (linear): the runner's max_fail_percentage check. */
  afterTask: () => void;
}

export interface BatchOutcome {
  /** A task with any_errors_fatal failed on a host and no rescue handled it: the play ends on every host. */
  fatal: boolean;
}

interface Failure {
  task: Task;
  result: TaskResult;
}
type Failures = Map<HostState, Failure>;

/** top: a failure here is final; rescuable: a rescue section around the task will handle a failure. */
interface Scope {
  top: boolean;
  rescuable: boolean;
}

interface BatchState {
  fatal: boolean;
  /** run_once: the one run of each task in this batch, shared by every host. */
  once: Map<Task, { hs: HostState; result: Promise<TaskResult> }>;
  /** throttle: one gate per task, shared by every host of the batch. */
  gates: Map<Task, Gate>;
}

type Gate = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * Runs one batch's tasks, blocks included, with Ansible's semantics: a host that fails inside a
 * block skips the rest of that block's tasks, runs its rescue (the failure is then handled) and
 * its always; a failure no rescue handles is settled once the blocks around it have run their always.
 */
export async function runBatch(nodes: TaskNode[], hosts: HostState[], x: BatchExec): Promise<BatchOutcome> {
  const st: BatchState = { fatal: false, once: new Map(), gates: new Map() };
  const top: Scope = { top: true, rescuable: false };
  if (x.linear) await runNodes(nodes, hosts, top, x, st);
  else await Promise.all(hosts.map((h) => runNodes(nodes, [h], top, x, st)));
  return { fatal: st.fatal };
}

async function runNodes(nodes: TaskNode[], hosts: HostState[], scope: Scope, x: BatchExec, st: BatchState) {
  const failing: Failures = new Map();
  for (const n of nodes) {
    if (st.fatal || x.stopped()) break;
    const now = hosts.filter((h) => h.active && !failing.has(h));
    if (!now.length) break;
    // An included task exists only for the hosts that ran its include_tasks.
    const within = n.kind === 'task' ? n.task.within : undefined;
    const on = within ? now.filter((h) => within.every((id) => h.included.has(id))) : now;
    if (!on.length) continue;
    const failed = n.kind === 'task' ? await runLeaf(n.task, on, scope, x, st) : await runBlock(n, on, scope, x, st);
    for (const [h, f] of failed) {
      if (scope.top) await x.settle(h, f.result);
      else failing.set(h, f);
    }
    if (scope.top && x.linear) x.afterTask();
  }
  return failing;
}

async function runBlock(
  n: Extract<TaskNode, { kind: 'block' }>,
  hosts: HostState[],
  scope: Scope,
  x: BatchExec,
  st: BatchState,
): Promise<Failures> {
  const after: Scope = { top: false, rescuable: scope.rescuable };
  const failed = await runNodes(
    n.block,
    hosts,
    { top: false, rescuable: scope.rescuable || n.rescue.length > 0 },
    x,
    st,
  );
  let still = failed;
  if (n.rescue.length && failed.size && !st.fatal && !x.stopped()) {
    for (const [h, f] of failed) x.rescuing(h, f.task, f.result);
    still = await runNodes(
      n.rescue,
      hosts.filter((h) => failed.has(h)),
      after,
      x,
      st,
    );
  }
  const always = await runNodes(n.always, hosts, after, x, st);
  return new Map([...still, ...always]);
}

async function runLeaf(task: Task, hosts: HostState[], scope: Scope, x: BatchExec, st: BatchState) {
  if (x.linear) x.taskStart(task, task.runOnce ? hosts.slice(0, 1) : hosts);
  const done = (r: TaskResult): TaskResult => {
    // Ansible counts a failure that a rescue will handle as rescued, not failed.
    const out = r.status === 'failed' && !r.ignored && scope.rescuable ? { ...r, rescued: true } : r;
    x.record(out);
    return out;
  };
  const results = task.runOnce ? await runOnce(task, hosts, x, st, done) : await runEach(task, hosts, x, st, done);
  const failures: Failures = new Map();
  for (const [h, r] of results) {
    if (r.status === 'unreachable') await x.settle(h, r);
    else if (r.status === 'failed' && !r.ignored) failures.set(h, { task, result: r });
  }
  if (failures.size && !scope.rescuable && (task.anyErrorsFatal ?? x.play.anyErrorsFatal)) st.fatal = true;
  return failures;
}

function runEach(
  task: Task,
  hosts: HostState[],
  x: BatchExec,
  st: BatchState,
  done: (r: TaskResult) => TaskResult,
): Promise<Array<[HostState, TaskResult]>> {
  let gate = st.gates.get(task);
  if (!gate) st.gates.set(task, (gate = task.throttle ? limit(task.throttle) : (fn) => fn()));
  const g = gate;
  return Promise.all(
    hosts.map(async (h): Promise<[HostState, TaskResult]> => [
      h,
      done(await g(() => x.schedule(() => x.run(h, task)))),
    ]),
  );
}

/**
 * run_once: the first host runs the task for the whole batch; what it registers is registered on
 * every host, its notifications notify every host, and its failure fails every host (as in Ansible).
 * The result is reported once, on the host that ran it.
 */
async function runOnce(
  task: Task,
  hosts: HostState[],
  x: BatchExec,
  st: BatchState,
  done: (r: TaskResult) => TaskResult,
): Promise<Array<[HostState, TaskResult]>> {
  let once = st.once.get(task);
  if (!once) {
    const hs = hosts[0]!;
    once = { hs, result: x.schedule(() => x.run(hs, task)).then(done) };
    st.once.set(task, once);
  }
  const r = await once.result;
  if (r.status === 'unreachable') return hosts.includes(once.hs) ? [[once.hs, r]] : [];
  const reg = task.register;
  for (const h of hosts) {
    if (h === once.hs) continue;
    if (reg !== undefined && Object.prototype.hasOwnProperty.call(once.hs.registered, reg))
      h.registered[reg] = once.hs.registered[reg];
    if (r.status === 'changed') x.notify(h, task.notify);
  }
  return hosts.map((h) => [h, r]);
}

/** At most `n` jobs at once (throttle). */
function limit(n: number): Gate {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((res) => waiting.push(res));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
