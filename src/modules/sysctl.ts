import { fileStateCmd, parseFileState, uncapturedReason, type FileState } from '../facts/file.js';
import { multiProbe, splitProbe } from '../facts/probe.js';
import { sh } from '../transport/shell.js';
import { z, aliasStep, boolish, scalar } from './args.js';
import { editLines } from './lineinfile.js';
import { putFile, restorePath } from './file-steps.js';
import { exec, failPlan, noop, type Plan, type Step, type TaskModule } from './types.js';
import { interfacesToCreate } from './would-be.js';

const schema = z.preprocess(
  aliasStep({ key: 'name' }),
  z
    .object({
      // A name never starts with '-' (it would reach sysctl as an option).
      name: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/, 'a sysctl name such as net.ipv4.ip_forward'),
      value: scalar.optional(),
      state: z.enum(['present', 'absent']).default('present'),
      sysctl_file: z.string().default('/etc/sysctl.conf'),
      reload: boolish.default(true),
      sysctl_set: boolish.default(true),
      /** lvsrun: false changes the live value only, leaving sysctl_file alone. */
      persist: boolish.default(true),
    })
    .strict()
    .refine((a) => a.state === 'absent' || a.value !== undefined, {
      message: 'state: present needs value',
      path: ['value'],
    }),
);

type Args = z.infer<typeof schema>;
export interface SysctlObserved {
  live: string | null;
  file: FileState;
  /** --check: the interface an earlier task would create; `live` is then its would-be (default) value. */
  wouldCreate?: string;
}

const IFACE_CONF = /^net([./])ipv4\1conf\1([^./]+)\1(.+)$/;

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Sysctl: the live value (sysctl -w) and the persisted line, each changed only if it differs. */
export const sysctl: TaskModule<Args, SysctlObserved> = {
  name: 'sysctl',
  schema,
  async check(ctx, p) {
    const r = await ctx.exec(multiProbe([sh`sysctl -n -- ${p.name}`, fileStateCmd(p.sysctl_file)]));
    const [live, f] = splitProbe(r, 2) as [typeof r, typeof r];
    const file = parseFileState(f, p.sysctl_file);
    const m = IFACE_CONF.exec(p.name);
    if (live.code !== 0 && ctx.check && m && (await interfacesToCreate(ctx)).has(m[2]!)) {
      // A new interface starts with the `default` values.
      const d = await ctx.exec(sh`sysctl -n -- ${`net.ipv4.conf.default.${m[3]!}`}`);
      if (d.code === 0) return { live: d.stdout.trim().replace(/\s+/g, ' '), file, wouldCreate: m[2]! };
    }
    return { live: live.code === 0 ? live.stdout.trim().replace(/\s+/g, ' ') : null, file };
  },
  plan(p, o): Plan {
    const steps: Step[] = [];
    const undo: Step[] = [];
    const diff = [];
    const want = p.value?.trim().replace(/\s+/g, ' ');
    if (p.state === 'present' && p.reload && p.sysctl_set) {
      if (o.live === null) return failPlan(`sysctl ${p.name} does not exist on this host`);
      if (o.live !== want) {
        steps.push(exec(sh`sysctl -q -w -- ${`${p.name}=${want}`}`, { what: `set ${p.name}` }));
        undo.push(exec(sh`sysctl -q -w -- ${`${p.name}=${o.live}`}`, { what: `reset ${p.name}` }));
        diff.push({ path: `sysctl ${p.name} (live)`, before: `${o.live}\n`, after: `${want}\n` });
      }
    }
    if (p.persist) {
      const f = o.file;
      if (f.type === 'link') {
        return failPlan(
          `sysctl_file ${p.sysctl_file} is a symbolic link to ${f.linkTarget ?? '?'}; ` +
            'set sysctl_file to the file itself (nothing was changed)',
        );
      }
      if (f.exists && f.type !== 'file') return failPlan(`sysctl_file ${p.sysctl_file} is a ${f.type}, not a file`);
      const tooBig = uncapturedReason(p.sysctl_file, f);
      if (tooBig) return failPlan(tooBig);
    }
    const before = o.file.content ?? '';
    const after = editLines(before, {
      path: p.sysctl_file,
      regexp: `^\\s*${esc(p.name)}\\s*=`,
      line: `${p.name}=${want ?? ''}`,
      state: p.state,
      create: true,
      backup: false,
    });
    if (p.persist && (after !== before || (!o.file.exists && p.state === 'present'))) {
      steps.push(putFile(p.sysctl_file, after, o.file.exists ? {} : { mode: '0644' }));
      undo.unshift(...restorePath(p.sysctl_file, o.file));
      diff.push({ path: p.sysctl_file, before, after });
    }
    if (!steps.length) return noop(`${p.name} = ${want ?? '(absent)'}`);
    const onNew = o.wouldCreate ? ` (${o.wouldCreate} is created by an earlier task)` : '';
    return {
      action: 'update',
      summary: `${p.name}: ${o.live ?? '∅'} → ${want ?? 'absent'}${onNew}`,
      steps,
      undo,
      diff,
    };
  },
};
