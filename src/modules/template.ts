import { z, boolish, modeArg } from './args.js';
import { observeFile, planFileWrite, type FileWriteObserved } from './copy.js';
import type { TaskModule } from './types.js';

const schema = z
  .object({
    src: z.string().min(1),
    dest: z.string().min(1),
    mode: modeArg.optional(),
    owner: z.string().optional(),
    group: z.string().optional(),
    backup: boolish.default(false),
    validate: z.string().optional(),
  })
  .strict();

type Args = z.infer<typeof schema>;

/** Renders a Handlebars (.hbs) template on the controller, then writes it like copy. */
export const template: TaskModule<Args, FileWriteObserved> = {
  name: 'template',
  schema,
  localTemplate: (a) => a.src,
  async check(ctx, p) {
    const src = ctx.readLocal(p.src, 'templates');
    const want = ctx.render(src.text, { file: src.path });
    return { state: await observeFile(ctx, p.dest), want, source: p.src };
  },
  plan: planFileWrite,
  result: (p) => ({ dest: p.dest }),
};
