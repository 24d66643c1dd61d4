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


def _without_safeguards(request: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(request)
    changed.setdefault("facts", {}).setdefault("safeguards", {})["in_place"] = False
    return changed


def test_no_permit_that_carries_the_safeguards_survives_a_request_saying_they_are_not_kept(
    bundled: disclosure_rules.Rules,
) -> None:
    rules = bundled.book.rules
    guarded = {rid for rid, rule in rules.items() if "p4-safeguards" in rule.obligations}
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
