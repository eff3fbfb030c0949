import type { FileState } from '../facts/file.js';
import { sh, raw, type ShellCmd } from '../transport/shell.js';
import { exec, type Step } from './types.js';

export interface PutOpts { mode?: string; owner?: string; group?: string; validate?: string; backup?: boolean; mkdirs?: boolean }

/**
 * Write a file atomically: content arrives base64 on stdin, goes to a temp file beside the
 * destination, gets mode/owner, is validated, then renamed over the destination.
 */
export function putFile(dest: string, content: string | Buffer, o: PutOpts = {}): Step {
  const b64 = Buffer.from(content).toString('base64');
  const parts: ShellCmd[] = [
    ...(o.mkdirs ? [sh`mkdir -p -- "$(dirname -- ${dest})" || exit 1`] : []),
    sh`d=${dest}; t=$(mktemp "$(dirname -- "$d")/.lvsrun.XXXXXX") || exit 1; trap 'rm -f -- "$t"' EXIT; base64 -d > "$t" || exit 1`,
  ];
  if (o.mode) parts.push(sh`chmod ${o.mode} "$t" || exit 1`);
  else parts.push(raw(`if [ -e "$d" ]; then chmod --reference="$d" "$t"; else chmod 0644 "$t"; fi || exit 1`));
  if (o.owner || o.group) parts.push(sh`chown ${`${o.owner ?? ''}${o.group ? `:${o.group}` : ''}`} "$t" || exit 1`);
  else parts.push(raw(`if [ -e "$d" ]; then chown --reference="$d" "$t"; fi || exit 1`));
  if (o.validate) parts.push(sh`/bin/sh -c ${o.validate.replace(/%s/g, '"$1"')} lvsrun-validate "$t" || { echo "validation failed: $?" >&2; exit 1; }`);
  if (o.backup) parts.push(raw(`if [ -e "$d" ]; then cp -a -- "$d" "$d.$(date +%Y%m%d%H%M%S).bak"; fi`));
  parts.push(raw(`mv -f -- "$t" "$d" && trap - EXIT`));
  return exec(parts.join('\n') as ShellCmd, { stdin: b64, atomic: true, what: `write ${dest}` });
}

/** Undo for any path: put back exactly what was observed (content, mode, owner), or remove it. */
export function restorePath(path: string, before: FileState): Step[] {
  if (!before.exists) {
    const top = before.missingFrom ?? path;
    return [exec(sh`rm -rf -- ${top}`, { what: `remove ${top}` })];
  }
  if (before.type === 'file' && before.b64 !== undefined) {
    return [exec(sh`rm -rf -- ${path} 2>/dev/null; :`, { what: `clear ${path}` }), putFile(path, Buffer.from(before.b64, 'base64'), { mode: before.mode, owner: before.owner, group: before.group })];
  }
  if (before.type === 'link') return [exec(sh`rm -rf -- ${path} && ln -s -- ${before.linkTarget ?? ''} ${path}`, { what: `relink ${path}` })];
  if (before.type === 'directory') {
    return [exec(sh`mkdir -p -- ${path} && chmod ${before.mode ?? '0755'} ${path} && chown ${`${before.owner}:${before.group}`} ${path}`, { what: `restore ${path}` })];
  }
  return [];
}

/** Metadata-only change (mode/owner) with its own undo. */
export function attrSteps(path: string, before: FileState, mode?: string, owner?: string, group?: string): { steps: Step[]; undo: Step[] } {
  const steps: Step[] = [];
  const undo: Step[] = [];
  if (mode && before.mode !== mode) { steps.push(exec(sh`chmod ${mode} ${path}`)); undo.push(exec(sh`chmod ${before.mode ?? '0644'} ${path}`)); }
  const ownerDiff = (owner && before.owner !== owner) || (group && before.group !== group);
  if (ownerDiff) {
    steps.push(exec(sh`chown ${`${owner ?? ''}${group ? `:${group}` : ''}`} ${path}`));
    undo.push(exec(sh`chown ${`${before.owner}:${before.group}`} ${path}`));
  }
  return { steps, undo };
}

