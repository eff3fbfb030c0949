import { bytesToText } from '../facts/byte-text.js';
import { uncapturedReason, type FileState } from '../facts/file.js';
import { z, aliasStep, boolish, modeArg } from './args.js';
import { observeFile } from './copy.js';
import { attrSteps, putFile, restorePath } from './file-steps.js';
import { failPlan, noop, type Plan, type TaskModule } from './types.js';
import { compileUserRegex } from '../text/user-regex.js';

const schema = z.preprocess(
  aliasStep({ dest: 'path', name: 'path' }),
  z
    .object({
      path: z.string().min(1),
      regexp: z.string().optional(),
      line: z.string().optional(),
      state: z.enum(['present', 'absent']).default('present'),
      create: boolish.default(false),
      insertafter: z.string().optional(),
      insertbefore: z.string().optional(),
      mode: modeArg.optional(),
      owner: z.string().optional(),
      group: z.string().optional(),
      backup: boolish.default(false),
    })
    .strict()
    .refine((a) => a.state === 'absent' || a.line !== undefined, {
      message: 'state: present needs line',
      path: ['line'],
    }),
);

type Args = z.infer<typeof schema>;

/** Pure: the new file text, following Ansible's lineinfile rules. */
export function editLines(text: string, p: Args): string {
  const hadNl = text === '' || text.endsWith('\n');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const re =
    p.regexp === undefined ? undefined : compileUserRegex(p.regexp, { where: { field: 'regexp' }, what: 'regexp' });
  const hit = (l: string): boolean => (re ? re.test(l) : l === p.line);
  if (p.state === 'absent') {
    const kept = lines.filter((l) => !hit(l));
    return kept.length === lines.length ? text : kept.join('\n') + (kept.length ? '\n' : '');
  }
  const line = p.line!;
  let idx = -1;
  lines.forEach((l, i) => {
    if (hit(l)) idx = i;
  }); // Ansible replaces the last match
  if (idx >= 0) {
    if (lines[idx] === line) return text;
    lines[idx] = line;
  } else if (lines.includes(line)) {
    return text;
  } else if (p.insertbefore && p.insertbefore !== 'BOF') {
    const r = compileUserRegex(p.insertbefore, { where: { field: 'insertbefore' }, what: 'insertbefore' });
    const at = lines.findIndex((l) => r.test(l));
    lines.splice(at < 0 ? lines.length : at, 0, line);
  } else if (p.insertbefore === 'BOF') {
    lines.unshift(line);
  } else if (p.insertafter && p.insertafter !== 'EOF') {
    const r = compileUserRegex(p.insertafter, { where: { field: 'insertafter' }, what: 'insertafter' });
    let at = -1;
    lines.forEach((l, i) => {
      if (r.test(l)) at = i;
    });
    lines.splice(at < 0 ? lines.length : at + 1, 0, line);
  } else lines.push(line);
  return lines.join('\n') + (hadNl || lines.length ? '\n' : '');
}

export const lineinfile: TaskModule<Args, FileState> = {
  name: 'lineinfile',
  schema,
  check: (ctx, p) => observeFile(ctx, p.path),
  plan(p, st): Plan {
    if (!st.exists && !p.create) {
      if (p.state === 'absent') return noop(`${p.path} does not exist`);
      return failPlan(`${p.path} does not exist; set create: true to create it`);
    }
    if (st.exists && st.type !== 'file') return failPlan(`${p.path} is a ${st.type}, not a file`);
    const tooBig = uncapturedReason(p.path, st);
    if (tooBig) return failPlan(tooBig);
    // content is the file's bytes decoded losslessly; the line is normalised the same way,
    // so putFile writes both exactly.
    const before = st.content ?? '';
    const after = editLines(
      before,
      p.line === undefined ? p : { ...p, line: bytesToText(Buffer.from(p.line, 'utf8')) },
    );
    if (st.exists && after === before) {
      // Content already right: only the attributes may still differ (Ansible fixes those too).
      const attrs = attrSteps(p.path, st, p.mode, p.owner, p.group);
      if (!attrs.steps.length) return noop(`${p.path}: line already ${p.state}`);
      return { action: 'update', summary: `${p.path}: attributes`, steps: attrs.steps, undo: attrs.undo.reverse() };
    }
    if (!st.exists && p.state === 'absent') return noop(`${p.path} does not exist`);
    return {
      action: st.exists ? 'update' : 'create',
      summary: `${p.path}: line ${p.state === 'present' ? 'set' : 'removed'}`,
      steps: [
        putFile(p.path, after, {
          mode: p.mode ?? (st.exists ? undefined : '0644'),
          owner: p.owner,
          group: p.group,
          backup: p.backup,
          mkdirs: Boolean(st.missingFrom),
        }),
      ],
      undo: restorePath(p.path, st),
      diff: [{ path: p.path, before, after }],
    };
  },
};
