/**
 * `tusk completion bash|zsh|fish`: a shell completion script, as `walrus completion` prints one.
 * The commands and options come from the CLI's own usage text (what `tusk --help` prints), so the
 * script never falls behind the commands: a usage line `  <command> …` names a command, `--name`
 * anywhere names an option. Files complete where no option or command fits.
 */

/** The shells a script can be printed for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** Commands and options named in `usage` (sorted, without duplicates). */
export function completionWords(usage: string): { commands: string[]; options: string[] } {
  const commands = new Set<string>();
  for (const line of usage.split('\n')) {
    // A command line is indented by exactly two spaces and starts with a lowercase word.
    const m = /^ {2}([a-z][a-z0-9-]*)(?:\s|$)/.exec(line);
    if (m) commands.add(m[1]);
  }
  const options = new Set(usage.match(/--[a-z][a-z0-9-]*/g) ?? []);
  return { commands: [...commands].sort(), options: [...options].sort() };
}

/** The completion script for `shell`. Pre: `shell` is one of {@link COMPLETION_SHELLS}. */
export function completionScript(shell: CompletionShell, usage: string): string {
  const { commands, options } = completionWords(usage);
  const cmds = commands.join(' ');
  const opts = options.join(' ');
  switch (shell) {
    case 'bash':
      return `# tusk completion for bash: source <(tusk completion bash)
_tusk() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "\$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( \$(compgen -W "${cmds}" -- "\$cur") )
  elif [[ "\$cur" == -* ]]; then
    COMPREPLY=( \$(compgen -W "${opts}" -- "\$cur") )
  else
    COMPREPLY=( \$(compgen -f -- "\$cur") )
  fi
}
complete -o filenames -F _tusk tusk
`;
    case 'zsh':
      return `#compdef tusk
# tusk completion for zsh: tusk completion zsh > "\${fpath[1]}/_tusk"
_tusk() {
  if (( CURRENT == 2 )); then
    compadd -- ${cmds}
  elif [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- ${opts}
  else
    _files
  fi
}
compdef _tusk tusk
`;
    case 'fish':
      return [
        '# tusk completion for fish: tusk completion fish > ~/.config/fish/completions/tusk.fish',
        'complete -c tusk -f',
        `complete -c tusk -n '__fish_use_subcommand' -a '${cmds}'`,
        ...options.map((o) => `complete -c tusk -n 'not __fish_use_subcommand' -l ${o.slice(2)}`),
        "complete -c tusk -n 'not __fish_use_subcommand' -F",
        '',
      ].join('\n');
  }
}
