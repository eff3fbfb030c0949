import { textToBytes } from '../facts/byte-text.js';
import { observedBytes, uncapturedReason, walkPath, type FileState } from '../facts/file.js';
import { posix } from 'node:path';
import { LvsrunError } from '../errors.js';
import { joinCmds, raw, sh, type ShellCmd } from '../transport/shell.js';
import { exec, type Step } from './types.js';

export interface PutOpts {
  mode?: string;
  owner?: string;
  group?: string;
  validate?: string;
  backup?: boolean;
  mkdirs?: boolean;
}

const ownerSpec = (owner?: string, group?: string): string => `${owner ?? ''}${group ? `:${group}` : ''}`;

/**
 * Shell text that makes a private folder beside `dest` and enters it: `d` is the absolute
 * destination, `w` the folder. The folder is created 0700 by mktemp -d on the destination's
 * filesystem (so a rename out of it is atomic), and checked once entered: ours, 0700 (2700 under a
 * setgid parent), empty.
 * From then on every name inside it is used relative to the working directory, so a user who
 * can write the destination's folder (and so rename or replace `w` itself) cannot swap what we
 * write, chmod or chown there. On exit the files made inside and the folder are removed.
 * `a` is left holding `stat -c '%n|%a|%u:%g|%F'` of the destination, or nothing when it is absent;
 * `me` the folder's `uid:gid`, which every file made in it has (the folder is ours: a file gets our
 * uid and the group the folder got, whatever the mount's group rule or a setgid bit it inherited).
 *
 * Every process a write starts is a cost paid per file: the checks use the shell's own tests
 * (`-O`, globs) and one `stat` that names both the folder and the destination.
 */
export function privateDirCmd(dest: string, mkdirs = false): ShellCmd {
  return joinCmds([
    // The folder is named on the controller (dirname(1) is one more process start per write).
    sh`d=${dest}; u=${posix.dirname(walkPath(dest))}; case $d in /*) ;; *) d=$PWD/$d; u=$PWD/$u;; esac`,
    ...(mkdirs ? [raw(`mkdir -p -- "$u" || exit 1`)] : []),
    // A signal ends the shell through its EXIT trap, so the cleanup runs then too; the traps are set
    // before the folder exists, so a signal right after mktemp still removes it.
    raw(
      `w=; trap '[ -z "$w" ] || { cd / && rmdir -- "$w" 2>/dev/null; }' EXIT;` +
        ` trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM`,
    ),
    raw(`w=$(mktemp -d -- "$u/.lvsrun.XXXXXX") || exit 1`),
    raw(`refuse() { echo "$w: the private temporary folder changed under lvsrun; nothing was written" >&2; exit 1; }`),
    // -O: owned by the effective uid (what `id -u` prints). `..` is the destination's folder: `w`
    // swapped for a link to another empty folder of ours (root's /lost+found) is refused.
    raw(`cd -P -- "$w" && [ -O . ] && [ .. -ef "$u" ] || refuse`),
    // `.` is named first and its line starts with `.|`, while $d is absolute: the first line is the
    // folder's whatever $d holds (a newline, a `|`), and a missing $d only drops the rest.
    // (The redirection outside: bash runs a lone command in $(...) without a second fork.)
    raw(`{ s=$(LC_ALL=C stat -c '%n|%a|%u:%g|%F' -- . "$d"); } 2>/dev/null || :; nl='\n'`),
    // 2700: mktemp's folder inherits the setgid bit of a setgid parent (Debian's /var/local, /usr/local
    // on older releases): as private, and what a file made in it gets is still the folder's uid:gid.
    // %F is translated in other locales (LANGUAGE=de: "reguläre Datei"): the C locale keeps it English.
    raw(`case $s in ".|700|"*|".|2700|"*) a=\${s#*"$nl"}; [ "$a" != "$s" ] || a=;; *) refuse;; esac`),
    raw(`me=\${s%%"$nl"*}; me=\${me#".|"*"|"}; me=\${me%|*}`),
    // Empty: `* .[!.]* ..?*` match every name but . and .., and a glob that matches nothing stays as
    // written and names nothing. Options a login shell may have set would hide names (noglob, bash's
    // GLOBIGNORE) or end the shell on an empty folder (failglob): they are turned off.
    raw(`set +f; unset GLOBIGNORE; [ -z "\${BASH_VERSION-}" ] || shopt -u failglob`),
    raw(`for x in * .[!.]* ..?*; do if [ -e "$x" ] || [ -L "$x" ]; then refuse; fi; done`),
    // rm only when one of the names is still there: after the rename that ends a write, none is.
    raw(
      `trap 'for x in f b l h; do if [ -e "$x" ] || [ -L "$x" ]; then rm -f -- f b l h; break; fi; done;` +
        ` cd / && rmdir -- "$w" 2>/dev/null' EXIT`,
    ),
  ]);
}

/**
 * Base64 in lines of 76, the last one ending with a newline too (an empty text is one newline): the
 * shell session passes such a text on as it is, where a text without a final newline is encoded
 * again and decoded by one more base64 process on the host.
 */
const base64Lines = (b: Buffer): string => `${b.toString('base64').replace(/.{76}(?=.)/g, '$&\n')}\n`;

/**
 * Write a file atomically: content arrives base64 on stdin, is written to `f` inside a private
 * folder beside the destination, gets owner (chown -h) then mode (chown clears setuid bits), is
 * validated, then renamed over the destination with mv -T (a symlink or file there is replaced,
 * never followed; a directory there makes it fail). Strings are encoded with textToBytes, so
 * text read from a file with non-UTF-8 bytes is written back byte for byte.
 */
export function putFile(dest: string, content: string | Buffer, o: PutOpts = {}): Step {
  const b64 = base64Lines(Buffer.isBuffer(content) ? content : textToBytes(content));
  // exec: bash would fork once more for the last command of the list.
  const parts: ShellCmd[] = [privateDirCmd(dest, o.mkdirs), raw(`(umask 077 && exec base64 -d > f) || exit 1`)];
  // Without explicit attributes a regular file already there keeps its own (read without following a
  // link, in privateDirCmd). Its fields are read from the right: the name before them may hold `|`.
  parts.push(
    raw(`t=\${a##*|}; r=\${a%|*}; o=\${r##*|}; r=\${r%|*}; m=\${r##*|}`),
    raw(`case $t in regular*) ;; *) m=0644; o=;; esac`),
  );
  if (o.owner || o.group) parts.push(sh`chown -h -- ${ownerSpec(o.owner, o.group)} f || exit 1`);
  // A file that already has the owner to keep (as a root-owned file written by root has) needs no chown.
  else parts.push(raw(`if [ -n "$o" ] && [ "$o" != "$me" ]; then chown -h -- "$o" f || exit 1; fi`));
  parts.push(o.mode ? sh`chmod -- ${o.mode} f || exit 1` : raw(`chmod -- "$m" f || exit 1`));
  if (o.validate) {
    parts.push(
      joinCmds(
        [
          // Named through the process's own working folder, not $PWD: `w` may have been renamed and a
          // link to another folder put in its place since it was entered.
          sh`/bin/sh -c ${o.validate.replace(/%s/g, '"$1"')} lvsrun-validate /proc/self/cwd/f`,
          raw(`|| { echo "validation failed: $?" >&2; exit 1; }`),
        ],
        ' ',
      ),
    );
  }
  if (o.backup) {
    parts.push(
      raw(
        `if [ -e "$d" ] || [ -L "$d" ]; then cp -a -- "$d" b && mv -T -- b "$d.$(date +%Y%m%d%H%M%S).bak"` +
          ` || exit 1; fi`,
      ),
    );
  }
  parts.push(raw(`mv -T -- f "$d"`));
  return exec(joinCmds(parts), { stdin: b64, atomic: true, what: `write ${dest}` });
}

/** A symbolic link made in a private folder and renamed over `path` (no moment without one). */
function putLink(path: string, target: string, owner?: string, group?: string): Step {
  return exec(
    joinCmds([
      privateDirCmd(path),
      sh`ln -s -- ${target} l || exit 1`,
      ...(owner || group ? [sh`chown -h -- ${ownerSpec(owner, group)} l || exit 1`] : []),
      raw(`mv -T -- l "$d"`),
    ]),
    { what: `relink ${path}` },
  );
}

/**
 * Shell text that sets owner and mode on `path` without following a symbolic link. A directory
 * is entered and checked to be the one `path` names (not a link's target); anything else is
 * hard-linked into a private folder and changed there, so the inode changed is the one that was
 * at `path` and a link swapped in at `path` is refused, never followed.
 */
export function setAttrsCmd(path: string, mode?: string, owner?: string, group?: string): ShellCmd {
  const change = (t: '.' | 'h'): ShellCmd[] => [
    ...(owner || group ? [joinCmds([sh`  chown -h -- ${ownerSpec(owner, group)}`, raw(`${t} || exit 1`)], ' ')] : []),
    ...(mode ? [joinCmds([sh`  chmod -- ${mode}`, raw(`${t} || exit 1`)], ' ')] : []),
  ];
  return joinCmds([
    // A relative path is made absolute first: the check below names it again from inside the folder.
    sh`p=${path}; case $p in /*) ;; *) p=$PWD/$p;; esac; if [ -d "$p" ] && [ ! -L "$p" ]; then`,
    // One stat, two lines: the folder entered and what `p` names now (not followed: a link is not it).
    raw(
      `  cd -P -- "$p" && s=$(stat -c %d:%i -- . "$p") && nl='\n' && [ "\${s%"$nl"*}" = "\${s#*"$nl"}" ]` +
        ` || { echo "$p changed while lvsrun set its attributes" >&2; exit 1; }`,
    ),
    ...change('.'),
    raw('else'),
    privateDirCmd(path),
    raw(`  ln -P -- "$d" h && [ -f h ] && [ ! -L h ] || { echo "$d is not a regular file or directory" >&2; exit 1; }`),
    ...change('h'),
    raw('fi'),
  ]);
}

/** Undo for any path: put back exactly what was observed (content, mode, owner), or remove it. */
export function restorePath(path: string, before: FileState): Step[] {
  if (!before.exists) {
    const top = before.missingFrom ?? path;
    return [exec(sh`rm -rf -- ${top}`, { what: `remove ${top}` })];
  }
  if (before.type === 'file') {
    const bytes = observedBytes(before);
    if (!bytes)
      throw new LvsrunError('E_FACT', uncapturedReason(path, before)!, {
        hint: 'lvsrun only changes what it can put back',
      });
    return [putFile(path, bytes, { mode: before.mode, owner: before.owner, group: before.group })];
  }
  if (before.type === 'link') return [putLink(path, before.linkTarget ?? '', before.owner, before.group)];
  if (before.type === 'directory') {
    const mk = sh`mkdir -p -- ${path} || exit 1`;
    return [
      exec(joinCmds([mk, setAttrsCmd(path, before.mode ?? '0755', before.owner, before.group)]), {
        what: `restore ${path}`,
      }),
    ];
  }
  throw new LvsrunError(
    'E_FACT',
    `${path} is a special file (not a regular file, link or directory); ` +
      `lvsrun cannot put it back, so it does not change it`,
  );
}

/** Metadata-only change (mode/owner) with its own undo. */
export function attrSteps(
  path: string,
  before: FileState,
  mode?: string,
  owner?: string,
  group?: string,
): { steps: Step[]; undo: Step[] } {
  const steps: Step[] = [];
  const undo: Step[] = [];
  const modeDiff = Boolean(mode && before.mode !== mode);
  const ownerDiff = Boolean((owner && before.owner !== owner) || (group && before.group !== group));
  if (!modeDiff && !ownerDiff) return { steps, undo };
  steps.push(
    exec(setAttrsCmd(path, modeDiff ? mode : undefined, ownerDiff ? owner : undefined, ownerDiff ? group : undefined), {
      what: `set attributes of ${path}`,
    }),
  );
  undo.push(
    exec(
      setAttrsCmd(
        path,
        modeDiff ? (before.mode ?? '0644') : undefined,
        ownerDiff ? before.owner : undefined,
        ownerDiff ? before.group : undefined,
      ),
      { what: `reset attributes of ${path}` },
    ),
  );
  return { steps, undo };
}
