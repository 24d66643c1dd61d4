"""The command line, through main(argv) and one real subprocess."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import TextIO

import pytest

from disclosure_rules.cli import EXIT_BAD_INPUT, EXIT_DENY, EXIT_PERMIT, EXIT_RULES, EXIT_USAGE, main

from .conftest import EXAMPLES, ROOT


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_permit_prints_the_reason_rule_and_citation() -> None:
    code, out, err = run("check", str(EXAMPLES / "irs-ice-address-request.json"))
    assert code == EXIT_PERMIT
    assert out.startswith(
        "PERMIT (permitted)\nRule: irc-6103-i-2 — 26 U.S.C. § 6103(i)(2)\nReason: 26 U.S.C. § 6103(i)(2)"
    )
    assert "Obligations:" in out
    assert err == ""


def test_trace_is_in_the_one_request_json_only_when_asked_for() -> None:
    request = str(EXAMPLES / "irs-ice-address-request.json")
    assert "trace" not in json.loads(run("check", "--format", "json", request)[1])
    assert json.loads(run("check", "--format", "json", "--trace", request)[1])["trace"]


def test_deny_after_the_injunction_exits_2() -> None:
    code, out, _ = run("check", str(EXAMPLES / "irs-ice-address-request-after-injunction.json"))
    assert code == EXIT_DENY
    assert "Rule: ddc-ctr-2025-11-21" in out


def test_json_format_prints_the_decision_document() -> None:
    code, out, _ = run(
        "check", "--format", "json", str(EXAMPLES / "irs-ice-address-request-signed-by-assistant-director.json")
    )
    doc = json.loads(out)
    assert code == EXIT_DENY
    assert list(doc) == [
        "decision",
        "status",
        "reason",
        "rule",
        "citations",
        "chain",
        "obligations",
        "missing",
        "unknown_facts",
        "conflicts",
        "provenance",
        "errors",
        "ruleset",
    ]
    assert doc["missing"][0]["rule"] == "irc-6103-i-2"
    assert "`assistant_director`" in doc["missing"][0]["failed"][0]["observed"]


def test_undeclared_fact_is_bad_input_with_path_and_suggestion() -> None:
    code, out, err = run("check", str(EXAMPLES / "invalid-undeclared-fact.json"))
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert "$.facts.request.signd_by: error[unknown_fact]" in err
    assert "did you mean `signed_by`?" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("stdin", "code_name"),
    [
        (b"{", "json_syntax"),
        (b"[1, 2]", "not_an_object"),
        (b'{"date": NaN}', "json_value"),
        (b'{"date": "2025-08-07", "date": "2025-08-08"}', "duplicate_key"),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        (b"\xff\xfe", "encoding"),
        (b"1" * 5000, "json_value"),
        (b" " * 1_000_001, "too_large"),
    ],
)
def test_malformed_input_is_one_line_and_bad_input(stdin: bytes, code_name: str) -> None:
    code, out, err = run("check", "-", "--format", "json", stdin=stdin)
    assert code == EXIT_BAD_INPUT
    assert f"error[{code_name}]" in err
    assert len(err.strip().splitlines()) == 1
    assert json.loads(out)["decision"] == "deny"


def test_missing_file_is_bad_input() -> None:
    code, _, err = run("check", "no-such-file.json")
    assert code == EXIT_BAD_INPUT
    assert "cannot read the request" in err


def test_usage_errors_exit_4_not_2() -> None:
    assert run()[0] == EXIT_USAGE
    assert run("check")[0] == EXIT_USAGE
    assert run("check", "--format", "xml", "x.json")[0] == EXIT_USAGE
    assert run("frobnicate")[0] == EXIT_USAGE


def test_broken_rules_exit_3_with_positions(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "vocabulary.yaml").write_text((ROOT / "rules" / "vocabulary.yaml").read_text())
    (rules / "bad.yaml").write_text(
        "ruleset: bad\ntitle: T\nsource: S\nrules:\n  - {id: a, title: A, kind: permit,"
        " citation: C, when: 'purpose == \"nontax_criminal_investigaton\"', reason: r}\n"
    )
    code, out, err = run("check", "--rules", str(rules), str(EXAMPLES / "irs-ice-address-request.json"))
    assert code == EXIT_RULES
    assert out == ""
    assert "bad.yaml:5:" in err
    assert "did you mean `nontax_criminal_investigation`?" in err


def test_jsonl_streams_one_decision_per_line_and_keeps_going() -> None:
    permit = (EXAMPLES / "irs-ice-address-request.json").read_text().replace("\n", "")
    after = (EXAMPLES / "irs-ice-address-request-after-injunction.json").read_text().replace("\n", "")
    stream = "\n".join([permit, "{not json", after, "", permit]) + "\n"
    code, out, err = run("check", "--jsonl", "-", stdin=stream.encode())
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(d["decision"], d["status"]) for d in lines] == [
        ("permit", "permitted"),
        ("deny", "error"),
        ("deny", "prohibited"),
        ("deny", "error"),
        ("permit", "permitted"),
    ]
    assert lines[1]["line"] == 2 and lines[3]["line"] == 4
    assert "trace" not in lines[0]
    assert code == EXIT_BAD_INPUT
    assert "<stdin>:2:2: $: error[json_syntax]" in err


def test_jsonl_exit_codes_and_text_format() -> None:
    permit = (EXAMPLES / "irs-ice-address-request.json").read_text().replace("\n", "")
    after = (EXAMPLES / "irs-ice-address-request-after-injunction.json").read_text().replace("\n", "")
    assert run("check", "--jsonl", "-", stdin=(permit + "\n" + permit).encode())[0] == EXIT_PERMIT
    code, out, _ = run("check", "--jsonl", "-", "--format", "text", stdin=(permit + "\n" + after + "\n").encode())
    assert code == EXIT_DENY
    assert out == "permit\tpermitted\tirc-6103-i-2\ndeny\tprohibited\tddc-ctr-2025-11-21\n"


def test_jsonl_trace_flag_adds_the_trace() -> None:
    permit = (EXAMPLES / "irs-ice-address-request.json").read_text().replace("\n", "")
    _, out, _ = run("check", "--jsonl", "-", "--trace", stdin=permit.encode())
    assert json.loads(out)["trace"]


def test_jsonl_overlong_line_is_an_error_record(tmp_path: Path) -> None:
    permit = (EXAMPLES / "irs-ice-address-request.json").read_text().replace("\n", "")
    path = tmp_path / "big.jsonl"
    path.write_text("x" * 1_200_000 + "\n" + permit + "\n")
    code, out, _ = run("check", "--jsonl", str(path))
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["errors"][0]["code"] == "too_large"
    assert records[1]["decision"] == "permit"
    assert code == EXIT_BAD_INPUT


def test_python_dash_m_in_a_real_process() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "disclosure_rules",
            "check",
            str(EXAMPLES / "irs-ice-address-request.json"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["decision"] == "permit"
    bad = subprocess.run(
        [sys.executable, "-m", "disclosure_rules", "check", str(EXAMPLES / "invalid-undeclared-fact.json")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr


def test_test_command_finds_the_rules_of_a_tests_directory() -> None:
    code, out, err = run("test", str(ROOT / "rules" / "tests"))
    assert code == 0, err
    assert out.strip().endswith("scenarios in 11 files)")


def test_test_command_reports_a_failure_as_a_diff_and_exits_5(tmp_path: Path) -> None:
    scenario = tmp_path / "one.yaml"
    scenario.write_text(
        (EXAMPLES / "irs-ice-address-request.json")
        .read_text()
        .join(
            [
                "scenarios: one\ncases:\n  - name: expects the wrong thing\n    request: ",
                "\n    expect: {decision: deny}\n",
            ]
        )
    )
    code, out, _ = run("test", "--rules", str(ROOT / "rules"), str(scenario))
    assert code == 5
    assert "FAIL " in out and "one.yaml:3: one: expects the wrong thing" in out
    assert "decision  expected: deny" in out and "actual:   permit" in out
    assert out.strip().endswith("0 passed, 1 failed (1 scenarios in 1 file)")


def test_test_command_coverage_lists_every_rule() -> None:
    code, out, _ = run("test", "--coverage")
    assert code == 0
    assert "every rule was seen to apply and not to apply" in out
    assert "irc-6103-i-2" in out


def test_test_command_rejects_a_malformed_scenario_file(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("scenarios: bad\ncases:\n  - name: x\n    expect: {decison: deny}\n")
    code, _, err = run("test", str(scenario))
    assert code == 1
    assert "bad.yaml:4:14: error[unknown_key]: `expect` has no key `decison`" in err


def test_jsonl_repeated_lines_get_the_same_decision_and_repeated_bad_lines_their_own_numbers() -> None:
    permit = (EXAMPLES / "irs-ice-address-request.json").read_text().replace("\n", "")
    bad = (EXAMPLES / "invalid-undeclared-fact.json").read_text().replace("\n", "")
    stream = "\n".join([permit, bad, permit, bad]) + "\n"
    code, out, _ = run("check", "--jsonl", "-", stdin=stream.encode())
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0] == records[2]
    assert (records[1]["line"], records[3]["line"]) == (2, 4)
    assert code == EXIT_BAD_INPUT


@pytest.mark.parametrize("binary", [False, True])
def test_jsonl_from_a_file_writes_in_batches_and_loses_nothing(tmp_path: Path, binary: bool) -> None:
    from disclosure_rules.cli import OUTPUT_BATCH_LINES

    permit = (EXAMPLES / "irs-ice-address-request.json").read_text().replace("\n", "")
    after = (EXAMPLES / "irs-ice-address-request-after-injunction.json").read_text().replace("\n", "")
    lines = [[permit, after, "{bad"][i % 3] for i in range(2 * OUTPUT_BATCH_LINES + 7)]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")
    raw, string = io.BytesIO(), io.StringIO()
    out: TextIO = io.TextIOWrapper(raw, encoding="utf-8") if binary else string
    code = main(
        ["check", "--jsonl", str(path), "--format", "text"], stdin=io.BytesIO(), stdout=out, stderr=io.StringIO()
    )
    out.flush()
    text = raw.getvalue().decode() if binary else string.getvalue()
    expected = ["permit\tpermitted\tirc-6103-i-2", "deny\tprohibited\tddc-ctr-2025-11-21", "deny\terror\t-"]
    assert text.splitlines() == [expected[i % 3] for i in range(len(lines))]
    assert code == EXIT_BAD_INPUT


FLAT = EXAMPLES / "flat"


def test_columns_decide_flat_rows_and_name_the_column_in_errors() -> None:
    code, out, err = run(
        "check", "--jsonl", str(FLAT / "rows.jsonl"), "--columns", str(FLAT / "columns.json"), "--format", "text"
    )
    assert out.splitlines() == [
        "permit\tpermitted\tirc-6103-i-2",
        "deny\tprohibited\tddc-ctr-2025-11-21",
        "deny\tprohibited\tirc-6103-a",
        "deny\terror\t-",
        "deny\terror\t-",
    ]
    assert code == EXIT_BAD_INPUT
    assert ":4: $.request_signed_by: error[unknown_value]" in err
    assert ":5: $.taxpayer_id: error[unknown_column]" in err


def test_columns_for_one_row_and_from_standard_input(tmp_path: Path) -> None:
    first = (FLAT / "rows.jsonl").read_text().splitlines()[0]
    row = tmp_path / "row.json"
    row.write_text(first)
    code, out, _ = run("check", str(row), "--columns", str(FLAT / "columns.json"))
    assert code == EXIT_PERMIT and out.startswith("PERMIT (permitted)")
    code, out, _ = run("check", "--jsonl", "-", "--columns", str(FLAT / "columns.json"), stdin=(first + "\n{").encode())
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["permitted", "error"]


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ('{"day": "dte", "element": "element"}', "error[unknown_path]: column `day` names `dte`"),
        ('{"day": "date", "day": "date"}', "error[duplicate_key]"),
        ("[1]", "error[wrong_type]: a column mapping must be an object"),
        (None, "error[io]: cannot read the column mapping"),
    ],
)
def test_a_bad_column_mapping_is_bad_input(tmp_path: Path, mapping: str | None, expected: str) -> None:
    path = tmp_path / "columns.json"
    if mapping is not None:
        path.write_text(mapping)
    code, out, err = run("check", "--jsonl", str(FLAT / "rows.jsonl"), "--columns", str(path))
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert f"{path}: " in err and expected in err


def test_the_command_names_are_those_of_the_parser() -> None:
    """Only the command being run is built (a cold start), so the list of names must be the parser's own."""
    from disclosure_rules.cli import COMMANDS, _parser

    subparsers = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == COMMANDS


def test_a_command_built_alone_parses_as_in_the_whole_parser() -> None:
    from disclosure_rules.cli import COMMANDS, _parser

    for name in COMMANDS:
        alone = _parser(command=name)
        subparsers = next(a for a in alone._actions if isinstance(a, argparse._SubParsersAction))
        assert set(subparsers.choices) == {name}
    args = ["check", "--jsonl", "-", "--format", "text", "--jobs", "2"]
    assert vars(_parser(command="check").parse_args(args)) == vars(_parser().parse_args(args))


def test_a_batch_restores_the_garbage_collector_as_it_found_it() -> None:
    """A batch tunes the collector for its run (see cli._collecting_for_a_batch); a caller of main() in the
    same process, as this test suite is, gets it back as it was."""
    import gc

    before = gc.get_threshold()
    line = (EXAMPLES / "irs-ice-address-request.json").read_text().replace("\n", " ").encode() + b"\n"
    code, out, _err = run("check", "--jsonl", "-", stdin=line * 3)
    assert code == EXIT_PERMIT and len(out.splitlines()) == 3
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
