"""The command line as a person meets it (issue 13, part 2): messages, wrapping, summaries, several files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from disclosure_rules.checker import load
from disclosure_rules.cli import EXIT_BAD_INPUT, EXIT_DENY, EXIT_PERMIT, EXIT_USAGE, main
from disclosure_rules.render.terminal import batch_summary, text_width
from disclosure_rules.render.text import render_text

from .conftest import EXAMPLES

PERMIT = EXAMPLES / "irs-ice-address-request.json"
DENY = EXAMPLES / "irs-ice-civil-removal.json"


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _with(tmp_path: Path, **changes: object) -> str:
    request = json.loads(PERMIT.read_text())
    request.update(changes)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    return str(path)


def test_text_is_not_wrapped_when_the_output_is_not_a_terminal() -> None:
    code, out, _ = run("check", str(PERMIT))
    assert code == EXIT_PERMIT
    reason = next(line for line in out.splitlines() if line.startswith("Reason: "))
    assert reason.endswith("for use solely in it.")  # the whole reason on one line
    assert text_width(io.StringIO()) is None


def test_wrapping_never_splits_a_section_sign_from_its_number() -> None:
    decision = load().check(json.loads(PERMIT.read_text()))
    for line in (line for width in range(30, 90) for line in render_text(decision, width=width).splitlines()):
        assert not line.rstrip().endswith(("§", "U.S.C.")), line
        assert not line.lstrip(" -*").startswith(("U.S.C.", "6103")), line


def test_a_directory_given_as_the_request_is_named_as_one() -> None:
    code, _, err = run("check", str(EXAMPLES))
    assert code == EXIT_BAD_INPUT
    assert "is a directory, not a request file" in err and "Traceback" not in err


def test_a_json_lines_file_without_jsonl_says_to_use_it(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(PERMIT.read_text().replace("\n", "") + "\n" + DENY.read_text().replace("\n", "") + "\n")
    code, _, err = run("check", str(path))
    assert code == EXIT_BAD_INPUT
    assert "give it with --jsonl" in err


def test_an_empty_file_is_called_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("")
    assert "the request is empty" in run("check", str(path))[2]


@pytest.mark.parametrize(
    ("day", "why"), [("2025-13-45", "there is no month 13"), ("2025-02-30", "month 2 of 2025 has no day 30")]
)
def test_a_well_formed_date_that_is_no_day_says_why(tmp_path: Path, day: str, why: str) -> None:
    code, _, err = run("check", _with(tmp_path, date=day))
    assert code == EXIT_BAD_INPUT
    assert f"`{day}` is written YYYY-MM-DD but is not a day of the calendar: {why}" in err


def test_a_value_that_differs_only_in_case_is_named(tmp_path: Path) -> None:
    code, _, err = run("check", _with(tmp_path, recipient="ice"))
    assert code == EXIT_BAD_INPUT
    assert "did you mean `ICE`? case matters" in err


def test_a_json_lines_syntax_error_names_the_files_line_and_the_column_in_it(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(PERMIT.read_text().replace("\n", "") + "\n" + '{"date": \n')
    code, out, err = run("check", "--jsonl", str(path))
    assert code == EXIT_BAD_INPUT
    record = json.loads(out.splitlines()[1])
    assert record["line"] == 2
    assert record["errors"][0] == {
        "code": "json_syntax",
        "message": "expecting value",
        "file": str(path),
        "line": 2,
        "column": 10,
        "path": "$",
    }
    assert f"{path}:2:10: $: error[json_syntax]: expecting value\n" in err


def test_a_syntax_error_in_a_request_file_names_its_line_and_column_once(tmp_path: Path) -> None:
    path = tmp_path / "request.json"
    path.write_text('{"element": "address",\n "holder": x}\n')
    code, out, err = run("check", str(path))
    assert code == EXIT_BAD_INPUT
    assert err == f"{path}:2:12: $: error[json_syntax]: expecting value\n"
    code, out, err = run("check", "--format", "json", str(path))
    error = json.loads(out)["errors"][0]
    assert (error["file"], error["line"], error["column"], error["message"]) == (str(path), 2, 12, "expecting value")


def test_a_json_lines_error_without_a_column_keeps_the_line_and_the_json_path(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    request = json.loads(PERMIT.read_text())
    lines = [json.dumps(request), "  {", json.dumps({**request, "recipient": "ice"})]
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run("check", "--jsonl", str(path))
    assert code == EXIT_BAD_INPUT
    assert f"{path}:2:4: $: error[json_syntax]: expecting property name enclosed in double quotes" in err
    assert f"{path}:3: $.recipient: error[unknown_value]: `ice` is not a value of `agency`" in err


def test_a_batch_ends_with_a_summary_on_standard_error(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    lines = [PERMIT.read_text().replace("\n", ""), DENY.read_text().replace("\n", ""), "{"]
    path.write_text("\n".join(lines) + "\n")
    code, _, err = run("check", "--jsonl", str(path))
    assert code == EXIT_BAD_INPUT
    last = err.splitlines()[-1]
    assert last.startswith("disclosure-rules: 3 requests in ")
    assert last.endswith(": 1 permitted, 1 denied, 1 error")
    assert batch_summary(1, 0, 0, 0.5) == "disclosure-rules: 1 request in 0.50 s: 1 permitted, 0 denied, 0 errors"


def test_several_request_files_are_decided_in_one_call() -> None:
    code, out, err = run("check", str(PERMIT), str(DENY))
    assert code == EXIT_DENY
    assert out.startswith(f"{PERMIT}: PERMIT (permitted)\n") and f"\n{DENY}: DENY (prohibited)\n" in out
    assert err.splitlines()[-1].endswith(": 1 permitted, 1 denied, 0 errors")
    code, out, _ = run("check", "--format", "json", str(PERMIT), str(PERMIT))
    assert code == EXIT_PERMIT
    assert [json.loads(line)["file"] for line in out.splitlines()] == [str(PERMIT), str(PERMIT)]


def test_several_files_with_a_ledger_are_refused() -> None:
    code, _, err = run("check", str(PERMIT), str(DENY), "--ledger", "x.sqlite")
    assert code == EXIT_USAGE and "with --ledger, give one request file" in err


@pytest.mark.parametrize(
    ("argv", "hint"),
    [(["chek", "x.json"], "did you mean `check`?"), (["check", "x.json", "--tracee"], "did you mean `--trace`?")],
)
def test_a_mistyped_command_or_option_gets_a_did_you_mean(argv: list[str], hint: str) -> None:
    code, _, err = run(*argv)
    assert code == EXIT_USAGE and hint in err


def test_help_lists_the_exit_codes() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "exit codes:" in out and "74  the output could not be written" in out


def test_a_rule_error_shows_the_source_line_and_a_caret(tmp_path: Path) -> None:
    import shutil

    from .conftest import ROOT

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / "privacy-act.yaml"
    text = path.read_text()
    path.write_text(text.replace("      - facts.request.signed_by in", "      - facts.request.signd_by in", 1))
    code, _, err = run("validate", str(rules))
    assert code == 3
    head, source, caret = err.splitlines()[:3]
    number = int(head.split(":")[1])
    column = int(head.split(":")[2])
    assert source == f"{number} | {path.read_text().splitlines()[number - 1]}"
    assert caret.index("^") == len(f"{number} | ") + column - 1
