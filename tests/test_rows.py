"""A row of a new case decided by the generated row function equals the decision the long way gives it.

The row function (``disclosure_rules.decisions.rows``) reads a row by column, evaluates the rules' signature
and gives the decision its signature shares. Here every row is decided three ways, each on a fresh checker so
that no cache answers for another: by ``RecordChecker.check`` (the row function, after the first row of each
signature), by ``check_many``, and the long way (the nested request through ``Rules.check``). They must be
equal field for field, the explanation included (``Decision.__eq__`` compares it).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules.decisions.rows import RowDecision, representative
from disclosure_rules.intake.cases import DateBuckets

ROOT = Path(__file__).resolve().parent.parent
PEER_POLICY = ROOT / "benchmarks" / "policy"

PEER_COLUMNS = {
    "date": "date",
    "element": "element",
    "origin": "origin",
    "holder": "holder",
    "recipient": "recipient",
    "purpose": "purpose",
    "written_request_by_head": "facts.written_request_by_head",
    "court_order": "facts.court_order",
    "statute_is_tax": "facts.statute_is_tax",
    "taxpayer_consent": "facts.taxpayer_consent",
}

LAW_COLUMNS = {
    "date": "date",
    "element": "element",
    "holder": "holder",
    "origin": "origin",
    "recipient": "recipient",
    "purpose": "purpose",
    "in_writing": "facts.request.in_writing",
    "signed_by": "facts.request.signed_by",
    "sets_forth": "facts.request.sets_forth",
    "specific_statute": "facts.matter.specific_statute",
    "statute": "facts.matter.statute",
    "engaged": "facts.recipients.personally_engaged",
    "solely": "facts.use.solely_for_matter",
    "approved_plan": "facts.program.approved_child_support_plan",
    "row_id": "id",
}

# Values that are nearly valid, or valid to an equality test but not to the reader (`1 == True`).
HOSTILE: list[object] = [None, 1, 0, 1.0, "true", "", "IRS ", [], {}, float("nan"), 10**30, ["x"], ("address",), b"IRS"]


class _Str(str):
    """A subclass of str: equal to the value, but not a value the reader takes."""


def _fresh(rules_dir: Path | None, columns: dict[str, str]) -> Any:
    return disclosure_rules.load(rules_dir).records(columns)


def _long_way(checker: Any, row: object) -> Any:
    """The decision ``row`` gets as the request it stands for (errors reported at its columns)."""
    return checker._long_way(row)


def _peer_rows(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    vocabulary = disclosure_rules.load(PEER_POLICY).vocabulary
    rows = []
    for _ in range(count):
        row: dict[str, Any] = {
            "date": f"{rng.choice((2000, 2025, 2026))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "element": rng.choice(list(vocabulary.enums["element"].values)),
            "origin": rng.choice(list(vocabulary.enums["origin"].values)),
            "holder": rng.choice(list(vocabulary.enums["agency"].values)),
            "recipient": rng.choice(list(vocabulary.enums["agency"].values)),
            "purpose": rng.choice(list(vocabulary.enums["purpose"].values)),
        }
        for flag in ("written_request_by_head", "court_order", "statute_is_tax", "taxpayer_consent"):
            choice = rng.random()
            if choice < 0.45:
                row[flag] = True
            elif choice < 0.9:
                row[flag] = False
            elif choice < 0.95:
                row[flag] = None
        rows.append(row)
    return rows


def _law_rows(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    vocabulary = disclosure_rules.load().vocabulary
    enum = {name: list(e.values) for name, e in vocabulary.enums.items()}
    forth = ["taxpayer_name", "taxpayer_address", "taxable_periods", "statutory_authority", "specific_reasons"]
    rows = []
    for i in range(count):
        row: dict[str, Any] = {
            "date": f"{rng.choice((2001, 2002, 2024, 2025, 2026))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "element": rng.choice(enum["element"]),
            "holder": rng.choice(["IRS", "IRS", "SSA", "ICE", rng.choice(enum["agency"])]),
            "origin": rng.sample(enum["origin"], rng.randint(1, 2)),
            "recipient": rng.choice(["ICE", "FBI", "state_child_support_agency", rng.choice(enum["agency"])]),
            "purpose": rng.choice(["nontax_criminal_investigation", "child_support", rng.choice(enum["purpose"])]),
            "in_writing": rng.choice([True, False, None]),
            "signed_by": rng.choice([None, *enum["official"]]),
            "sets_forth": [f for f in forth if rng.random() < 0.85],
            "specific_statute": rng.choice([True, True, False, None]),
            "statute": rng.choice([None, "8 U.S.C. § 1253(a)(1)", f"statute {i}"]),
            "engaged": rng.choice([True, True, False, None]),
            "solely": rng.choice([True, True, False, None]),
            "approved_plan": rng.choice([True, False, None]),
            "row_id": rng.choice([None, i, f"row-{i}", 1.5, True]),
        }
        rows.append({k: v for k, v in row.items() if v is not None or rng.random() < 0.5})
    return rows


def _spoil(rows: list[dict[str, Any]], seed: int) -> list[object]:
    """The rows again, one in three with one value made hostile, a column added, or the row not a dict."""
    rng = random.Random(seed)
    spoiled: list[object] = []
    for row in rows:
        choice = rng.random()
        if choice < 0.2:
            column = rng.choice(list(row))
            spoiled.append({**row, column: rng.choice(HOSTILE)})
        elif choice < 0.25:
            column = rng.choice(list(row))
            value = row[column]
            spoiled.append({**row, column: _Str(value) if isinstance(value, str) else value})
        elif choice < 0.28:
            spoiled.append({**row, "unmapped": 1})
        elif choice < 0.3:
            spoiled.append(rng.choice([[row], "row", None, 7]))
        else:
            spoiled.append(row)
    return spoiled


def _assert_same(rules_dir: Path | None, columns: dict[str, str], rows: Sequence[object]) -> int:
    """Every row decided by the row function equals its long-way decision; returns how many were row decisions."""
    fast = _fresh(rules_dir, columns)
    batch = _fresh(rules_dir, columns)
    slow = _fresh(rules_dir, columns)
    many = list(batch.check_many(rows))
    row_decisions = 0
    for index, row in enumerate(rows):
        got = fast.check(row)
        want = _long_way(slow, row)
        row_decisions += isinstance(got, RowDecision)
        assert got == want, f"row {index}: {row!r}\n fast: {got!r}\n long: {want!r}"
        assert got.reason == want.reason and got.errors == want.errors and got.id == want.id
        if got.status == "indeterminate":  # its reason and `missing` name the facts this row leaves out
            assert got.unknown_facts == want.unknown_facts and got.missing == want.missing
        assert many[index] == want, f"row {index} (check_many): {row!r}"
    return row_decisions


def test_peer_rows_equal_the_long_way() -> None:
    rows = _peer_rows(1500, seed=1)
    assert _assert_same(PEER_POLICY, PEER_COLUMNS, rows) > 1000  # the row function decided most of them


def test_bundled_law_rows_equal_the_long_way() -> None:
    rows = _law_rows(1200, seed=2)
    # With an id column every row decision is a copy carrying its id; count those by their explanation's kind.
    assert _assert_same(None, LAW_COLUMNS, rows) >= 0
    no_ids = [{k: v for k, v in row.items() if k != "row_id"} for row in rows]
    columns = {k: v for k, v in LAW_COLUMNS.items() if k != "row_id"}
    assert _assert_same(None, columns, no_ids) > 300


def test_hostile_rows_equal_the_long_way() -> None:
    peer = _spoil(_peer_rows(800, seed=3), seed=4)
    _assert_same(PEER_POLICY, PEER_COLUMNS, peer)
    law = _spoil(_law_rows(600, seed=5), seed=6)
    _assert_same(None, LAW_COLUMNS, law)


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "date": st.one_of(st.dates().map(str), st.sampled_from(["2025-11-21", "2025-11-20", "2026-02-05"])),
            "element": st.sampled_from(["name", "address", "wages", "ssn", "dob", "phone"]),
            "origin": st.sampled_from(["tax_return", "w2", "claimant", "usps", "third_party", "representative"]),
            "holder": st.sampled_from(["IRS", "SSA", "ICE", "DOJ", "HHS"]),
            "recipient": st.sampled_from(["IRS", "SSA", "ICE", "DOJ", "HHS"]),
            "purpose": st.sampled_from(["criminal_investigation", "civil_enforcement", "statistics"]),
        },
        optional={
            flag: st.one_of(st.booleans(), st.none(), st.sampled_from(HOSTILE))
            for flag in ("written_request_by_head", "court_order", "statute_is_tax", "taxpayer_consent")
        },
    )
)
def test_no_row_is_decided_differently_from_its_request(row: dict[str, Any]) -> None:
    """Property: whatever the flags hold (a boolean, null, absent, or a value that only compares equal to one),
    the row function never decides a row otherwise than the long way; in particular never permits what the long
    way refuses."""
    checker = _fresh(PEER_POLICY, PEER_COLUMNS)
    warm = list(checker.check_many(_peer_rows(200, seed=7)))  # the signatures met, so the row function answers
    assert warm
    got = checker.check(row)
    want = _long_way(_fresh(PEER_POLICY, PEER_COLUMNS), row)
    assert got == want
    if want.decision == "deny":
        assert got.decision == "deny"


def test_a_row_decision_keeps_its_values_not_the_callers_row() -> None:
    """The explanation is built from the values the row had when decided, even if the caller changes the row."""
    checker = _fresh(None, {k: v for k, v in LAW_COLUMNS.items() if k != "row_id"})
    rows = [{k: v for k, v in row.items() if k != "row_id"} for row in _law_rows(400, seed=8)]
    decisions = list(checker.check_many(rows))
    expected = [_long_way(_fresh(None, checker.columns), row) for row in rows[-50:]]
    for row in rows[-50:]:
        row["holder"] = "ICE"
        if isinstance(row.get("origin"), list):
            row["origin"].append("tax_return")
    for decision, want in zip(decisions[-50:], expected, strict=True):
        assert decision.missing == want.missing and decision.trace == want.trace


def test_each_interval_has_a_date_of_its_own() -> None:
    import datetime

    plan = DateBuckets("date", [datetime.date(2025, 11, 21), datetime.date(2026, 2, 5), datetime.date(1, 1, 1)])
    days = representative(plan)
    for index, day in enumerate(days[1:], start=1):
        assert plan.bucket(day.isoformat()) == index
    assert plan.bucket(days[0].isoformat()) in (0, 1)


@pytest.mark.parametrize("columns", [{**PEER_COLUMNS, "origin": "origin"}])
def test_the_row_function_is_python_written_from_the_vocabulary(columns: dict[str, str]) -> None:
    """Its source names only its own identifiers and constants; no column value or row text is in it."""
    checker = _fresh(PEER_POLICY, columns)
    source = checker._fresh.__globals__["__source__"]
    assert "def decide_row(r, k=None):" in source
    assert "import" not in source and "eval" not in source and "__" not in source.replace(".__class__", "")


# -- requests: Rules.check_many decides a new case by its signature ----------------------------------------------


def _scenario_requests() -> list[object]:
    from disclosure_rules import testing
    from disclosure_rules.checker import bundled_rules_path

    suites = testing.load_suites([bundled_rules_path() / "tests"])
    return [scenario.request for suite in suites for scenario in suite.scenarios]


def _nested(row: dict[str, Any]) -> dict[str, Any]:
    """The request a bundled-law row stands for (the columns of LAW_COLUMNS at their paths)."""
    request: dict[str, Any] = {}
    for column, value in row.items():
        node = request
        *parents, last = LAW_COLUMNS.get(column, column).split(".")  # an unmapped column stays a top-level key
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return request


def _assert_requests_same(requests: Sequence[object]) -> int:
    """``check_many`` on a fresh Rules equals deciding each request alone without any cache, field for field,
    the explanation included; returns how many were decided by signature."""
    batch = disclosure_rules.load()
    alone = disclosure_rules.load(cache_size=0)
    decided = list(batch.check_many(requests))
    by_signature = 0
    for index, request in enumerate(requests):
        want = alone.check(request)
        got = decided[index]
        by_signature += isinstance(got, RowDecision)
        assert got == want, f"request {index}: {request!r}\n batch: {got!r}\n alone: {want!r}"
        assert got.reason == want.reason and got.id == want.id
        if got.status == "indeterminate":
            assert got.unknown_facts == want.unknown_facts and got.missing == want.missing
    return by_signature


def test_bundled_law_requests_equal_the_long_way() -> None:
    requests = [_nested(row) for row in _law_rows(1500, seed=9)]
    no_ids = [{k: v for k, v in r.items() if k != "id"} for r in requests]
    assert _assert_requests_same(no_ids) > 400


def test_indeterminate_rows_are_decided_by_signature_each_naming_its_own_unstated_facts() -> None:
    # The same signature (rules in the same states), rows leaving out different facts the undecided rules read.
    rules = disclosure_rules.load()
    base = [_nested(row) for row in _law_rows(1500, seed=12)]
    requests = [{k: v for k, v in r.items() if k != "id"} for r in base]
    decisions = list(rules.check_many(requests))
    by_signature = [d for d in decisions if isinstance(d, RowDecision) and d.status == "indeterminate"]
    assert len(by_signature) > 50
    assert len({d.unknown_facts for d in by_signature}) > 5
    alone = disclosure_rules.load(cache_size=0)
    for decision, request in zip(decisions, requests, strict=True):
        if isinstance(decision, RowDecision) and decision.status == "indeterminate":
            want = alone.check(request)
            assert decision == want and decision.reason == want.reason and decision.missing == want.missing


def test_scenario_and_hostile_requests_equal_the_long_way() -> None:
    scenarios = _scenario_requests()
    spoiled = [_nested(row) if isinstance(row, dict) else row for row in _spoil(_law_rows(600, seed=10), seed=11)]
    _assert_requests_same([*scenarios, *scenarios, *spoiled])


# -- a cache that is not hit is not filled -----------------------------------------------------------------------


def test_a_batch_of_new_cases_stops_filling_the_cache_and_a_repeating_one_keeps_it() -> None:
    from disclosure_rules.intake.cases import BYPASS_WINDOW

    checker = _fresh(PEER_POLICY, PEER_COLUMNS)
    distinct = {tuple(sorted(r.items())): r for r in _peer_rows(4 * BYPASS_WINDOW, seed=12)}
    new_cases = list(distinct.values())
    # In chunks, as the peer harness and a data pipeline send them: the counts carry over.
    for start in range(0, len(new_cases), 300):
        list(checker.check_many(new_cases[start : start + 300]))
    # The first window was kept, and then only rows decided the usual way (those the row function leaves to it).
    assert len(checker._cache) < len(new_cases) / 2
    assert checker._bypass[2] > 0  # and the rest skip the key and the cache

    repeating = _fresh(PEER_POLICY, PEER_COLUMNS)
    few = new_cases[:40]
    for _ in range(3 * BYPASS_WINDOW // len(few)):
        assert list(repeating.check_many(few)) == [repeating.check(r) for r in few]
    assert repeating._bypass[2] == 0 and len(repeating._cache) == len(few)

    rules = disclosure_rules.load()
    requests = [_nested({k: v for k, v in row.items() if k != "row_id"}) for row in _law_rows(2 * BYPASS_WINDOW, 13)]
    decided = list(rules.check_many(requests))
    assert rules._bypass[2] > 0 and len(rules._cache) < len(requests)
    alone = disclosure_rules.load(cache_size=0)
    assert decided[-200:] == [alone.check(r) for r in requests[-200:]]


def test_a_mapping_with_a_chain_goes_the_long_way_also_when_it_skips_the_cache() -> None:
    from disclosure_rules.intake.cases import BYPASS_WINDOW

    columns = {**{k: v for k, v in LAW_COLUMNS.items() if k != "row_id"}, "hops": "chain"}
    checker = _fresh(None, columns)
    rows = [{k: v for k, v in row.items() if k != "row_id"} for row in _law_rows(2 * BYPASS_WINDOW, seed=14)]
    decided = list(checker.check_many(rows))
    assert checker._bypass[2] > 0
    slow = _fresh(None, columns)
    assert decided[-100:] == [_long_way(slow, row) for row in rows[-100:]]
    assert not any(isinstance(d, RowDecision) for d in decided)
