"""The semantics, clause by clause (docs/semantics.md states them for readers)."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from disclosure_rules import Rules
from disclosure_rules.engine import evaluator

from .conftest import mini_request

MakeRules = Callable[..., Rules]

LAYERED = """\
ruleset: layered
title: General rule, exception, exception to the exception
source: test
rules:
  - id: general
    title: Return information is confidential
    kind: forbid
    citation: G(a)
    when: origin overlaps tax_sources
    reason: "The {element} held by {holder} is confidential."
  - id: route
    title: A route that permits
    kind: permit
    citation: G(i)(2)
    exception_to: general
    when: purpose == "crime" and facts.request.signed_by == "head"
    reason: "Disclosure to {recipient} is permitted."
    obligations: [account]
  - id: order
    title: A court order that forbids again
    kind: forbid
    citation: Order
    exception_to: route
    effective: {from: 2025-11-21, until: 2026-02-04}
    when: recipient == "ICE"
    reason: "The order bars disclosure to {recipient}."
obligations:
  account: {text: Keep an accounting., citation: G(p)(3)}
"""


@pytest.fixture
def layered(make_rules: MakeRules) -> Rules:
    return make_rules(LAYERED)


def signed(**kw: object) -> dict[str, object]:
    return mini_request(facts={"request": {"signed_by": "head"}}, **kw)


def test_general_rule_forbids_when_no_exception_applies(layered: Rules) -> None:
    d = layered.check(mini_request(facts={"request": {"signed_by": "deputy"}}))
    assert (d.decision, d.status, d.rule) == ("deny", "prohibited", "general")
    assert d.reason == "The mailing address held by the IRS is confidential."
    assert d.citations == ("G(a)",)


def test_exception_permits_with_obligations_and_chain(layered: Rules) -> None:
    d = layered.check(signed())
    assert (d.decision, d.status, d.rule) == ("permit", "permitted", "route")
    assert [link.rule for link in d.chain] == ["general", "route"]
    assert d.citations == ("G(i)(2)", "G(a)")
    assert [o.id for o in d.obligations] == ["account"]
    assert d.reason == "Disclosure to ICE is permitted."
    assert d.missing == ()
    assert bool(d) is True


def test_exception_to_the_exception_forbids_again(layered: Rules) -> None:
    d = layered.check(signed(date="2025-12-01"))
    assert (d.decision, d.status, d.rule) == ("deny", "prohibited", "order")
    assert [link.rule for link in d.chain] == ["general", "route", "order"]
    trace = {t.rule: t.result for t in d.trace}
    assert trace == {"general": "applies", "route": "overridden", "order": "applies"}
    assert bool(d) is False


@pytest.mark.parametrize(
    ("date", "decision"),
    [
        ("2025-11-20", "permit"),  # the day before the order
        ("2025-11-21", "deny"),  # its first day
        ("2026-02-04", "deny"),  # its last day (until is inclusive)
        ("2026-02-05", "permit"),  # the day after
    ],
)
def test_effective_dates_on_both_edges(layered: Rules, date: str, decision: str) -> None:
    assert layered.check(signed(date=date)).decision == decision


def test_a_rule_out_of_force_is_traced_as_such(layered: Rules) -> None:
    d = layered.check(signed(date="2025-01-01"))
    entry = next(t for t in d.trace if t.rule == "order")
    assert entry.result == "not_in_force"
    assert "in force from 2025-11-21 through 2026-02-04" in entry.detail


def test_nothing_applicable_is_no_authority(layered: Rules) -> None:
    d = layered.check(mini_request(origin=["claimant"], facts={"request": {"signed_by": "deputy"}}))
    assert (d.decision, d.status, d.rule) == ("deny", "no_authority", None)
    assert d.reason.startswith("No rule authorizes disclosing the mailing address held by the IRS to ICE")


def test_missing_names_the_failed_condition_and_the_value_given(layered: Rules) -> None:
    d = layered.check(mini_request(facts={"request": {"signed_by": "deputy"}}))
    assert [m.rule for m in d.missing] == ["route"]
    (failure,) = d.missing[0].failed
    assert failure.condition == 'facts.request.signed_by == "head"'
    assert failure.requirement == "the signer must be the head of the agency"
    assert failure.observed == "it is `deputy` (a deputy)"


def test_unknown_fact_makes_a_would_be_permit_indeterminate(layered: Rules) -> None:
    d = layered.check(mini_request())  # the signer is not stated
    assert (d.decision, d.status) == ("deny", "indeterminate")
    assert d.unknown_facts == ("facts.request.signed_by",)
    assert "does not state the signer" in d.reason
    assert d.missing[0].failed[0].observed == "the request does not state the signer"


def test_unknown_fact_that_cannot_change_the_outcome_does_not_block(layered: Rules) -> None:
    # false and unknown is false: the route fails on purpose whatever the signer.
    d = layered.check(mini_request(purpose="civil"))
    assert (d.decision, d.status) == ("deny", "prohibited")
    assert d.unknown_facts == ()


def test_unknown_in_an_overriding_forbid_blocks_a_permit(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: p, title: P, kind: permit, citation: P, when: facts.consent, reason: ok}
          - {id: f, title: F, kind: forbid, citation: F, when: facts.order, reason: no}
        """
    )
    d = rules.check(mini_request(facts={"consent": True}))
    assert (d.decision, d.status) == ("deny", "indeterminate")
    assert d.unknown_facts == ("facts.order",)
    assert rules.check(mini_request(facts={"consent": True, "order": False})).decision == "permit"


def test_forbid_beats_an_unrelated_permit_and_records_the_conflict(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: p, title: P, kind: permit, citation: P, when: facts.consent, reason: ok}
          - {id: f, title: F, kind: forbid, citation: F, when: facts.order, reason: no}
        """
    )
    d = rules.check(mini_request(facts={"consent": True, "order": True}))
    assert (d.decision, d.status, d.rule) == ("deny", "prohibited", "f")
    assert d.conflicts == ("p",)


def test_three_valued_logic(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: and_rule, title: A, kind: permit, citation: A, when: facts.consent and facts.order, reason: a}
          - {id: or_rule, title: O, kind: permit, citation: O, when: facts.consent or facts.order, reason: o}
          - {id: not_rule, title: N, kind: permit, citation: N, when: not facts.order, reason: n}
        """
    )

    def results(facts: dict[str, bool]) -> dict[str, str]:
        return {t.rule: t.result for t in rules.check(mini_request(facts=facts)).trace}

    assert results({"consent": False}) == {"and_rule": "not_met", "or_rule": "unknown", "not_rule": "unknown"}
    assert results({"consent": True}) == {"and_rule": "unknown", "or_rule": "applies", "not_rule": "unknown"}
    assert results({"order": True}) == {"and_rule": "unknown", "or_rule": "applies", "not_rule": "not_met"}


def test_a_presumed_fact_is_not_unknown(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: p, title: P, kind: permit, citation: P, when: not facts.presumed, reason: ok}
        """
    )
    assert rules.check(mini_request()).decision == "permit"
    assert rules.check(mini_request(facts={"presumed": True})).decision == "deny"


def test_the_most_specific_rule_controls(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: broad, title: B, kind: permit, citation: B, when: facts.consent, reason: broad}
          - {id: general, title: G, kind: forbid, citation: G, when: holder == "IRS", reason: g}
          - {id: narrow, title: N, kind: permit, citation: N, when: facts.consent, reason: narrow,
             exception_to: general}
        """
    )
    d = rules.check(mini_request(facts={"consent": True}))
    assert (d.decision, d.rule) == ("permit", "narrow")


def test_an_evaluation_error_denies(layered: Rules, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(env: object) -> bool:
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(layered.compiled.rules, "route", attrs.evolve(layered.compiled.rules["route"], test=broken))
    # The generated evaluator does not call the closures; make it fail the same way.
    monkeypatch.setattr(evaluator, "evaluate", lambda compiled, env, day: broken(env))
    d = layered.decide_uncached(signed())
    assert (d.decision, d.status) == ("deny", "error")
    assert d.errors[0].code == "evaluation_error"


def test_invalid_request_is_an_error_decision_never_a_permit(layered: Rules) -> None:
    d = layered.check(signed(holder="IRSS"))
    assert (d.decision, d.status) == ("deny", "error")
    assert d.errors[0].path == "$.holder"
    assert d.errors[0].help == "did you mean `IRS`?"
    assert d.reason.startswith("The request is invalid: `IRSS` is not a value of `agency` at $.holder")


def test_chain_projection_and_date_comparison_of_facts(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: via_irs, title: V, kind: forbid, citation: V, when: '"IRS" in chain.from', reason: tainted}
          - {id: ok, title: O, kind: permit, citation: O, when: holder == "ICE", reason: ok}
        """
    )
    clean = mini_request(holder="ICE", recipient="DOJ")
    assert rules.check(clean).decision == "permit"
    tainted = dict(clean, chain=[{"from": "IRS", "to": "ICE", "date": "2025-08-07"}])
    d = rules.check(tainted)
    assert (d.decision, d.rule, d.conflicts) == ("deny", "via_irs", ("ok",))


def test_missing_under_an_order_names_the_route_it_bars_and_the_order(layered: Rules) -> None:
    # The request invoked the route and failed it on its own (a deputy signed); the order also bars the route.
    # Both are said: the route's failed requirement, and the order as a requirement no request can meet.
    d = layered.check(mini_request(date="2025-12-01", facts={"request": {"signed_by": "deputy"}}))
    assert (d.status, d.rule) == ("prohibited", "order")
    assert d.citations[:2] == ("Order", "G(a)")
    [route] = d.missing
    assert route.rule == "route"
    assert [f.condition for f in route.failed] == ['facts.request.signed_by == "head"', "not order"]
    assert "Order bars the disclosure" in route.failed[1].requirement
    before = layered.check(mini_request(facts={"request": {"signed_by": "deputy"}}))
    assert [m.rule for m in before.missing] == ["route"]
    assert len(before.missing[0].failed) == 1


def test_missing_is_empty_when_a_general_prohibition_nothing_overrides_applies(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: general, title: G, kind: forbid, citation: G, when: holder == "IRS", reason: g}
          - {id: around, title: A, kind: permit, citation: A, exception_to: general, reason: a, when: facts.consent}
          - {id: absolute, title: X, kind: forbid, citation: X, reason: x, when: recipient == "ICE"}
        """
    )
    d = rules.check(mini_request(facts={"consent": False}))
    assert (d.status, d.rule) == ("prohibited", "general")
    assert d.citations == ("G", "X"), "every prohibition is cited, the controlling one first"
    assert d.missing == (), "consent would not lift the prohibition that has no exception"


def test_missing_offers_only_routes_around_the_controlling_rule(make_rules: MakeRules) -> None:
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: general, title: G, kind: forbid, citation: G, when: holder == "IRS", reason: g}
          - {id: around, title: A, kind: permit, citation: A, exception_to: general, reason: a,
             when: facts.consent and recipient == "DOJ"}
          - {id: elsewhere, title: E, kind: permit, citation: E, reason: e, when: facts.order}
        """
    )
    d = rules.check(mini_request(recipient="DOJ", facts={"consent": False, "order": False}))
    assert (d.status, d.rule) == ("prohibited", "general")
    assert [m.rule for m in d.missing] == ["around"]


# -- an exception stays in its scope ------------------------------------------------------------------

SCOPED = LAYERED.replace(
    "obligations:\n  account:",
    """  - id: other_route
    title: An unrelated route the order does not govern
    kind: permit
    citation: G(i)(1)
    exception_to: general
    when: facts.order
    reason: "A court ordered it."
  - id: lone_permit
    title: A permit under no prohibition
    kind: permit
    citation: P
    when: purpose == "civil"
    reason: "Statistics may be shared."
  - id: lone_bar
    title: A bar on the lone permit
    kind: forbid
    citation: B
    exception_to: lone_permit
    when: recipient == "ICE"
    reason: "Not to ICE."
obligations:
  account:""",
)


@pytest.fixture
def scoped(make_rules: MakeRules) -> Rules:
    return make_rules(SCOPED)


def test_an_exception_defeats_its_parent_and_nothing_else(scoped: Rules) -> None:
    # The order (an exception to `route`) applies, but `other_route` permits on its own: the order must not deny.
    d = scoped.check(mini_request(date="2025-12-01", facts={"request": {"signed_by": "head"}, "order": True}))
    assert (d.decision, d.rule) == ("permit", "other_route")
    assert {t.rule: t.result for t in d.trace}["order"] == "applies"


def test_an_exception_over_a_route_that_failed_does_not_deny_another_route(scoped: Rules) -> None:
    d = scoped.check(mini_request(date="2025-12-01", facts={"request": {"signed_by": "deputy"}, "order": True}))
    assert (d.decision, d.rule) == ("permit", "other_route")


def test_a_bar_on_a_permit_with_no_prohibition_above_it_only_takes_the_permit_away(scoped: Rules) -> None:
    d = scoped.check(mini_request(purpose="civil", origin=["claimant"], facts={"order": False}))
    assert (d.decision, d.status, d.rule) == ("deny", "no_authority", None)
    d = scoped.check(mini_request(purpose="civil", origin=["claimant"], recipient="DOJ", facts={"order": False}))
    assert (d.decision, d.rule) == ("permit", "lone_permit")


def test_the_order_still_prohibits_when_it_took_away_the_only_route(scoped: Rules) -> None:
    d = scoped.check(mini_request(date="2025-12-01", facts={"request": {"signed_by": "head"}, "order": False}))
    assert (d.decision, d.status, d.rule) == ("deny", "prohibited", "order")
    assert [link.rule for link in d.chain] == ["general", "route", "order"]
    assert d.missing == (), "the route held; only the order stands in the way, and nothing overrides it"


def test_an_unknown_fact_in_another_route_leaves_the_order_undecided(scoped: Rules) -> None:
    # Whether a court ordered it is unknown: if it did, other_route permits and the order prohibits nothing.
    d = scoped.check(mini_request(date="2025-12-01", facts={"request": {"signed_by": "head"}}))
    assert (d.decision, d.status) == ("deny", "indeterminate")
    assert "facts.order" in d.unknown_facts


# -- empty sets prove nothing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('facts.request.items overlaps ["address"]', ("deny", "no_authority")),
        ('facts.request.items includes ["address"]', ("deny", "no_authority")),
        ("facts.request.items includes []", ("permit", "permitted")),
        ('facts.request.items within ["address"]', ("deny", "indeterminate")),
        ('not (facts.request.items within ["address"])', ("deny", "indeterminate")),
        ('"address" in facts.request.items', ("deny", "no_authority")),
        ('"address" not in facts.request.items', ("permit", "permitted")),
    ],
)
def test_every_set_operator_on_the_empty_set(make_rules: MakeRules, condition: str, expected: tuple[str, str]) -> None:
    rules = make_rules(
        f"""\
        ruleset: s
        title: T
        source: S
        rules:
          - {{id: p, title: P, kind: permit, citation: P, reason: p, when: '{condition}'}}
        """
    )
    d = rules.check(mini_request(facts={"request": {"items": []}}))
    assert (d.decision, d.status) == expected


def test_a_nonempty_set_refuses_an_empty_list(make_rules: MakeRules) -> None:
    from .conftest import MINI_VOCABULARY

    vocabulary = MINI_VOCABULARY.replace(
        "origin: {type: set of origin, label: the origins}",
        "origin: {type: set of origin, label: the origins, nonempty: true}",
    )
    rules = make_rules(
        """\
        ruleset: s
        title: T
        source: S
        rules:
          - {id: p, title: P, kind: permit, citation: P, reason: p, when: 'origin within ["claimant"]'}
        """,
        vocabulary=vocabulary,
    )
    d = rules.check(mini_request(origin=[]))
    assert (d.decision, d.status) == ("deny", "error")
    assert (d.errors[0].code, d.errors[0].path) == ("empty_list", "$.origin")
    assert rules.check(mini_request(origin=["claimant"])).decision == "permit"
    assert rules.check(mini_request(origin=None)).status == "indeterminate", "left out, the origin is unknown"
