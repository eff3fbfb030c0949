import { MISSING, ownData } from '../template/own-data.js';
import { z, strList } from './args.js';
import type { ControllerModule } from './types.js';

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

/** assert: every condition of `that` must hold for the host's variables; the first that does not fails the task. */
export const assertModule: ControllerModule<z.infer<typeof assertSchema>> = {
  name: 'assert',
  schema: assertSchema,
  controller(p, env) {
    for (const cond of p.that) {
      if (!env.holds(cond, 'assert.that')) {
        const msg = p.fail_msg ?? p.msg ?? `Assertion failed: ${cond}`;
        return { failed: true, msg, result: { failed: true, assertion: cond, msg } };
      }
    }
    return { failed: false, msg: 'All assertions passed', result: { msg: 'All assertions passed' } };
  },
};

/** debug: a message, or a variable's value (own data only, as templates see it). */
export const debug: ControllerModule<z.infer<typeof debugSchema>> = {
  name: 'debug',
  schema: debugSchema,
  controller(d, env) {
    const named = d.var === undefined ? undefined : ownData(env.vars, d.var);
    const msg =
      d.var !== undefined
        ? JSON.stringify(named === MISSING ? undefined : named)
        : typeof d.msg === 'string'
          ? d.msg
          : JSON.stringify(d.msg ?? 'Hello world!');
    return { failed: false, msg, result: { msg } };
  },
};
