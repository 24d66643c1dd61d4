"""Each bundled example gives the decision its name promises."""

from __future__ import annotations

import pytest

from disclosure_rules import Rules

from .conftest import example


@pytest.mark.parametrize(
    ("name", "decision", "status", "rule"),
    [
        ("irs-ice-address-request.json", "permit", "permitted", "irc-6103-i-2"),
        ("irs-ice-address-request-after-injunction.json", "deny", "prohibited", "ddc-ctr-2025-11-21"),
        ("irs-ice-address-request-signed-by-assistant-director.json", "deny", "prohibited", "irc-6103-a"),
        ("invalid-undeclared-fact.json", "deny", "error", None),
    ],
)
def test_example(bundled: Rules, name: str, decision: str, status: str, rule: str | None) -> None:
    d = bundled.check(example(name))
    assert (d.decision, d.status, d.rule) == (decision, status, rule)


def test_the_assistant_director_example_says_what_is_missing(bundled: Rules) -> None:
    d = bundled.check(example("irs-ice-address-request-signed-by-assistant-director.json"))
    (missing,) = d.missing
    assert missing.citation == "26 U.S.C. § 6103(i)(2)"
    (failure,) = missing.failed
    assert failure.requirement.startswith("the written request must be signed by the head of the agency")
    assert "`assistant_director` (an assistant director)" in failure.observed
