"""Shell completion: scripts generated from the command line's parser, that each shell accepts and that complete."""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from disclosure_rules import completion
from disclosure_rules.cli import EXIT_PERMIT, EXIT_USAGE, _parser, main

from .conftest import EXAMPLES, ROOT

BASH = shutil.which("bash")


def script(shell: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = main(["completion", shell], stdin=io.BytesIO(), stdout=out, stderr=err)
    assert (code, err.getvalue()) == (EXIT_PERMIT, "")
    return out.getvalue()


def every_command() -> list[completion.Command]:
    return list(completion.walk(completion.describe(_parser())))


def test_every_command_and_option_is_read_from_the_parser() -> None:
    paths = [command.path for command in every_command()]
    for name in ("check", "test", "docs", "validate", "analyze", "diff", "fmt", "schema", "completion", "ledger"):
        assert (name,) in paths
    assert ("ledger", "verify") in paths and ("ledger", "report") in paths
    check = next(c for c in every_command() if c.path == ("check",))
    options = {name: option for option in check.options for name in option.names}
    assert options["--format"].value == completion.Value("choice", "FORMAT", ("text", "json"))
    assert options["--rules"].value is not None and options["--rules"].value.kind == "dir"
    assert options["--jsonl"].value is not None and options["--jsonl"].value.kind == "file"
    assert options["--trace"].value is None
    assert check.operands is not None and check.operands.kind == "file" and check.many_operands


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_the_bash_script_is_valid_bash_and_names_every_command(tmp_path: Path) -> None:
    assert BASH is not None  # the skipif above
    text = script("bash")
    path = tmp_path / "disclosure-rules.bash"
    path.write_text(text)
    run = subprocess.run([BASH, "-n", str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    for command in every_command():
        if command.path:
            parent, name = " ".join(command.path[:-1]), command.path[-1]
            assert f'"{parent}|{name}") path="{" ".join(command.path)}"' in text, command.path
        for option in command.options:
            for name in option.names:
                assert name in text
    assert text.rstrip().endswith("complete -F _disclosure_rules disclosure-rules")


def complete(words: list[str], cwd: Path = ROOT) -> list[str]:
    """What the bash script offers when Tab is pressed after ``words`` (the last one is being typed)."""
    assert BASH is not None
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in ["disclosure-rules", *words])
    program = (
        f"{script('bash')}\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words)}; COMPREPLY=()\n"
        '_disclosure_rules; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    run = subprocess.run([BASH, "-c", program], capture_output=True, text=True, check=True, cwd=cwd)
    return [line for line in run.stdout.splitlines() if line]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_bash_completes_commands_options_values_and_files() -> None:
    assert complete(["ch"]) == ["check"]
    assert "completion" in complete([""]) and "schema" in complete([""])
    assert complete(["check", "--fo"]) == ["--format"]
    assert complete(["check", "--format", ""]) == ["text", "json"]
    assert complete(["check", "--format", "=", "j"]) == ["json"], "--format=j"
    assert complete(["check", "--rules", "rules", "--tr"]) == ["--trace"], "an option's value is skipped"
    assert complete(["ledger", ""]) == ["verify", "report", "init", "grants"]
    assert complete(["ledger", "report", "--by", "r"]) == ["route", "recipient"]
    assert complete(["completion", ""]) == ["bash", "zsh", "fish"]
    assert complete(["check", "examples/irs-ice-address-request.j"]) == ["examples/irs-ice-address-request.json"]
    assert complete(["check", "--rules", "rul"]) == ["rules"]
    assert complete(["docs", "--date", ""]) == [], "a date has nothing to offer"
    assert (EXAMPLES / "irs-ice-address-request.json").is_file()


def test_the_zsh_and_fish_scripts_name_every_command_and_option() -> None:
    zsh, fish = script("zsh"), script("fish")
    assert zsh.startswith("#compdef disclosure-rules\n")
    for command in every_command():
        if command.path:
            assert f"'{command.path[-1]}:" in zsh, command.path
            assert f"-a {command.path[-1]} -d" in fish, command.path
        for option in command.options:
            for name in option.names:
                assert name in zsh
                assert (f"-l {name[2:]}" if name.startswith("--") else f"-s {name[1:]}") in fish
    assert "'--anchor[a record'\\''s number and hash kept from an earlier run]:SEQ\\:HASH: '" in zsh
    assert "'--format[output format (default: text for one request, json for --jsonl)]:FORMAT:(text json)'" in zsh


@pytest.mark.parametrize(("shell", "check"), [("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])])
def test_the_zsh_and_fish_scripts_parse(tmp_path: Path, shell: str, check: list[str]) -> None:
    if shutil.which(check[0]) is None:
        pytest.skip(f"{shell} is not installed")
    path = tmp_path / f"disclosure-rules.{shell}"
    path.write_text(script(shell))
    run = subprocess.run([*check, str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_an_unknown_shell_is_a_usage_error() -> None:
    err = io.StringIO()
    code = main(["completion", "tcsh"], stdin=io.BytesIO(), stdout=io.StringIO(), stderr=err)
    assert code == EXIT_USAGE and "invalid choice: 'tcsh'" in err.getvalue()
    with pytest.raises(completion.CompletionError):
        completion.script(_parser(), "tcsh")


def test_a_new_option_completes_without_an_edit_and_a_name_that_is_not_a_word_is_refused() -> None:
    parser = argparse.ArgumentParser(prog="disclosure-rules")
    commands = parser.add_subparsers(dest="command")
    new = commands.add_parser("new", help="a command written after this module")
    new.add_argument("--out", metavar="DIR")
    new.add_argument("--level", choices=("low", "high"))
    new.add_argument("--since", metavar="YYYY-MM-DD")
    text = completion.script(parser, "bash")
    assert '"new|--out") compopt -o filenames 2>/dev/null; _disclosure_rules_reply < <(compgen -d' in text
    assert '"new|--level") _disclosure_rules_reply < <(compgen -W "low high"' in text
    assert '"new|--since") :; return ;;' in text
    commands.add_parser("rm;x")
    with pytest.raises(completion.CompletionError, match="not a plain word"):
        completion.script(parser, "bash")


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_options_and_values(tmp_path: Path) -> None:
    path = tmp_path / "disclosure-rules.fish"
    path.write_text(script("fish"))

    def offered(line: str) -> list[str]:
        run = subprocess.run(
            ["fish", "--no-config", "-c", f"source {path}; complete -C {line!r}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return [entry.split("\t")[0] for entry in run.stdout.splitlines()]

    assert "check" in offered("disclosure-rules ") and "completion" in offered("disclosure-rules ")
    assert offered("disclosure-rules check --f") == ["--format"]
    assert sorted(offered("disclosure-rules check --format ")) == ["json", "text"]
    assert sorted(offered("disclosure-rules ledger ")) == ["grants", "init", "report", "verify"]
    assert "--anchor" in offered("disclosure-rules ledger verify --")
    assert offered("disclosure-rules check examples/irs-ice-address-request.j") == [
        "examples/irs-ice-address-request.json"
    ]
