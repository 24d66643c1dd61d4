"""Flat records (``Rules.records``): a row is decided as the request its columns make, errors name columns."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules import ColumnsError, Decision, RecordChecker, Rules

from .conftest import EXAMPLES, example
from .test_properties import twin

RULES: Rules = disclosure_rules.load(cache_size=10_000)


def column_of(path: str) -> str:
    """`facts.request.signed_by` -> `request_signed_by`: a flat column name for each request path."""
    return path.removeprefix("facts.").replace(".", "_")


COLUMNS = {column_of(p): p for p in [*RULES.vocabulary.fields, *RULES.vocabulary.facts, "chain"]}


def flatten(request: dict[str, Any]) -> dict[str, Any]:
    """The row that stands for ``request`` under :data:`COLUMNS`."""
    row: dict[str, Any] = {}

    def walk(prefix: str, obj: dict[str, Any]) -> None:
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and path.startswith("facts"):
                walk(path, value)
            else:
                row[column_of(path)] = value

    walk("", request)
    return row


PERMIT = example("irs-ice-address-request.json")
PERMIT_ROW = flatten(PERMIT)


def fresh(cache_size: int = 10_000) -> RecordChecker:
    return disclosure_rules.load(cache_size=cache_size).records(COLUMNS)


CHECKER = fresh()


def same(a: Decision, b: Decision) -> bool:
    """Equal decisions, except where an error is located: a row names columns, a request names paths."""
    if a.status == "error" or b.status == "error":
        return (a.decision, a.status, codes(a)) == (b.decision, b.status, codes(b))
    return a == b


def codes(decision: Decision) -> list[str]:
    # An undeclared fact in a request is, in a row, a column the mapping does not name.
    unknown = {"unknown_fact": "unknown_column", "unknown_key": "unknown_column"}
    return sorted(unknown.get(e.code, e.code) for e in decision.errors)  # a row's errors sort by column


def test_row_means_the_request_its_columns_make() -> None:
    request, errors = CHECKER.request(PERMIT_ROW)
    assert errors == []
    assert request == PERMIT


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_decides_the_same_as_a_row(path: Path) -> None:
    request = json.loads(path.read_text())
    expected = RULES.check(request)
    checker = fresh()
    row = flatten(request)
    first = checker.check(row)
    again = checker.check(row)  # from the record cache, for a valid request
    assert same(first, expected)
    assert again == first


def test_the_permit_and_its_denials_by_row() -> None:
    checker = fresh()
    assert checker.check(PERMIT_ROW).decision == "permit"
    assert checker.check(dict(PERMIT_ROW, date="2025-11-21")).status == "prohibited"
    signed = checker.check(dict(PERMIT_ROW, request_signed_by="assistant_director"))
    assert signed.decision == "deny" and signed.missing


def test_a_column_not_in_the_mapping_is_an_error_at_that_column() -> None:
    decision = CHECKER.check(dict(PERMIT_ROW, request_signed_bye="agency_head"))
    assert decision.status == "error"
    [error] = decision.errors
    assert error.code == "unknown_column"
    assert error.path == "$.request_signed_bye"
    assert error.help is not None and "request_signed_by" in error.help


def test_an_invalid_value_is_reported_at_its_column_not_its_request_path() -> None:
    decision = CHECKER.check(dict(PERMIT_ROW, request_signed_by="agency_haed", origin=["irs_records", "tax_retrun"]))
    assert decision.status == "error"
    assert [e.path for e in decision.errors] == ["$.origin[1]", "$.request_signed_by"]
    assert "$.request_signed_by" in decision.reason or "$.origin[1]" in decision.reason
    assert "facts" not in decision.reason


def test_a_missing_column_leaves_its_path_out_and_a_null_is_the_same() -> None:
    without = {k: v for k, v in PERMIT_ROW.items() if k != "recipients_personally_engaged"}
    with_null = dict(PERMIT_ROW, recipients_personally_engaged=None)
    request = copy.deepcopy(PERMIT)
    del request["facts"]["recipients"]
    expected = RULES.check(request)
    assert expected.status == "indeterminate"
    assert fresh().check(without) == expected
    assert fresh().check(with_null) == expected
    missing_date = fresh().check({k: v for k, v in PERMIT_ROW.items() if k != "date"})
    assert missing_date.status == "error" and [e.path for e in missing_date.errors] == ["$.date"]


@pytest.mark.parametrize("impostor", [1, 1.0, 0, "true", None, [True]])
def test_a_value_equal_to_a_boolean_is_not_one_even_after_the_boolean_was_cached(impostor: object) -> None:
    checker = fresh()
    assert checker.check(PERMIT_ROW).decision == "permit"  # now (..., True, ...) is a cached key
    row = dict(PERMIT_ROW, request_in_writing=impostor)
    request = copy.deepcopy(PERMIT)
    request["facts"]["request"]["in_writing"] = impostor
    expected = RULES.check(request)
    assert expected.decision == "deny"
    assert same(checker.check(row), expected)
    assert same(next(iter(checker.check_many([row]))), expected)


@pytest.mark.parametrize("row", [None, [], "a row", 3, [["date", "2025-08-07"]]])
def test_a_row_that_is_not_an_object_is_an_error(row: object) -> None:
    decision = CHECKER.check(row)
    assert decision.status == "error"
    assert decision.errors[0].code == "not_an_object" and decision.errors[0].path == "$"


def test_dates_in_one_interval_share_a_decision_and_a_bad_date_is_an_error() -> None:
    checker = fresh()
    a = checker.check(dict(PERMIT_ROW, date="2025-08-07"))
    b = checker.check(dict(PERMIT_ROW, date="2025-09-30"))
    assert a is b
    for bad in ["2025-02-30", "2025-8-7", 20250807, ["2025-08-07"]]:
        decision = checker.check(dict(PERMIT_ROW, date=bad))
        assert decision.status == "error" and decision.errors[0].path == "$.date", bad


def test_check_many_yields_in_order_whatever_each_row_is() -> None:
    rows: list[object] = [
        PERMIT_ROW,
        dict(PERMIT_ROW, request_signed_by="assistant_director"),
        dict(PERMIT_ROW, stray=1),
        "not a row",
        PERMIT_ROW,
        dict(PERMIT_ROW, origin="irs_records"),
        dict(PERMIT_ROW, date="2025-12-01"),
        dict(PERMIT_ROW, request_in_writing=1),
    ]
    checker = fresh()
    batch = list(checker.check_many(rows))
    single = [fresh().check(r) for r in rows]
    assert [(d.decision, d.status, d.rule) for d in batch] == [(d.decision, d.status, d.rule) for d in single]
    assert [d.decision for d in batch] == ["permit", "deny", "deny", "deny", "permit", "permit", "deny", "deny"]


def test_the_record_cache_is_bounded() -> None:
    checker = fresh(cache_size=3)
    for day in range(1, 29):
        for head in ["agency_head", "assistant_director"]:
            checker.check(dict(PERMIT_ROW, date=f"2025-02-{day:02d}", request_signed_by=head, matter_statute=str(day)))
    assert 0 < len(checker._cache) <= 3


def test_without_a_cache_nothing_is_remembered() -> None:
    checker = fresh(cache_size=0)
    assert checker.check(PERMIT_ROW).decision == "permit"
    assert checker.check(PERMIT_ROW).decision == "permit"
    assert not checker._cache


def test_a_column_mapping_is_checked_when_it_is_made() -> None:
    with pytest.raises(ColumnsError) as caught:
        RULES.records(
            {
                "when": "date",
                "what": "elemnt",
                "holder": "holder",
                "holder2": "holder",
                "": "recipient",
                "signed": "facts.request.signed_by",
                "group": "facts.request",
            }
        )
    codes = {(d.code, d.path) for d in caught.value.diagnostics}
    assert ("unknown_path", "$.what") in codes
    assert ("duplicate_path", "$.holder2") in codes
    assert ("unknown_path", "$.group") in codes
    assert any(code == "wrong_type" for code, _ in codes)
    # `element`, `recipient` and `purpose` are required and no valid column gives them.
    assert {d.message.split("`")[1] for d in caught.value.diagnostics if d.code == "unmapped_field"} == {
        "element",
        "recipient",
        "purpose",
    }
    what = next(d for d in caught.value.diagnostics if d.path == "$.what")
    assert what.help is not None and "element" in what.help
    with pytest.raises(ColumnsError):
        RULES.records(["date"])  # type: ignore[arg-type]  # deliberately a list, not a mapping: refused at run time


def test_a_columns_error_is_a_value_error_of_this_library() -> None:
    with pytest.raises(ValueError, match=r"(?s)2 errors in the column mapping:.*did you mean `date`"):
        RULES.records({**{c: p for c, p in COLUMNS.items() if p != "date"}, "day": "dte"})
    assert issubclass(ColumnsError, disclosure_rules.DisclosureRulesError)


# --- properties ---------------------------------------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1, 2),
    st.floats(allow_nan=True),
    st.sampled_from(["2025-13-01", "IRS", "agency_head", "irs_records", "true", "", "2025-11-21"]),
    st.lists(st.sampled_from(["irs_records", "tax_return", 1]), max_size=2),
    st.dictionaries(st.sampled_from(["a", "in_writing"]), st.booleans(), max_size=1),
)
BASES = [flatten(json.loads(p.read_text())) for p in sorted(EXAMPLES.glob("*.json"))]


@st.composite
def rows(draw: st.DrawFn) -> Any:
    """An example's row with a few columns changed, removed, added or replaced by junk."""
    row = dict(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(0, 3))):
        column = draw(st.sampled_from([*COLUMNS, "stray"]))
        action = draw(st.sampled_from(["junk", "drop", "copy", "twin"]))
        if action == "drop":
            row.pop(column, None)
        elif action == "twin":
            if column in row:
                row[column] = twin(row[column])
        elif action == "copy":
            other = draw(st.sampled_from(BASES))
            if column in other:
                row[column] = other[column]
        else:
            row[column] = draw(junk)
    return row


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rows(), min_size=1, max_size=6))
def test_a_row_is_decided_as_its_request_whether_cached_or_not(batch: list[Any]) -> None:
    expected = []
    for row in batch:
        request, errors = CHECKER.request(row)
        expected.append(RULES.decide_uncached(request) if not errors else None)
    for got in (list(CHECKER.check_many(batch)), [CHECKER.check(r) for r in batch]):
        for row, want, decision in zip(batch, expected, got, strict=True):
            if want is None:
                assert decision.status == "error" and decision.errors[0].code == "unknown_column", row
            else:
                assert same(decision, want), row
            if decision.status == "error":
                assert decision.decision == "deny"
                assert all(e.path is None or "facts" not in e.path for e in decision.errors)


def test_a_sparse_row_with_lists_is_served_from_the_record_cache() -> None:
    checker = fresh()
    first = checker.check(PERMIT_ROW)
    assert checker._key(PERMIT_ROW) in checker._cache
    assert len(PERMIT_ROW) < len(COLUMNS)  # most facts are not stated
    assert checker.check(dict(PERMIT_ROW)) is first
    assert next(iter(checker.check_many([dict(PERMIT_ROW)]))) is first


def test_a_new_case_read_by_column_is_decided_exactly_as_its_request_explanation_and_all() -> None:
    rules = disclosure_rules.load()
    checker = rules.records(COLUMNS)
    for path in sorted(EXAMPLES.glob("*.json")):
        request = json.loads(path.read_text())
        row = flatten(request)
        want = rules.decide_uncached(request)
        if want.status == "error":  # said at the row's column, not the request's path: the tests above
            continue
        for got in (checker.check(row), next(iter(fresh().check_many([row])))):
            assert got == want  # every field, the explanation included (Decision.__eq__ reads it)
            assert (got.missing, got.trace, got.chain, got.provenance) == (
                want.missing,
                want.trace,
                want.chain,
                want.provenance,
            )
