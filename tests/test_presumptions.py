"""A fact tied to another fact's set (`default_when`): every reader reads it alike.

The request reader, the quick reader of ``check``, the values reader of ``check_many``, the row reader of
``Rules.records`` and the analysis's environments must all read it the same way: with the value in the set,
as stated or else presumed; with the set given without the value, false whatever is stated (reasons not set
forth show nothing); with the set left out, as stated or unknown.
"""

from __future__ import annotations

import datetime
import itertools
from pathlib import Path
from typing import Any

import pytest

import disclosure_rules
from disclosure_rules.analysis.query import query
from disclosure_rules.intake.request import RequestReader

from .conftest import MINI_VOCABULARY, write_rules

VOCABULARY = MINI_VOCABULARY + (
    "  request.shown: {type: bool, label: the reasons show relevance, default: true,\n"
    "                  default_when: {fact: request.items, includes: wages}}\n"
)

RULES = """\
ruleset: s
title: T
source: S
rules:
  - id: general
    title: General rule
    kind: forbid
    citation: C(a)
    when: holder == "IRS"
    reason: r
  - id: shown
    title: Disclosure on reasons shown
    kind: permit
    citation: C(b)
    exception_to: general
    when: holder == "IRS" and facts.request.shown
    reason: r
"""

ITEMS: list[Any] = [None, ["wages"], ["name"], ["name", "wages"], []]
SHOWN: list[Any] = [None, True, False]


def _expected(items: Any, shown: Any) -> str:
    if items is not None:  # the set given: with the value, as stated or presumed; without it, false
        shown = (True if shown is None else shown) if "wages" in items else False
    return {True: "permitted", False: "prohibited", None: "indeterminate"}[shown]


def _request(items: Any, shown: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "date": "2025-06-01",
        "element": "wages",
        "holder": "IRS",
        "recipient": "DOJ",
        "purpose": "crime",
    }
    fact: dict[str, Any] = {}
    if items is not None:
        fact["items"] = items
    if shown is not None:
        fact["shown"] = shown
    if fact:
        request["facts"] = {"request": fact}
    return request


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rules(tmp_path_factory.mktemp("presumed") / "rules", RULES, vocabulary=VOCABULARY)


CASES = list(itertools.product(ITEMS, SHOWN))


@pytest.mark.parametrize(("items", "shown"), CASES)
def test_each_reader_presumes_the_fact_only_where_the_other_fact_says_so(
    rules_dir: Path, items: Any, shown: Any
) -> None:
    want = _expected(items, shown)
    request = _request(items, shown)
    alone = disclosure_rules.load(rules_dir, cache_size=0)
    assert alone.check(request).status == want
    env, errors = RequestReader(alone.vocabulary).read(request)
    assert not errors and env.get("facts.request.shown") == {"permitted": True, "prohibited": False}.get(want)
    # A batch of new cases, decided by signature after the first of each.
    batch = disclosure_rules.load(rules_dir)
    decided = list(batch.check_many([_request(i, s) for i, s in CASES]))
    assert decided[CASES.index((items, shown))].status == want
    # Rows of flat columns, the fact's and the set's columns left out where the request leaves them out.
    columns = {c: c for c in ("date", "element", "holder", "recipient", "purpose")}
    columns.update({"items": "facts.request.items", "shown": "facts.request.shown"})
    row = {k: v for k, v in request.items() if k != "facts"}
    if items is not None:
        row["items"] = items
    if shown is not None:
        row["shown"] = shown
    records = disclosure_rules.load(rules_dir).records(columns)
    assert [d.status for d in records.check_many([row, row])] == [want, want]
    assert records.check(row).status == want


def test_the_analysis_reads_a_left_out_fact_as_the_reader_does(rules_dir: Path) -> None:
    rules = disclosure_rules.load(rules_dir)
    day = datetime.date(2025, 6, 1)
    # With the fact left out, a permit needs the set to include the value the presumption reads...
    found = query(rules, "permit", {"facts.request.shown": "absent"}, day)
    assert found.possible and found.confirmed and found.witness is not None
    assert "wages" in found.witness["facts"]["request"]["items"]
    # ...and without it there is none: the search is complete, and "never" means never.
    never = query(rules, "permit", {"facts.request.shown": "absent", "facts.request.items": "name"}, day)
    assert not never.possible
    # Stated true, but the set given without the value: never a permit either.
    contradicted = query(rules, "permit", {"facts.request.shown": "true", "facts.request.items": "name"}, day)
    assert not contradicted.possible
    stated = query(rules, "permit", {"facts.request.shown": "true", "facts.request.items": "absent"}, day)
    assert stated.possible and stated.confirmed
