"""Shell completion for bash, zsh and fish, derived from the command line's own argparse parser.

:func:`describe` reads the parser into a tree of :class:`Command` values (options, operands, subcommands);
one function per shell writes a script from that tree, so a new command or option completes without an edit
here. What an option's value completes to follows from the parser: its ``choices``, else its metavar (``DIR``
and ``RULES_DIR`` complete directories; ``FILE``, ``PATH``, ``REQUEST`` and ``PATH_OR_URL`` files), else
nothing, as for a date or a number.

The scripts are plain shell: bash needs no bash-completion package (and runs on the bash 3.2 of macOS), zsh uses
its own ``_arguments``, fish its ``complete``. argcomplete would complete by running Python at every Tab,
which costs a cold start of the package each time; a generated script costs nothing.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator, Sequence
from typing import Literal

import attrs

PROGRAM = "disclosure-rules"
SHELLS = ("bash", "zsh", "fish")

ValueKind = Literal["choice", "file", "dir", "text"]
FILE_METAVARS = ("FILE", "PATH", "REQUEST", "PATH_OR_URL")
_TOKEN = re.compile(r"^[A-Za-z0-9_.+-]+$")


@attrs.frozen
class Value:
    """What an option's value or an operand completes to."""

    kind: ValueKind
    metavar: str
    choices: tuple[str, ...] = ()


@attrs.frozen
class Option:
    names: tuple[str, ...]
    help: str
    value: Value | None  # None: a flag
    repeatable: bool = False
    alone: bool = False  # --help, --version: nothing else goes with it


@attrs.frozen
class Command:
    path: tuple[str, ...]  # () for the program itself, ("ledger", "verify") for a subcommand of a subcommand
    help: str
    options: tuple[Option, ...]
    operands: Value | None  # what every operand completes to; None: the command takes none
    many_operands: bool
    commands: tuple[Command, ...]


class CompletionError(ValueError):
    """The parser holds a name that cannot be written into a script as a plain shell word."""


def _token(word: str) -> str:
    # Names are written into shell code unquoted: refuse anything that is not a plain word.
    if not _TOKEN.match(word):
        raise CompletionError(f"`{word}` cannot be completed: not a plain word")
    return word


def _value(action: argparse.Action) -> Value:
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    if action.choices is not None:
        return Value("choice", metavar, tuple(_token(str(c)) for c in action.choices))
    if "DIR" in metavar:
        return Value("dir", metavar)
    if metavar in FILE_METAVARS:
        return Value("file", metavar)
    return Value("text", metavar)


def _help(action: argparse.Action) -> str:
    if action.help is None or action.help == argparse.SUPPRESS:
        return ""
    return " ".join(action.help.replace("%%", "%").split())


def _option(action: argparse.Action) -> Option:
    flag = action.nargs == 0
    return Option(
        tuple(_token(n) for n in action.option_strings),
        _help(action),
        None if flag else _value(action),
        repeatable=isinstance(action, (argparse._AppendAction, argparse._CountAction)),
        alone=isinstance(action, (argparse._HelpAction, argparse._VersionAction)),
    )


def describe(parser: argparse.ArgumentParser, path: tuple[str, ...] = (), help: str = "") -> Command:
    """The parser's commands, options and operands, as data."""
    options: list[Option] = []
    operands: list[argparse.Action] = []
    commands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                commands.append(describe(sub, (*path, _token(name)), " ".join(helps.get(name, "").split())))
        elif action.option_strings:
            options.append(_option(action))
        else:
            operands.append(action)
    many = any(a.nargs in ("*", "+", argparse.REMAINDER) for a in operands) or len(operands) > 1
    return Command(path, help, tuple(options), _value(operands[0]) if operands else None, many, tuple(commands))


def walk(command: Command) -> Iterator[Command]:
    """The command and every command under it, parents first."""
    yield command
    for sub in command.commands:
        yield from walk(sub)


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of ``parser`` for ``shell`` (one of :data:`SHELLS`)."""
    root = describe(parser)
    writers = {"bash": bash, "zsh": zsh, "fish": fish}
    if shell not in writers:
        raise CompletionError(f"no completion for `{shell}`: choose {', '.join(SHELLS)}")
    return writers[shell](root)


# -- bash -----------------------------------------------------------------------------------------------------


def _words(names: Sequence[str]) -> str:
    return " ".join(names)


def _bash_value(value: Value) -> str:
    """The bash that fills COMPREPLY for a value of this kind (nothing for free text)."""
    if value.kind == "choice":
        return f'_disclosure_rules_reply < <(compgen -W "{_words(value.choices)}" -- "$cur")'
    if value.kind == "file":
        return 'compopt -o filenames 2>/dev/null; _disclosure_rules_reply < <(compgen -f -- "$cur")'
    if value.kind == "dir":
        return 'compopt -o filenames 2>/dev/null; _disclosure_rules_reply < <(compgen -d -- "$cur")'
    return ":"


def bash(root: Command) -> str:
    commands = list(walk(root))
    lines = [
        f"# bash completion for {PROGRAM}, written by `{PROGRAM} completion bash`.",
        f'# Load it in ~/.bashrc:  eval "$({PROGRAM} completion bash)"',
        "",
        "_disclosure_rules_reply() {",
        "    local line",
        '    while IFS= read -r line; do COMPREPLY+=("$line"); done',
        "}",
        "",
        "_disclosure_rules() {",
        "    COMPREPLY=()",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        "    # bash splits --option=value at the `=`",
        '    if [[ $cur == "=" ]]; then cur=""; elif [[ $prev == "=" ]]; then prev="${COMP_WORDS[COMP_CWORD-2]}"; fi',
        "    # The command named so far: the words that name commands, each option's value skipped.",
        '    local path="" word skip=0 i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        word="${COMP_WORDS[i]}"',
        "        if ((skip)); then skip=0; continue; fi",
        '        case "$path|$word" in',
        *(
            f'            "{_key(command.path)}|{sub.path[-1]}") path="{_key(sub.path)}" ;;'
            for command in commands
            for sub in command.commands
        ),
    ]
    takes_value = [f'"{_key(c.path)}|{name}"' for c in commands for o in c.options if o.value for name in o.names]
    if takes_value:
        lines.append(f"            {'|'.join(takes_value)}) skip=1 ;;")
    lines += ["        esac", "    done", '    case "$path|$prev" in']
    for command in commands:
        for option in command.options:
            if option.value is not None:
                label = "|".join(f'"{_key(command.path)}|{name}"' for name in option.names)
                lines.append(f"        {label}) {_bash_value(option.value)}; return ;;")
    lines += ["    esac", '    case "$path" in']
    for command in commands:
        options = _words([name for option in command.options for name in option.names])
        lines += [
            f'        "{_key(command.path)}")',
            "            if [[ $cur == -* ]]; then",
            f'                _disclosure_rules_reply < <(compgen -W "{options}" -- "$cur")',
            "            else",
            f"                {_bash_operand(command)}",
            "            fi",
            "            ;;",
        ]
    lines += ["    esac", "}", "", f"complete -F _disclosure_rules {PROGRAM}", ""]
    return "\n".join(lines)


def _key(path: tuple[str, ...]) -> str:
    return " ".join(path)


def _bash_operand(command: Command) -> str:
    if command.commands:
        names = _words([sub.path[-1] for sub in command.commands])
        return f'_disclosure_rules_reply < <(compgen -W "{names}" -- "$cur")'
    return _bash_value(command.operands) if command.operands is not None else ":"


# -- zsh ------------------------------------------------------------------------------------------------------


def _zsh_quote(text: str) -> str:
    """Text inside a single-quoted zsh word."""
    return text.replace("'", "'\\''")


def _zsh_description(text: str) -> str:
    """A description for ``[...]`` of an ``_arguments`` spec: a bracket or a backslash in it is escaped (a colon
    may stay, since the description ends only at an unescaped ``]``)."""
    escaped = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return _zsh_quote(escaped)


def _zsh_message(value: Value) -> str:
    """The metavar, shown while its value is typed: a colon in it (``SEQ:HASH``) would end the spec's field."""
    return _zsh_quote(value.metavar.replace(":", "\\:"))


def _zsh_action(value: Value) -> str:
    if value.kind == "choice":
        return f"({' '.join(value.choices)})"
    if value.kind == "file":
        return "_files"
    if value.kind == "dir":
        return "_files -/"
    return " "


def _zsh_function(path: tuple[str, ...]) -> str:
    return "_" + "_".join(["disclosure_rules", *(p.replace("-", "_") for p in path)])


def _zsh_option(option: Option) -> list[str]:
    description = f"[{_zsh_description(option.help)}]"
    value = f":{_zsh_message(option.value)}:{_zsh_action(option.value)}" if option.value is not None else ""
    if option.alone:
        exclude = "(- *)"
    elif len(option.names) > 1:
        exclude = f"({' '.join(option.names)})"
    else:
        exclude = ""
    repeat = "*" if option.repeatable else ""
    if len(option.names) > 1:
        names = "{" + ",".join(option.names) + "}"
        return [f"'{exclude}{repeat}'{names}'{description}{value}'"]
    return [f"'{exclude}{repeat}{option.names[0]}{description}{value}'"]


def _zsh_command(command: Command) -> list[str]:
    specs = [spec for option in command.options for spec in _zsh_option(option)]
    lines = [f"{_zsh_function(command.path)}() {{"]
    if command.commands:
        lines += [
            '  local curcontext="$curcontext" state line',
            "  typeset -A opt_args",
            "  _arguments -C \\",
            *(f"    {spec} \\" for spec in specs),
            "    '1: :->command' \\",
            "    '*:: :->argument'",
            "  case $state in",
            "    command)",
            "      local -a commands",
            "      commands=(",
            *(f"        '{sub.path[-1]}:{_zsh_quote(sub.help)}'" for sub in command.commands),
            "      )",
            "      _describe -t commands 'command' commands",
            "      ;;",
            "    argument)",
            "      case $line[1] in",
            *(f"        {sub.path[-1]}) {_zsh_function(sub.path)} ;;" for sub in command.commands),
            "      esac",
            "      ;;",
            "  esac",
        ]
    else:
        operand = []
        if command.operands is not None:
            times = "*" if command.many_operands else ""
            operand = [f"'{times}:{_zsh_message(command.operands)}:{_zsh_action(command.operands)}'"]
        lines.append("  _arguments \\")
        body = [*specs, *operand]
        lines += [f"    {spec} \\" for spec in body[:-1]] + [f"    {body[-1]}"]
    lines += ["}", ""]
    return lines


def zsh(root: Command) -> str:
    lines = [
        f"#compdef {PROGRAM}",
        f"# zsh completion for {PROGRAM}, written by `{PROGRAM} completion zsh`. Save it as _{PROGRAM} in a",
        f'# directory of $fpath, or load it in ~/.zshrc:  eval "$({PROGRAM} completion zsh)"',
        "",
    ]
    for command in walk(root):
        lines += _zsh_command(command)
    lines += [
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
        f'  {_zsh_function(())} "$@"',
        "else",
        f"  compdef {_zsh_function(())} {PROGRAM}",
        "fi",
        "",
    ]
    return "\n".join(lines)


# -- fish -----------------------------------------------------------------------------------------------------


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_condition(command: Command) -> str:
    """True while the words typed name exactly this command (and not yet one of its subcommands)."""
    if not command.path:
        return "__fish_use_subcommand"
    parts = [f"__fish_seen_subcommand_from {name}" for name in command.path]
    if command.commands:
        parts.append("not __fish_seen_subcommand_from " + " ".join(sub.path[-1] for sub in command.commands))
    return "; and ".join(parts)


def _fish_value(value: Value, operand: bool = False) -> str:
    """How an option's value (``-r``: it needs one; ``-x``: and no file names) or an operand completes."""
    if value.kind == "choice":
        return f"{'' if operand else '-x '}-a {_fish_quote(' '.join(value.choices))}"
    if value.kind == "file":
        return "-F" if operand else "-r -F"
    if value.kind == "dir":
        return f"{'' if operand else '-x '}-a '(__fish_complete_directories (commandline -ct))'"
    return "-x"


def _fish_option(option: Option) -> str:
    names = " ".join(f"-l {n[2:]}" if n.startswith("--") else f"-s {n[1:]}" for n in option.names)
    value = f" {_fish_value(option.value)}" if option.value is not None else ""
    return f"{names}{value} -d {_fish_quote(option.help)}"


def fish(root: Command) -> str:
    lines = [
        f"# fish completion for {PROGRAM}, written by `{PROGRAM} completion fish`. Save it as",
        f"# ~/.config/fish/completions/{PROGRAM}.fish, or load it:  {PROGRAM} completion fish | source",
        f"complete -c {PROGRAM} -f",
    ]
    for command in walk(root):
        condition = _fish_quote(_fish_condition(command))
        head = f"complete -c {PROGRAM} -n {condition}"
        lines.append("")
        lines.append(f"# {' '.join((PROGRAM, *command.path))}")
        lines += [f"{head} -a {sub.path[-1]} -d {_fish_quote(sub.help)}" for sub in command.commands]
        lines += [f"{head} {_fish_option(option)}" for option in command.options]
        if command.operands is not None and not command.commands and command.operands.kind != "text":
            lines.append(f"{head} {_fish_value(command.operands, operand=True)}")
    return "\n".join([*lines, ""])
