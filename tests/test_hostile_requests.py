"""Hostile requests (issue 9): every entry point gives the decision the uncached, validating path gives, and
an invalid request is never permitted, whatever was decided before it.

The entry points: ``check`` (cached), ``check_many``, ``check_json``, ``records``, and the command line
(one request, and JSON Lines streams from standard input and from a file: one record per line, in order,
and the documented exit code). Requests come from :mod:`tests.hostile`, near the examples.
"""

from __future__ import annotations

import copy
import io
import json
import random
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules import Decision, Rules
from disclosure_rules.cli import EXIT_BAD_INPUT, EXIT_DENY, EXIT_PERMIT, _placed_in_file, main
from disclosure_rules.intake.request import MAX_SET_ITEMS
from disclosure_rules.reading.jsontext import JsonInputError, loads_strict
from disclosure_rules.render.json import render_json

from . import hostile
from .conftest import example

RULES: Rules = disclosure_rules.load(cache_size=10_000)
for _seed in hostile.SEEDS:
    RULES.check(_seed)  # every example's case in the cache: a fuzzed neighbour must not meet it
PERMIT = example("irs-ice-address-request.json")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def strict(line: bytes, where: str = "") -> Decision:
    """What a JSON line must be decided as: the strict parser, then the uncached path."""
    try:
        return RULES.decide_uncached(loads_strict(line, where))
    except JsonInputError as exc:
        return RULES.invalid([exc.diagnostic])


def cli(argv: list[str], stdin: bytes) -> tuple[int, str, str]:
    """The command line over the shared rules (loading them again for every example would cost 0.2 s)."""
    out, err = io.StringIO(), io.StringIO()
    with mock.patch("disclosure_rules.cli.load", return_value=RULES):
        code = main(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def cli_stream(lines: list[bytes]) -> tuple[int, list[dict[str, Any]]]:
    code, out, _err = cli(["check", "--jsonl", "-"], b"\n".join(lines) + b"\n")
    return code, [json.loads(line) for line in out.splitlines()]


def record(decision: Decision, line: int) -> dict[str, Any]:
    """The record the stream writes for ``decision`` on line ``line`` (a syntax error placed in the file)."""
    decision = _placed_in_file(RULES, decision, line, "<stdin>")
    doc: dict[str, Any] = json.loads(render_json(decision, trace=False, indent=None))
    return {"line": line, **doc} if decision.status == "error" else doc


def documented_exit(decisions: list[Decision]) -> int:
    if any(d.status == "error" for d in decisions):
        return EXIT_BAD_INPUT
    return EXIT_DENY if any(d.decision != "permit" for d in decisions) else EXIT_PERMIT


# -- issue 9, failure 1: a null under an undeclared name met a valid request's cached permit ------------


@pytest.mark.parametrize(
    ("seed", "where"),
    [
        ("irs-ice-address-request.json", ()),
        ("irs-ice-address-request.json", ("facts",)),
        ("irs-ice-address-request.json", ("facts", "request")),
        ("ice-criminal-investigators-use-addresses-before-dmass-order.json", ("chain", 0)),
    ],
)
def test_cache_permit_to_an_undeclared_null_fact_bad_ok_bad(seed: str, where: tuple[str | int, ...]) -> None:
    rules = disclosure_rules.load()
    good = example(seed)
    bad = copy.deepcopy(good)
    node: Any = bad
    for step in where:
        node = node[step]
    node["signd_by"] = None  # a name the vocabulary does not declare, with a null value
    assert rules.check(good).decision == "permit"
    assert rules.check(bad).status == "error"
    assert [d.status for d in rules.check_many([bad, good, bad])] == ["error", "permitted", "error"]
    assert rules.check_json(json.dumps(bad)).status == "error"
    assert rules.check_json(json.dumps(bad).encode()).status == "error"
    code, records = cli_stream([json.dumps(r).encode() for r in (bad, good, bad)])
    assert [r["status"] for r in records] == ["error", "permitted", "error"]
    assert code == EXIT_BAD_INPUT


FIELD_COLUMNS = {name: name for name in ("date", "element", "holder", "origin", "recipient", "purpose")}
"""Each field of a request in a column of its own name."""
FIELD_ROW = {
    "date": "2025-08-07",
    "element": "address",
    "holder": "IRS",
    "origin": ["irs_records"],
    "recipient": "ICE",
    "purpose": "nontax_criminal_investigation",
}
"""The fields of the bundled (i)(2) example, as a row under :data:`FIELD_COLUMNS`."""


def test_cache_permit_to_an_undeclared_null_fact_in_a_record() -> None:
    rules = disclosure_rules.load()
    checker = rules.records({**FIELD_COLUMNS, "signed_by": "facts.request.signed_by"})
    row = {**FIELD_ROW, "signed_by": "agency_head"}
    bad = dict(row, signd_by=None)
    assert [d.status for d in checker.check_many([bad, row, bad])][0::2] == ["error", "error"]
    assert checker.check(bad).status == "error"


def test_a_row_with_a_stray_column_is_an_error_when_its_first_column_holds_an_empty_set() -> None:
    # The batch loop once marked a row with a column the mapping does not name by putting a sentinel in its
    # first column's place; a list there was then read as an empty set, and the row met a cached decision.
    rules = disclosure_rules.load()
    checker = rules.records({"sets_forth": "facts.request.sets_forth", **FIELD_COLUMNS})  # the set column first
    row = {"sets_forth": [], **FIELD_ROW}
    assert checker.check(row).status != "error"
    for stray in (dict(row, extra=None), dict(row, extra=1)):
        assert checker.check(stray).status == "error"
        assert [d.status for d in checker.check_many([row, stray])][1] == "error"


# -- a list past its limit, of repeats that make a valid set, met the valid set's cached permit ----------


def test_a_list_past_its_limit_is_an_error_even_when_its_set_was_cached() -> None:
    rules = disclosure_rules.load()
    good = example("irs-ice-address-request.json")
    bad = copy.deepcopy(good)
    listed = good["facts"]["request"]["sets_forth"]
    bad["facts"]["request"]["sets_forth"] = listed * (MAX_SET_ITEMS // len(listed) + 1)
    assert len(set(bad["facts"]["request"]["sets_forth"])) == len(listed) < MAX_SET_ITEMS
    assert rules.check(good).decision == "permit"
    assert rules.check(bad).status == "error"
    assert [d.status for d in rules.check_many([bad, good, bad])] == ["error", "permitted", "error"]
    assert rules.check_json(json.dumps(bad).encode()).status == "error"
    code, records = cli_stream([json.dumps(r).encode() for r in (good, bad)])
    assert [r["status"] for r in records] == ["permitted", "error"]
    assert code == EXIT_BAD_INPUT
    checker = rules.records(FIELD_COLUMNS)
    row = {k: good[k] for k in checker.columns}
    long_row = dict(row, origin=row["origin"] * (MAX_SET_ITEMS + 1))
    assert checker.check(row).status != "error"
    assert checker.check(long_row).status == "error"
    assert [d.status for d in checker.check_many([row, long_row])][1] == "error"


# -- every entry point agrees with the uncached path ---------------------------------------------------


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_every_entry_point_decides_as_the_uncached_path(rnd: random.Random, count: int) -> None:
    requests = [hostile.fuzz_request(RULES.vocabulary, rnd) for _ in range(count)]
    expected = [RULES.decide_uncached(r) for r in requests]
    for request, want in zip(requests, expected, strict=True):
        got = RULES.check(request)
        assert got == want
        assert got.decision != "permit" or (got.status == "permitted" and not got.errors)
    assert list(RULES.check_many(requests)) == expected
    lines = [hostile.json_line(r, rnd) for r in requests]
    line_decisions = [strict(line) for line in lines]
    assert [RULES.check_json(line) for line in lines] == line_decisions
    code, records = cli_stream(lines)
    assert len(records) == len(lines)
    assert records == [record(d, i) for i, d in enumerate(line_decisions, start=1)]
    assert code == documented_exit(line_decisions)


@SETTINGS
@given(st.randoms(use_true_random=False))
def test_the_single_request_command_decides_as_the_uncached_path(rnd: random.Random) -> None:
    request = hostile.fuzz_request(RULES.vocabulary, rnd)
    line = hostile.json_line(request, rnd)
    want = strict(line, "<stdin>")
    code, out, err = cli(["check", "-", "--format", "json"], line)
    assert json.loads(out) == json.loads(render_json(want, trace=False))
    assert code == documented_exit([want])
    assert "internal error" not in err


# -- issue 9, failure 7: unclear messages ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        (b"", "empty", "the request is empty (nothing but white space)"),
        (b"   \t ", "empty", "the request is empty (nothing but white space)"),
        (
            b"\xef\xbb\xbf{}",
            "json_syntax",
            "1:1: the text starts with a byte order mark (BOM), which JSON does not allow",
        ),
        (b'{"date": ' + b"9" * 5000 + b"}", "json_value", "a number has more than 4,300 digits"),
    ],
)
def test_blank_line_bom_and_huge_integer_messages(line: bytes, code: str, message: str) -> None:
    (error,) = RULES.check_json(line).errors
    assert (error.code, error.message) == (code, message)
    assert "set_int_max_str_digits" not in str(error)
    _code, records = cli_stream([b"{}", line])
    placed = message.removeprefix("1:1: ")
    assert records[1]["line"] == 2 and records[1]["errors"][0]["message"] == placed
    if placed != message:
        assert (records[1]["errors"][0]["line"], records[1]["errors"][0]["column"]) == (2, 1)


# -- flat records: a row is decided as the request its columns make ---------------------------------

COLUMNS = {path.replace(".", "__"): path for path in [*RULES.vocabulary.fields, *RULES.vocabulary.facts, "chain"]}
CHECKER = RULES.records(COLUMNS)


def _row(request: Any, rnd: random.Random) -> Any:
    """The row for a fuzzed request: each declared path's value in its column (a fact group that is not an
    object, or a name not declared, stays as a column of its own, which the mapping does not name)."""
    if not isinstance(request, dict):
        return request
    row: dict[str, Any] = {}
    for key, value in request.items():
        if key == "facts" and isinstance(value, dict):
            for path, item in _facts(value, "facts"):
                row[path.replace(".", "__")] = item
        else:
            row[key.replace(".", "__") if key in COLUMNS.values() else key] = value
    if rnd.random() < 0.2:
        row[rnd.choice(["signd_by", "facts__request__signd_by", "x"])] = None
    return row


def _facts(node: dict[str, Any], prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in node.items():
        path = f"{prefix}.{key}"
        if isinstance(value, dict) and path not in COLUMNS.values():
            out.extend(_facts(value, path))
        else:
            out.append((path, value))
    return out


@SETTINGS
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_records_decide_a_row_as_its_request(rnd: random.Random, count: int) -> None:
    rows = [_row(hostile.fuzz_request(RULES.vocabulary, rnd), rnd) for _ in range(count)]
    expected = []
    for row in rows:
        request, errors = CHECKER.request(row)
        want = RULES.invalid(errors) if errors else RULES.decide_uncached(request)
        expected.append((want.decision, want.status, want.rule))
    # The columns in another order too: what the generated loop does with the first column once mattered.
    shuffled = RULES.records(dict(rnd.sample(list(COLUMNS.items()), len(COLUMNS))))
    for checker in (CHECKER, shuffled):
        assert [(d.decision, d.status, d.rule) for d in map(checker.check, rows)] == expected
        assert [(d.decision, d.status, d.rule) for d in checker.check_many(rows)] == expected
        assert [(d.decision, d.status, d.rule) for d in checker.check_many([*rows, *rows])] == expected * 2


def test_a_megabyte_of_unknown_keys_is_refused_quickly_not_searched_one_by_one() -> None:
    import time

    request = copy.deepcopy(PERMIT)
    request["facts"].update({f"k{i}": 1 for i in range(60_000)})
    started = time.process_time()
    (error,) = RULES.check_json(json.dumps(request)).errors
    # Refused at the count: about 0.07 s of processor time, where searching each key takes over 1.5 s.
    assert time.process_time() - started < 1.0
    assert (error.code, error.message) == ("too_large", "the request has more than 10,000 keys")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(1, 40))
def test_json_lines_from_a_file_one_record_per_line_in_order_with_the_documented_exit(
    rnd: random.Random, count: int
) -> None:
    """From a file decisions go out in batches, and as text: still one line per request, in order."""
    import tempfile

    lines = [hostile.json_line(hostile.fuzz_request(RULES.vocabulary, rnd), rnd) for _ in range(count)]
    decisions = [strict(line) for line in lines]
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl") as f:
        # The last line may lack its newline (unless it is empty: then there is no last line).
        f.write(b"\n".join(lines) + (b"\n" if rnd.random() < 0.8 or not lines[-1] else b""))
        f.flush()
        code, out, _err = cli(["check", "--jsonl", f.name, "--format", "text"], b"")
    assert out.splitlines() == [f"{d.decision}\t{d.status}\t{d.rule or '-'}" for d in decisions]
    assert code == documented_exit(decisions)
