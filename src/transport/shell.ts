/**
 * Quoting by construction: a ShellCmd is made only by `sh` (which quotes every
 * interpolated value) or by `raw` (for literal script text written in lvsrun's own
 * source, never for user data). Playbook values therefore cannot break out of a word.
 */
export type ShellCmd = string & { readonly __brand: 'ShellCmd' };

/** An already-built command to embed verbatim inside another `sh` template. */
export class Nested {
  constructor(readonly cmd: ShellCmd) {}
}

export type ShellArg = string | number | boolean | Nested | ReadonlyArray<string | number>;

const SAFE = /^[A-Za-z0-9_\-+=.,:/@%^]+$/;

/** POSIX single-quote a value: inside '...' only ' itself needs care. */
export function quote(v: string | number | boolean): string {
  const s = String(v);
  if (s !== '' && SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Tagged template: sh`cat -- ${path}` quotes `path`; arrays become several quoted words. */
export function sh(strings: TemplateStringsArray, ...values: ShellArg[]): ShellCmd {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return out as ShellCmd;
}

function render(v: ShellArg): string {
  if (v instanceof Nested) return v.cmd;
  if (typeof v === 'object') return v.map((x) => quote(x)).join(' ');
  return quote(v);
}

/** Embed a built command in another sh`` without quoting it again. */
export function nest(c: ShellCmd): Nested {
  return new Nested(c);
}

/** A literal fragment from lvsrun's own source. Never pass user data here. */
export function raw(s: string): ShellCmd {
  return s as ShellCmd;
}

export function joinCmds(parts: readonly ShellCmd[], sep = '\n'): ShellCmd {
  return parts.join(sep) as ShellCmd;
}
