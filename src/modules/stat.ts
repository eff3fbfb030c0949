import { sh, raw, joinCmds } from '../transport/shell.js';
import { z, aliasStep } from './args.js';
import { noop, type TaskModule } from './types.js';

const schema = z.preprocess(
  aliasStep({ dest: 'path', name: 'path' }),
  z.object({ path: z.string().min(1), checksum: z.boolean().optional() }).strict(),
);
type Args = z.infer<typeof schema>;
type Stat = Record<string, unknown>;

/** Read-only: registers `stat` shaped like Ansible's (exists, isdir, isreg, islnk, mode, pw_name, size, checksum). */
export const stat: TaskModule<Args, Stat> = {
  name: 'stat',
  schema,
  async check(ctx, p) {
    const r = await ctx.exec(
      joinCmds(
        [
          sh`p=${p.path}; if [ -e "$p" ] || [ -L "$p" ]; then stat -c '%F|%a|%U|%G|%s|%u|%g|%Y' -- "$p"; `,
          raw(`if [ -f "$p" ]; then sha1sum -- "$p" | cut -d' ' -f1; fi; else echo absent; fi`),
        ],
        '',
      ),
    );
    const [head = '', sum] = r.stdout.trim().split('\n');
    if (head === 'absent' || r.code !== 0) return { exists: false };
    const [t = '', mode = '', pw, gr, size, uid, gid, mtime] = head.split('|');
    return {
      exists: true,
      isdir: t === 'directory',
      isreg: t.startsWith('regular'),
      islnk: t === 'symbolic link',
      mode: mode.padStart(4, '0'),
      pw_name: pw,
      gr_name: gr,
      size: Number(size),
      uid: Number(uid),
      gid: Number(gid),
      mtime: Number(mtime),
      ...(sum ? { checksum: sum } : {}),
    };
  },
  plan: (p, o) => noop(`${p.path}: ${o.exists ? 'exists' : 'absent'}`, { stat: o }),
};
