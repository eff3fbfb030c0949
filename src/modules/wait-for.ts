import { sh, joinCmds, nest as nestOf } from '../transport/shell.js';
import { z, aliasStep, hostOrIp } from './args.js';
import { exec, noop, type TaskModule } from './types.js';

const schema = z.preprocess(
  aliasStep({ dest: 'path' }),
  z
    .object({
      // Goes into bash's /dev/tcp/HOST/PORT path: a host name or address, never a path.
      host: hostOrIp.default('127.0.0.1'),
      port: z.number().int().min(1).max(65535).optional(),
      path: z.string().optional(),
      state: z.enum(['started', 'stopped', 'present', 'absent']).default('started'),
      timeout: z.number().min(0).default(300),
      delay: z.number().min(0).default(0),
      sleep: z.number().min(0.1).default(0.2),
    })
    .strict()
    .refine((a) => (a.port === undefined) !== (a.path === undefined), { message: 'give port or path', path: ['port'] }),
);
type Args = z.infer<typeof schema>;

/** Waits on the host itself (bash /dev/tcp or a path test): one round trip, bounded by timeout. */
export const waitFor: TaskModule<Args, null> = {
  name: 'wait_for',
  schema,
  check: async () => null,
  plan(p) {
    const up = p.state === 'started' || p.state === 'present';
    const probe =
      p.port !== undefined
        ? sh`bash -c ${'exec 3<>/dev/tcp/$0/$1'} ${p.host} ${p.port} 2>/dev/null`
        : sh`test -e ${p.path!}`;
    const cond = up ? sh`${nestOf(probe)}` : sh`! { ${nestOf(probe)}; }`;
    const what = p.port !== undefined ? `${p.host}:${p.port}` : p.path!;
    const script = joinCmds(
      [
        sh`sleep ${p.delay}; end=$(( $(date +%s) + ${Math.ceil(p.timeout)} )); `,
        sh`while :; do if ${nestOf(cond)}; then exit 0; fi; `,
        sh`[ "$(date +%s)" -ge "$end" ] && { echo ${`timeout waiting for ${what} to be ${p.state}`} >&2; exit 1; }; `,
        sh`sleep ${p.sleep}; done`,
      ],
      '',
    );
    // Waiting changes nothing on the host: it reports ok, so it runs as a step of a noop plan.
    return { ...noop(`wait for ${what} ${p.state}`), steps: [exec(script, { what: `wait for ${what}` })] };
  },
};
