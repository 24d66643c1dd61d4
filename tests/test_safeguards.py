"""26 U.S.C. § 6103(p)(4) makes the safeguards "a condition for receiving returns or return information" for the
recipients it names. Generated from every bundled scenario: a request permitted under a rule that carries the
(p)(4) safeguards as an obligation, said instead not to keep them, is permitted under no such rule (the
disclosures (p)(4) names require them; the uses of data so received lose the hop's route)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import disclosure_rules
from disclosure_rules import testing

ROOT = Path(__file__).resolve().parent.parent

NOT_NAMED = frozenset({"irc-6103-m-2", "irc-6103-m-4", "irc-6103-m-6", "irc-6103-m-7"})
"""The (m) disclosures: law.md lists them "for agents", the lead-in of (p)(4) the rules quote does not name
them, and they keep the safeguards as an obligation only (see the CHANGELOG)."""


def _without_safeguards(request: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    changed.setdefault("facts", {}).setdefault("safeguards", {})["in_place"] = False
    return changed


def test_no_permit_that_carries_the_safeguards_survives_a_request_saying_they_are_not_kept(
    bundled: disclosure_rules.Rules,
) -> None:
    rules = bundled.book.rules
    guarded = {rid for rid, rule in rules.items() if "p4-safeguards" in rule.obligations and rid not in NOT_NAMED}
    seen: set[str] = set()
    for suite in testing.load_suites([ROOT / "rules" / "tests"]):
        for scenario in suite.scenarios:
            if not isinstance(scenario.request, dict):
                continue
            decided = bundled.check(scenario.request)
            if decided.decision != "permit" or decided.rule not in guarded:
                continue
            seen.add(decided.rule)
            again = bundled.check(_without_safeguards(scenario.request))
            assert again.decision == "deny" or again.rule not in guarded, (scenario.id, again.rule)
    # Every disclosure (p)(4) names, and every use of data received under one, is tried.
    assert seen == guarded, sorted(guarded - seen)


def test_the_m_disclosures_keep_the_safeguards_as_an_obligation_only(bundled: disclosure_rules.Rules) -> None:
    """Kept apart, and said so, so that reading them into (p)(4) is a decision someone makes on the statute."""
    for rid in NOT_NAMED:
        rule = bundled.book.rules[rid]
        assert "p4-safeguards" in rule.obligations
        assert "facts.safeguards.in_place" not in bundled.compiled.rules[rid].reads.paths
