import { ConfigError } from '../../errors.js';
import { EXIT } from '../../exit-codes.js';
import type { Command, Io } from '../io.js';
import { HELP_OPTION, parseCommand, type CommandDef, type OptionDef } from '../spec.js';
import { COMPLETION_CMD } from '../command-defs.js';

export async function completionCommand(argv: string[], io: Io, commands: readonly Command[]): Promise<number> {
  const { positionals } = parseCommand(COMPLETION_CMD, argv);
  const shell = positionals[0];
  if (positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh')) {
    const got = shell ? `, got '${positionals.join(' ')}'` : '';
    throw new ConfigError('E_USAGE', `completion takes one shell, bash or zsh${got}`, {
      hint: 'source <(lvsrun completion bash)',
    });
  }
  io.out(shell === 'bash' ? bashCompletion(commands.map((c) => c.def)) : zshCompletion(commands.map((c) => c.def)));
  return EXIT.OK;
}

/** What completion needs from the definitions; names and options are fixed identifiers, safe inside shell words. */
interface Case {
  name: string;
  opts: string[];
  words: string[];
}
interface Table {
  top: string[];
  groups: Map<string, string[]>;
  cases: Case[];
}

function table(defs: readonly CommandDef[]): Table {
  const groups = new Map<string, string[]>();
  const top = new Set<string>();
  for (const d of defs) {
    const [w1, w2] = d.name.split(' ');
    if (!w1) continue;
    top.add(w1);
    if (w2) groups.set(w1, [...(groups.get(w1) ?? []), w2]);
  }
  top.add('help');
  const cases = defs.map((d) => ({
    name: d.name,
    opts: Object.entries<OptionDef>({ ...d.options, help: HELP_OPTION }).flatMap(([k, o]) => [
      `--${k}`,
      ...(o.short ? [`-${o.short}`] : []),
    ]),
    words: [...(d.words ?? [])],
  }));
  return { top: [...top], groups, cases };
}

export function bashCompletion(defs: readonly CommandDef[]): string {
  const t = table(defs);
  const run = t.cases.find((c) => !c.name)!;
  const arms = t.cases
    .filter((c) => c.name)
    .map((c) => `    '${c.name}') opts='${c.opts.join(' ')}'; words='${c.words.join(' ')}';;`);
  const groupArms = [...t.groups].map(
    ([g, subs]) => `    ${g}) COMPREPLY=($(compgen -W '${subs.join(' ')}' -- "$cur")); return;;`,
  );
  return `# bash completion for lvsrun: source <(lvsrun completion bash)
_lvsrun() {
  local cur=\${COMP_WORDS[COMP_CWORD]} w1=\${COMP_WORDS[1]} w2=\${COMP_WORDS[2]} cmd='' opts='' words='' n=1
  if [ "$COMP_CWORD" -eq 1 ] && [[ $cur != -* ]]; then
    COMPREPLY=($(compgen -W '${t.top.join(' ')}' -- "$cur"))
    return
  fi
  if [ "$COMP_CWORD" -eq 2 ]; then
    case "$w1" in
${groupArms.join('\n')}
    esac
  fi
  case "$w1" in
${[...t.groups.keys()].map((g) => `    ${g}) cmd="$w1 $w2"; n=2;;`).join('\n')}
    *) cmd=$w1;;
  esac
  case "$cmd" in
${arms.join('\n')}
    *) cmd=''; n=0; opts='${run.opts.join(' ')}';;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ -n "$words" ] && [ "$COMP_CWORD" -eq $((n + 1)) ]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -o default -o bashdefault -F _lvsrun lvsrun
`;
}

export function zshCompletion(defs: readonly CommandDef[]): string {
  const t = table(defs);
  const run = t.cases.find((c) => !c.name)!;
  const arms = t.cases
    .filter((c) => c.name)
    .map((c) => `    '${c.name}') opts=(${c.opts.join(' ')}); choices=(${c.words.join(' ')});;`);
  const groupArms = [...t.groups].map(([g, subs]) => `      ${g}) compadd -- ${subs.join(' ')}; return;;`);
  return `#compdef lvsrun
# zsh completion for lvsrun: save as _lvsrun in a folder of $fpath, or source <(lvsrun completion zsh) after compinit
_lvsrun() {
  local w1=\${words[2]} w2=\${words[3]} cmd='' n=1
  local -a opts choices
  if (( CURRENT == 2 )) && [[ $PREFIX != -* ]]; then
    compadd -- ${t.top.join(' ')}
    _files
    return
  fi
  if (( CURRENT == 3 )); then
    case $w1 in
${groupArms.join('\n')}
    esac
  fi
  case $w1 in
${[...t.groups.keys()].map((g) => `    ${g}) cmd="$w1 $w2"; n=2;;`).join('\n')}
    *) cmd=$w1;;
  esac
  case $cmd in
${arms.join('\n')}
    *) n=0; opts=(${run.opts.join(' ')});;
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $opts
  elif (( \${#choices} )) && (( CURRENT == n + 2 )); then
    compadd -- $choices
  else
    _files
  fi
}
if [ "$funcstack[1]" = "_lvsrun" ]; then _lvsrun "$@"; else compdef _lvsrun lvsrun; fi
`;
}
