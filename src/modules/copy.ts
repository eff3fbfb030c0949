import { createHash } from 'node:crypto';
import { bytesToText } from '../facts/byte-text.js';
import { fileStateCmd, observedBytes, parseFileState, uncapturedReason, type FileState } from '../facts/file.js';
import { z, boolish, modeArg } from './args.js';
import { attrSteps, putFile, restorePath } from './file-steps.js';
import { failPlan, noop, type ModuleCtx, type Plan, type TaskModule } from './types.js';

const schema = z
  .object({
    dest: z.string().min(1),
    content: z.string().optional(),
    src: z.string().optional(),
    mode: modeArg.optional(),
    owner: z.string().optional(),
    group: z.string().optional(),
    backup: boolish.default(false),
    validate: z.string().optional(),
  })
  .strict()
  .refine((a) => (a.content === undefined) !== (a.src === undefined), {
    message: 'give exactly one of content or src',
    path: ['content'],
  });

export type FileWriteArgs = {
  dest: string;
  mode?: string;
  owner?: string;
  group?: string;
  backup: boolean;
  validate?: string;
};
/** `want` as a Buffer is written byte for byte (copy src); a string is written as UTF-8 (content, template). */
export interface FileWriteObserved {
  state: FileState;
  want: string | Buffer;
  source: string;
}

/** Shared by copy and template: make `dest` hold `want` with the given attributes. */
export function planFileWrite(p: FileWriteArgs, o: FileWriteObserved): Plan {
  const st = o.state;
  if (st.exists && st.type !== 'file') return failPlan(`${p.dest} exists and is a ${st.type}, not a file`);
  const want = Buffer.isBuffer(o.want) ? o.want : Buffer.from(o.want, 'utf8');
  const have = observedBytes(st);
  const sameContent =
    st.exists && (have ? have.equals(want) : st.sha256 === createHash('sha256').update(want).digest('hex'));
  const attrs = attrSteps(p.dest, st, p.mode, p.owner, p.group);
  if (sameContent && !attrs.steps.length) return noop(`${p.dest} is up to date`);
  if (sameContent)
    return { action: 'update', summary: `${p.dest}: attributes`, steps: attrs.steps, undo: attrs.undo.reverse() };
  const tooBig = uncapturedReason(p.dest, st);
  if (tooBig) return failPlan(tooBig);
  return {
    action: st.exists ? 'update' : 'create',
    summary: `${st.exists ? 'update' : 'create'} ${p.dest} from ${o.source}`,
    steps: [
      putFile(p.dest, want, {
        mode: p.mode,
        owner: p.owner,
        group: p.group,
        validate: p.validate,
        backup: p.backup,
        mkdirs: Boolean(st.missingFrom),
      }),
    ],
    undo: restorePath(p.dest, st),
    diff: [{ path: p.dest, before: st.content ?? '', after: bytesToText(want) }],
  };
}

export async function observeFile(ctx: ModuleCtx, dest: string): Promise<FileState> {
  return parseFileState(await ctx.exec(fileStateCmd(dest)), dest);
}

type Args = z.infer<typeof schema>;

export const copy: TaskModule<Args, FileWriteObserved> = {
  name: 'copy',
  schema,
  async check(ctx, p) {
    const want = p.content ?? ctx.readLocal(p.src!, 'files').bytes;
    return { state: await observeFile(ctx, p.dest), want, source: p.src ?? 'content' };
  },
  plan: planFileWrite,
  result: (p, o) => ({ dest: p.dest, size: Buffer.isBuffer(o.want) ? o.want.length : Buffer.byteLength(o.want) }),
};
