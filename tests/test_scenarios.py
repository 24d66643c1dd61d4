"""The scenario files under rules/tests run under pytest too: one test per case."""

from __future__ import annotations

import pytest

from disclosure_rules import Rules, testing
from disclosure_rules.checker import bundled_rules_path

SUITES = testing.load_suites([bundled_rules_path() / "tests"])
CASES = [scenario for suite in SUITES for scenario in suite.scenarios]


@pytest.mark.parametrize("scenario", CASES, ids=[c.id for c in CASES])
def test_scenario(bundled: Rules, scenario: testing.Scenario) -> None:
    result = testing.check_scenario(bundled, scenario)
    assert result.passed, testing.format_failure(result)


def test_every_bundled_rule_is_exercised_both_ways(bundled: Rules) -> None:
    results = testing.run(bundled, SUITES)
    never = [c.rule for c in testing.coverage(bundled, results) if not c.both_ways]
    assert never == []


def test_there_are_at_least_80_scenarios() -> None:
    assert len(CASES) >= 80


def test_every_scenario_states_decision_status_and_the_controlling_rule() -> None:
    incomplete = [
        c.id
        for c in CASES
        if not {"decision", "status"} <= set(c.expect)
        or not ({"rule", "citation"} & set(c.expect))
        or (c.expect["decision"] == "permit" and "obligations" not in c.expect)
    ]
    assert incomplete == []
