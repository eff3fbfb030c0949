import { uncapturedReason, walkPath, type FileState } from '../facts/file.js';
import { posix } from 'node:path';
import { joinCmds, nest, raw, sh, type ShellCmd } from '../transport/shell.js';
import { z, aliasStep, modeArg } from './args.js';
import { observeFile } from './copy.js';
import { attrSteps, restorePath, setAttrsCmd } from './file-steps.js';
import { exec, failPlan, noop, type Plan, type TaskModule } from './types.js';

const schema = z.preprocess(
  aliasStep({ dest: 'path', name: 'path' }),
  z
    .object({
      path: z.string().min(1),
      state: z.enum(['directory', 'file', 'absent', 'touch', 'link']).default('file'),
      mode: modeArg.optional(),
      owner: z.string().optional(),
      group: z.string().optional(),
      src: z.string().optional(),
    })
    .strict()
    .refine((a) => a.state !== 'link' || a.src !== undefined, { message: 'state: link needs src', path: ['src'] }),
);

type Args = z.infer<typeof schema>;
/** `parents`: the missing folders above a missing path, nearest first (state: directory creates them). */
type Observed = FileState & { parents?: string[] };

export const file: TaskModule<Args, Observed> = {
  name: 'file',
  schema,
  async check(ctx, p) {
    const st = await observeFile(ctx, p.path);
    if (st.exists || p.state !== 'directory') return st;
    // The state probe found the top-most missing folder: the parents made here are those up to it.
    const top = st.missingFrom;
    const above: string[] = [];
    for (let d = posix.dirname(walkPath(p.path)); top && d !== '.' && d !== '/'; d = posix.dirname(d)) {
      above.push(d);
      if (d === top) return { ...st, parents: above };
    }
    return { ...st, parents: [] };
  },
  plan(p, st): Plan {
    const path = p.path;
    switch (p.state) {
      case 'absent':
        if (!st.exists) return noop(`${path} is absent`);
        // A folder's files, a file too big to journal and a special file cannot be put back: the removal is marked so.
        if (st.type === 'other' || uncapturedReason(path, st)) {
          return {
            action: 'delete',
            summary: `remove ${path} (no undo)`,
            steps: [exec(sh`rm -rf -- ${path}`)],
            undo: [],
            irreversible: true,
          };
        }
        return {
          action: 'delete',
          summary: `remove ${path}`,
          steps: [exec(sh`rm -rf -- ${path}`)],
          undo: restorePath(path, st),
          ...(st.type === 'directory' ? { irreversible: true } : {}),
        };
      case 'directory': {
        if (st.exists && st.type !== 'directory')
          return failPlan(`${path} exists and is a ${st.type}, not a directory`);
        if (!st.exists) {
          // As Ansible does, the missing parents get the task's mode, owner and group (created through the
          // umask, so that none is ever wider than asked, then set from the top down), and the undo takes away
          // the parents it made, only when empty: rmdir never loses a file.
          const k = st.parents?.length ?? 0;
          const made = [...(st.parents ?? [])].reverse();
          const attrs = p.mode !== undefined || p.owner !== undefined || p.group !== undefined;
          const umask = k && p.mode && /^[0-7]{4}$/.test(p.mode) ? 0o777 & ~Number.parseInt(p.mode, 8) : undefined;
          const up = raw(`; p=\${p%/*}; rmdir -- "$p" 2>/dev/null || true`);
          return {
            action: 'create',
            summary: `create directory ${path}${k ? ` and ${k} parent(s)` : ''}`,
            steps: [
              exec(
                umask === undefined
                  ? sh`mkdir -p -- ${path}`
                  : sh`(umask ${umask.toString(8).padStart(4, '0')} && mkdir -p -- ${path})`,
              ),
              ...(attrs && made.length
                ? [
                    exec(joinCmds(made.map((d) => sh`(${nest(setAttrsCmd(d, p.mode, p.owner, p.group))}) || exit 1`)), {
                      what: `set attributes of the parents of ${path}`,
                    }),
                  ]
                : []),
              ...attrSteps(path, { exists: true, mode: '', owner: '', group: '' }, p.mode, p.owner, p.group).steps,
            ],
            undo: [
              exec(
                joinCmds(
                  [
                    // Only a folder is taken away: `a/` over a file `a` probes as absent (ENOTDIR), and
                    // its failed mkdir must not cost the file.
                    sh`p=${walkPath(path)}; if [ -d "$p" ] && [ ! -L "$p" ]; then`,
                    raw(` rmdir -- "$p" 2>/dev/null || rm -rf -- "$p"; fi`),
                    ...Array<ShellCmd>(k).fill(up),
                  ],
                  '',
                ),
              ),
            ],
          };
        }
        return attrPlan(path, st, p);
      }
      case 'file':
        if (!st.exists) return failPlan(`${path} does not exist (use state: touch to create it)`);
        return attrPlan(path, st, p);
      case 'touch':
        if (st.exists) return attrPlan(path, st, p);
        return {
          action: 'create',
          summary: `touch ${path}`,
          steps: [exec(sh`touch -- ${path}`), ...attrSteps(path, { exists: true }, p.mode, p.owner, p.group).steps],
          undo: [exec(sh`rm -f -- ${path}`)],
        };
      case 'link':
        if (st.type === 'link' && st.linkTarget === p.src) return noop(`${path} -> ${p.src}`);
        if (st.exists && st.type !== 'link' && st.type !== 'file')
          return failPlan(`${path} exists and is a ${st.type}`);
        return {
          action: st.exists ? 'update' : 'create',
          summary: `link ${path} -> ${p.src}`,
          steps: [exec(sh`ln -sfn -- ${p.src!} ${path}`)],
          undo: restorePath(path, st),
          diff: [{ path, before: st.linkTarget ?? '', after: p.src! }],
        };
    }
  },
  result: (p) => ({ path: p.path, state: p.state }),
};

function attrPlan(path: string, st: FileState, p: Args): Plan {
  const a = attrSteps(path, st, p.mode, p.owner, p.group);
  if (!a.steps.length) return noop(`${path} is up to date`);
  return {
    action: 'update',
    summary: `${path}: mode/owner`,
    steps: a.steps,
    undo: a.undo.reverse(),
    diff: [
      {
        path: `${path} (attributes)`,
        before: `${st.mode} ${st.owner}:${st.group}`,
        after: `${p.mode ?? st.mode} ${p.owner ?? st.owner}:${p.group ?? st.group}`,
      },
    ],
  };
}
