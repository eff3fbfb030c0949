/**
 * Whether a task runs under `--tags` and `--skip-tags`, as Ansible decides it: a task without tags
 * carries the tag `untagged`; `all` (the default of `--tags`) selects every task but those tagged
 * `never`; `tagged` selects every tagged task but those tagged `never`; `always` runs unless skipped
 * by name, by another of its tags, or by `tagged`.
 */
export function runsUnderTags(own: readonly string[], only: readonly string[], skip: readonly string[]): boolean {
  const tags = new Set(own.length ? own : ['untagged']);
  const untagged = !own.length;
  const wanted = only.length ? only : ['all'];
  const run =
    tags.has('always') ||
    (wanted.includes('all') && !tags.has('never')) ||
    wanted.some((x) => tags.has(x)) ||
    (wanted.includes('tagged') && !untagged && !tags.has('never'));
  if (!run || !skip.length) return run;
  if (skip.includes('all')) return tags.has('always') && !skip.includes('always');
  if (skip.some((x) => tags.has(x))) return false;
  return !(skip.includes('tagged') && !untagged);
}
