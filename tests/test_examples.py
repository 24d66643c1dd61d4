"""Each bundled example gives the decision its name promises."""

from __future__ import annotations

import pytest

from disclosure_rules import Rules

from .conftest import EXAMPLES, example

EXPECTED = [
    ("irs-ice-address-request.json", "permit", "permitted", "irc-6103-i-2"),
    ("irs-ice-address-request-after-injunction.json", "deny", "prohibited", "ddc-ctr-2025-11-21"),
    ("irs-ice-address-request-signed-by-assistant-director.json", "deny", "prohibited", "irc-6103-a"),
    ("invalid-undeclared-fact.json", "deny", "error", None),
    ("irs-ice-request-name-and-tin-only.json", "deny", "prohibited", "irc-6103-a"),
    ("irs-ice-request-zip-code-only.json", "deny", "prohibited", "irc-6103-a"),
    ("irs-ice-one-official-million-investigations.json", "deny", "prohibited", "irc-6103-a"),
    ("irs-ice-civil-removal.json", "deny", "prohibited", "irc-6103-a"),
    ("irs-ice-informant-determination.json", "deny", "prohibited", "irc-6103-i-6"),
    ("irs-ice-personal-engagement-not-stated.json", "deny", "indeterminate", "irc-6103-i-2"),
    ("irs-ice-wages-after-dmass-order.json", "deny", "prohibited", "dmass-cedc-2026-02-05-mou"),
    ("ice-matched-addresses-to-operators-before-dmass-order.json", "deny", "prohibited", "irc-6103-a"),
    ("ice-matched-addresses-to-operators-after-dmass-order.json", "deny", "prohibited", "dmass-cedc-2026-02-05-use"),
    (
        "ice-criminal-investigators-use-addresses-before-dmass-order.json",
        "permit",
        "permitted",
        "irc-6103-i-recipient-use",
    ),
    ("ssa-claimant-address-to-ice-1360b.json", "permit", "permitted", "ina-1360-b"),
    ("ssa-representative-address-to-ice-1360b.json", "permit", "permitted", "ina-1360-b"),
    ("ssa-usps-address-to-ice-1360b.json", "permit", "permitted", "ina-1360-b"),
    ("ssa-usps-address-no-privacy-act-route.json", "deny", "prohibited", "ssa-program-records"),
    ("ssa-w2-wage-report-address-to-ice.json", "deny", "prohibited", "irc-6103-a"),
    ("ssa-mixed-origin-address-to-ice.json", "deny", "prohibited", "irc-6103-a"),
    ("ssa-program-records-address-to-ice-after-assurance.json", "permit", "permitted", "ina-1360-b"),
    ("taxpayer-consent-to-hud.json", "permit", "permitted", "irc-6103-c"),
    ("ssa-l7-benefits-match.json", "permit", "permitted", "irc-6103-l-7"),
    ("irs-m2-federal-claim-address.json", "permit", "permitted", "irc-6103-m-2"),
    ("irs-fugitive-administrative-removal-warrant.json", "deny", "prohibited", "irc-6103-a"),
]


def test_every_example_has_an_expectation() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(name for name, *_ in EXPECTED)


@pytest.mark.parametrize(("name", "decision", "status", "rule"), EXPECTED)
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
