import { z, strList } from './args.js';
import { noop, type TaskModule } from './types.js';

const assertSchema = z
  .object({
    that: strList,
    fail_msg: z.string().optional(),
    msg: z.string().optional(),
    success_msg: z.string().optional(),
    quiet: z.boolean().optional(),
  })
  .strict();
const debugSchema = z.object({ msg: z.unknown().optional(), var: z.string().optional() }).strict();

/**
 * assert and debug run on the controller: the engine evaluates `that` with the safe evaluator
 * before planning (see engine/controller-tasks.ts); these records give them a schema and a name.
 */
export const assertModule: TaskModule<z.infer<typeof assertSchema>, null> = {
  name: 'assert',
  schema: assertSchema,
  check: async () => null,
  plan: (p) => noop(p.success_msg ?? 'All assertions passed'),
};

export const debug: TaskModule<z.infer<typeof debugSchema>, null> = {
  name: 'debug',
  schema: debugSchema,
  check: async () => null,
  plan: (p) => noop(typeof p.msg === 'string' ? p.msg : JSON.stringify(p.msg ?? '')),
};
