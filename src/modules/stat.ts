import { sh, raw, joinCmds } from '../transport/shell.js';
import { z, aliasStep } from './args.js';
import { noop, type TaskModule } from './types.js';

const schema = z.preprocess(
  aliasStep({ dest: 'path', name: 'path' }),
  z.object({ path: z.string().min(1), checksum: z.boolean().optional() }).strict(),
);
type Args = z.infer<typeof schema>;
type Stat = Record<string, unknown>;

/**
 * Read-only: registers `stat` shaped like Ansible's (exists, path, isdir, isreg, islnk, lnk_source, lnk_target, mode,
 * pw_name, size, checksum).
 */
export const stat: TaskModule<Args, Stat> = {
  name: 'stat',
  schema,
  readOnly: true,
  async check(ctx, p) {
    const r = await ctx.exec(
      joinCmds(
        [
          // LC_ALL=C: %F is translated in other locales (LANGUAGE=de prints "reguläre Datei").
          sh`p=${p.path}; if [ -e "$p" ] || [ -L "$p" ]; then LC_ALL=C stat -c '%F|%a|%U|%G|%s|%u|%g|%Y' -- "$p"; `,
          // A link's resolved path and its text, each NUL-ended: a name may hold any byte but NUL.
          raw(`if [ -L "$p" ]; then printf L; { readlink -zf -- "$p" || printf '\\0'; }; `),
          raw(`{ readlink -z -- "$p" || printf '\\0'; }; fi; `),
          // On stdin: given a name with a backslash or newline, sha1sum escapes it and the sum too.
          raw(`if [ -f "$p" ]; then sha1sum < "$p" | cut -d' ' -f1; fi; else echo absent; fi`),
        ],
        '',
      ),
    );
    const nl = r.stdout.indexOf('\n');
    const head = nl < 0 ? r.stdout.trim() : r.stdout.slice(0, nl);
    if (head === 'absent' || r.code !== 0) return { exists: false };
    let rest = nl < 0 ? '' : r.stdout.slice(nl + 1);
    let link: Stat = {};
    if (rest.startsWith('L')) {
      const [source = '', target = '', after = ''] = rest.slice(1).split('\0');
      link = { ...(source ? { lnk_source: source } : {}), lnk_target: target };
      rest = after;
    }
    const sum = rest.trim();
    const [t = '', mode = '', pw, gr, size, uid, gid, mtime] = head.split('|');
    return {
      exists: true,
      path: p.path,
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
      ...link,
      ...(sum ? { checksum: sum } : {}),
    };
  },
  plan: (p, o) => noop(`${p.path}: ${o.exists ? 'exists' : 'absent'}`, { stat: o }),
};
