"""The engine's fast paths agree with the slow one: decide first and explain on demand, a case key of only
what the rules read, and the request's own ``id``.

* A decision's explanation (chain, `missing`, trace, provenance) is built on first read, and equals what the
  reference (an uncached decision, read at once) says.
* ``check`` with a warm cache, ``decide_uncached``, ``check_many``, ``check_json`` and the flat-record checker
  agree on fuzzed requests (hypothesis), whatever was cached before.
* A value no rule reads never splits the cache, and an invalid one is still an error after a valid request of
  the same case was cached; the order of a set-valued list does not matter.
* An ``id`` is echoed in every decision and format, is never part of the case, and must be a JSON scalar.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules.intake.cases import unread_paths
from disclosure_rules.render.json import decision_document, render_json
from disclosure_rules.render.text import render_text

from .conftest import example
from .test_properties import SETTINGS, junk, mutated_requests

RULES = disclosure_rules.load(cache_size=10_000)
PERMIT = example("irs-ice-address-request.json")
STATUTE = ("facts", "matter", "statute")


def _with(request: Any, path: tuple[str, ...], value: Any) -> Any:
    out = copy.deepcopy(request)
    target = out
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return out


def test_the_explanation_is_built_only_when_read() -> None:
    rules = disclosure_rules.load()
    denied = _with(PERMIT, ("purpose",), "civil_immigration_enforcement")
    decision = rules.check(denied)
    assert not decision.explanation.built
    assert decision.decision == "deny" and decision.reason
    reference = rules.decide_uncached(denied)
    assert decision.trace == reference.trace and decision.missing == reference.missing
    assert decision.explanation.built
    assert decision.chain == reference.chain and decision.provenance == reference.provenance
    assert decision_document(decision) == decision_document(reference)


def test_the_bundled_rules_leave_only_the_statute_text_out_of_the_key() -> None:
    assert unread_paths(RULES.vocabulary, RULES.read_paths) == {"facts.matter.statute"}


def test_a_value_no_rule_reads_never_splits_the_cache() -> None:
    rules = disclosure_rules.load()
    first = rules.check(PERMIT)
    for text in ("18 U.S.C. § 1", "", "x" * 10_000):
        other = _with(PERMIT, STATUTE, text)
        assert rules._key(other) == rules._key(PERMIT)
        assert rules.check(other) is first
        assert rules.decide_uncached(other) == first


def test_an_invalid_value_no_rule_reads_is_still_an_error_after_its_case_was_cached() -> None:
    rules = disclosure_rules.load()
    assert rules.check(PERMIT).permitted
    for bad in (5, True, ["8 U.S.C."], {"a": 1}, "x" * 10_001):
        request = _with(PERMIT, STATUTE, bad)
        decision = rules.check(request)
        assert decision.status == "error", bad
        assert next(iter(rules.check_many([request]))).status == "error"
        assert rules.check_json(json.dumps(request).encode()).status == "error"
    # An undeclared name keeps the request away from every key, null or not.
    for junk_value in (None, "x"):
        assert rules._key(_with(PERMIT, ("facts", "matter", "statut"), junk_value)) is None


def test_the_order_and_repeats_of_a_set_do_not_split_the_cache() -> None:
    rules = disclosure_rules.load()
    first = rules.check(PERMIT)
    items = PERMIT["facts"]["request"]["sets_forth"]
    for variant in (list(reversed(items)), items + items[:2]):
        request = _with(PERMIT, ("facts", "request", "sets_forth"), variant)
        assert rules.check(request) is first
    assert rules._key(_with(PERMIT, ("origin",), "irs_records")) == rules._key(PERMIT)


def test_an_id_is_echoed_and_never_decides() -> None:
    rules = disclosure_rules.load()
    plain = rules.check(PERMIT)
    for request_id in ("case-17", 17, 1.5, False, "é" * 1_000):
        request = {**PERMIT, "id": request_id}
        assert rules._key(request) == rules._key(PERMIT)
        for decision in (
            rules.check(request),
            next(iter(rules.check_many([request]))),
            rules.check_json(json.dumps(request).encode()),
            rules.check_json(json.dumps(request)),
        ):
            assert decision.id == request_id and decision == rules.decide_uncached(request)
            assert decision.explanation is plain.explanation  # shared, built at most once
            assert json.loads(render_json(decision))["id"] == request_id
            assert json.dumps(request_id, ensure_ascii=False) in render_text(decision)
    assert rules.check(PERMIT).id is None
    assert "id" not in decision_document(plain)


def test_an_id_that_is_not_a_scalar_is_an_error_and_an_error_echoes_a_valid_id() -> None:
    rules = disclosure_rules.load()
    rules.check(PERMIT)
    for bad in ([1], {"a": 1}, "x" * 1_001, float("inf")):
        decision = rules.check({**PERMIT, "id": bad})
        assert decision.status == "error" and decision.id is None
        assert decision.errors[0].path == "$.id"
    invalid = rules.check({**PERMIT, "element": "nope", "id": 7})
    assert invalid.status == "error" and invalid.id == 7


def test_a_column_can_give_the_id() -> None:
    records = RULES.records(
        {
            "n": "id",
            "date": "date",
            "element": "element",
            "holder": "holder",
            "recipient": "recipient",
            "purpose": "purpose",
            "origin": "origin",
        }
    )
    row = {
        "n": "row-1",
        "date": "2025-08-07",
        "element": "address",
        "holder": "IRS",
        "recipient": "ICE",
        "purpose": "nontax_criminal_investigation",
        "origin": ["irs_records"],
    }
    first = records.check(row)
    again = [records.check({**row, "n": 2}), *records.check_many([{**row, "n": 3}, {**row, "n": None}])]
    assert first.id == "row-1" and [d.id for d in again] == [2, 3, None]
    assert len({d.decision for d in [first, *again]}) == 1
    assert records.check({**row, "n": [1]}).status == "error"


ids = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.booleans(), junk)


@st.composite
def fuzzed(draw: st.DrawFn) -> Any:
    request = draw(mutated_requests())
    if isinstance(request, dict) and draw(st.booleans()):
        request["id"] = draw(ids)
    if isinstance(request, dict) and isinstance(request.get("facts"), dict) and draw(st.booleans()):
        matter = request["facts"].get("matter")
        if isinstance(matter, dict):
            matter["statute"] = draw(st.one_of(st.text(max_size=6), junk))
    return request


@SETTINGS
@given(fuzzed(), st.lists(fuzzed(), max_size=3))
def test_every_way_of_checking_agrees(request: Any, before: list[Any]) -> None:
    for earlier in [PERMIT, *before]:  # neighbouring cases in the cache
        RULES.check(earlier)
    reference = RULES.decide_uncached(request)
    assert RULES.check(request) == reference
    assert list(RULES.check_many([request])) == [reference]
    assert not (reference.status == "error" and reference.permitted)
    try:
        text = json.dumps(request, allow_nan=False)
    except (TypeError, ValueError):
        return
    parsed = json.loads(text)
    assert RULES.check_json(text.encode()) == RULES.check(parsed) == RULES.decide_uncached(parsed)


def test_the_ledger_records_the_request_id_when_no_envelope_gives_one(tmp_path: Any) -> None:
    import sqlite3

    from disclosure_rules.ledger import Envelope, open_ledger

    target = tmp_path / "ledger.sqlite"
    ledger = open_ledger(str(target))
    try:
        ledger.check(RULES, {**PERMIT, "id": "case-9"})
        ledger.check(RULES, {**PERMIT, "id": 10})
        list(ledger.check_many(RULES, [Envelope({**PERMIT, "id": "inner"}, request_id="outer"), PERMIT]))
    finally:
        ledger.close()
    with sqlite3.connect(target) as db:
        ids = [row[0] for row in db.execute("SELECT request_id FROM records ORDER BY seq")]
    assert ids == ["case-9", "10", "outer", None]


def test_the_trace_is_built_only_when_read_and_equals_the_one_built_at_once() -> None:
    rules = disclosure_rules.load(cache_size=0)
    request = {**example("irs-ice-address-request.json"), "purpose": "civil_immigration_enforcement"}
    lazy = rules.check(request)
    assert lazy.missing or lazy.chain  # the explanation is built...
    explanation = lazy.explanation.get()
    assert explanation._trace is None  # ...and its trace is not
    trace = lazy.trace
    assert trace and explanation._trace is trace
    eager = rules.check(request)
    assert eager.trace == trace and eager == lazy
