"""Provenance: the chain's hop into the holder is decided by the rules, and the decision says how."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import disclosure_rules
from disclosure_rules import Rules
from disclosure_rules.render.json import decision_document
from disclosure_rules.render.text import render_text

from .conftest import EXAMPLES


def _use() -> dict[str, Any]:
    request: dict[str, Any] = json.loads(
        (EXAMPLES / "ice-criminal-investigators-use-addresses-before-dmass-order.json").read_text()
    )
    return request


def test_a_lawful_hop_is_shown_as_decided(bundled: Rules) -> None:
    d = bundled.check(_use())
    assert d.decision == "permit"
    [hop] = d.provenance
    assert (hop.holder, hop.recipient, hop.route, hop.date) == ("IRS", "ICE", "6103(i)(2)", "2025-08-07")
    assert (hop.decision, hop.rule) == ("permit", "irc-6103-i-2")


def test_a_hop_a_court_order_forbade_says_so(bundled: Rules) -> None:
    request = _use()
    request["chain"][0]["date"] = "2025-12-01"
    d = bundled.check(request)
    assert (d.decision, d.status) == ("deny", "prohibited")
    [hop] = d.provenance
    assert (hop.decision, hop.rule) == ("deny", "ddc-ctr-2025-11-21")
    assert "Center for Taxpayer Rights" in hop.reason
    assert decision_document(d)["provenance"][0]["rule"] == "ddc-ctr-2025-11-21"
    assert "How the holder received it:" in render_text(d)


def test_every_hop_before_is_decided_too(bundled: Rules) -> None:
    # IRS -> DOJ under (i)(2), then DOJ -> ICE: no route lets DOJ pass (i)(2) data to ICE.
    request = _use()
    request["chain"] = [
        {"from": "IRS", "to": "DOJ", "route": "6103(i)(2)", "date": "2025-08-07"},
        {"from": "DOJ", "to": "ICE", "route": "6103(i)(2)", "date": "2025-08-08"},
    ]
    d = bundled.check(request)
    assert d.decision == "deny"
    assert [(h.holder, h.recipient) for h in d.provenance] == [("DOJ", "ICE"), ("IRS", "DOJ")]
    assert d.provenance[0].decision == "deny"


def test_a_hop_into_someone_else_is_no_hop_into_the_holder(bundled: Rules) -> None:
    request = _use()
    request["chain"][0]["to"] = "FBI"
    d = bundled.check(request)
    assert d.decision == "deny"
    assert d.provenance == ()


def test_the_cache_keeps_hop_dates_apart(bundled: Rules) -> None:
    before = _use()
    after = copy.deepcopy(before)
    after["chain"][0]["date"] = "2025-12-01"
    assert bundled.check(before).decision == "permit"
    assert bundled.check(after).decision == "deny"
    assert bundled.check(before).decision == "permit"


def test_a_hop_dated_after_the_disclosure_never_shares_a_cached_answer_with_a_lawful_one() -> None:
    """The cache key holds the request's date only as an interval between the rules' dates; a hop dated after
    the disclosure gives no route, so such a request must never be answered from the entry of a request in the
    same interval whose hop came first (the batch path, cache on, in either order)."""
    rules = disclosure_rules.load()
    lawful = {
        "date": "2025-10-10",
        "element": "address",
        "holder": "ICE",
        "origin": ["irs_records"],
        "recipient": "ICE",
        "purpose": "nontax_criminal_investigation",
        "chain": [{"from": "IRS", "to": "ICE", "route": "6103(i)(2)", "date": "2025-10-05"}],
        "facts": {
            "request": {
                "in_writing": True,
                "signed_by": "agency_head",
                "sets_forth": [
                    "taxpayer_name",
                    "taxpayer_address",
                    "taxable_periods",
                    "statutory_authority",
                    "specific_reasons",
                ],
            },
            "matter": {"specific_statute": True, "involves_tax_administration": False},
            "recipients": {"personally_engaged": True},
            "use": {"solely_for_matter": True},
            "safeguards": {"in_place": True},
        },
    }
    late = {**lawful, "date": "2025-10-01"}
    for batch in ([lawful, late, lawful, late], [late, lawful, late, lawful]):
        decided = [d.decision for d in rules.check_many(batch)]
        assert decided == ["permit" if r is lawful else "deny" for r in batch]
    assert rules.check(late).decision == "deny"


def _completions(rules: Rules, request: dict[str, Any], paths: list[str]) -> list[dict[str, Any]]:
    """The request with each of ``paths`` (true-or-false or enumerated facts) stated every way it can be."""
    out = [request]
    for path in paths:
        slot = rules.vocabulary.facts[path]
        if slot.type.kind == "bool":
            values: list[Any] = [True, False]
        elif slot.type.kind == "enum":
            values = list(rules.vocabulary.enums[str(slot.type.enum)].values)
        else:
            return []  # a set has too many values to try them all here
        grown = []
        for partial in out:
            for value in values:
                whole = copy.deepcopy(partial)
                node = whole.setdefault("facts", {})
                *groups, last = path.removeprefix("facts.").split(".")
                for group in groups:
                    node = node.setdefault(group, {})
                node[last] = value
                grown.append(whole)
        out = grown
    return out


def test_an_undecided_hop_settles_only_what_every_route_it_can_give_settles(bundled: Rules) -> None:
    """The rules' states on a request whose hop into the holder is undecided are worked out over every set of
    routes the hop can give (none, or what the permits granting the route it names grant): a state said to be
    true or false there stays so however the hop's facts are stated, and so does a definite answer."""
    from disclosure_rules.engine.evaluator import decide
    from disclosure_rules.intake.request import RequestReader

    reader = RequestReader(bundled.vocabulary)
    routes = ["6103(i)(2)", "6103(i)(3)", "6103(i)(3)(A)", "6103(m)(2)", "6103(i)(5)", "6103(c)"]
    left_out = [("request", "signed_by"), ("request", "in_writing"), ("recipients", "personally_engaged")]
    checked = 0
    for route in routes:
        for group, key in left_out:
            for internal in (False, True):
                request = _use()
                request["chain"] = [{"from": "IRS", "to": "ICE", "route": route, "date": "2025-08-07"}]
                if internal:
                    request["chain"].append({"from": "ICE", "to": "ICE", "route": "internal", "date": "2025-09-01"})
                request["facts"].get(group, {}).pop(key, None)
                env, errors = reader.read(request)
                assert errors == []
                verdict = decide(bundled.compiled, env, env["date"])
                if verdict.status != "indeterminate":
                    continue
                for whole in _completions(bundled, request, list(verdict.unknown_facts)):
                    env, errors = reader.read(whole)
                    assert errors == []
                    settled = decide(bundled.compiled, env, env["date"])
                    for rid, state in verdict.states.items():
                        if state.holds is not None:
                            assert settled.states[rid].holds is state.holds, (route, key, rid)
                        if state.applies is not None:
                            assert settled.states[rid].applies is state.applies, (route, key, rid)
                    checked += 1
    assert checked > 20
    # And what it is for: an (i)(2) hop cannot bring a consent designee's rule into play.
    request = _use()
    del request["facts"]["request"]["signed_by"]
    d = bundled.check(request)
    expected = ("indeterminate", "irc-6103-i-recipient-use", ("facts.request.signed_by",))
    assert (d.status, d.rule, d.unknown_facts) == expected
    assert "§ 6103(c)" not in d.reason


def test_a_denial_whose_hop_a_court_order_barred_names_the_order(bundled: Rules) -> None:
    """The use fails because nothing authorizes it (§ 6103(a)); the reason says, too, why the hop gave nothing,
    and cites the order. A hop the general rule alone denied adds nothing: § 6103(a) is already the reason."""
    request = _use()
    request["chain"][0]["date"] = "2025-11-21"
    request["date"] = "2026-02-04"
    d = bundled.check(request)
    assert (d.decision, d.status, d.rule) == ("deny", "prohibited", "irc-6103-a")
    assert "was itself barred: Center for Taxpayer Rights v. IRS" in d.reason
    assert any(c.startswith("Center for Taxpayer Rights") for c in d.citations)
    # The same request with the hop a day earlier: lawful, and the use permitted.
    request["chain"][0]["date"] = "2025-11-20"
    assert bundled.check(request).decision == "permit"
    # A hop whose request an assistant director signed is denied by § 6103(a) itself: no order to name.
    request["facts"]["request"]["signed_by"] = "assistant_director"
    d = bundled.check(request)
    assert d.status == "prohibited" and "itself barred" not in d.reason


def test_the_sets_of_routes_an_undecided_hop_can_give_are_bounded(
    bundled: Rules, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every set of the routes a hop's named route stands for is tried one by one, and the sets double with
    each route: past a bound the routes stay unknown, as they were, rather than take exponential time."""
    from disclosure_rules.engine import provenance

    env = {
        "holder": "FBI",
        "chain": ({"from": "IRS", "to": "FBI", "route": "6103(i)(3)", "date": None},),
    }
    found = provenance.possible_routes(bundled.compiled, env)
    assert found is not None and len(found) == 8  # none, and every non-empty set of (A), (B), (C)
    assert frozenset() in found and frozenset({"6103(i)(3)(A)", "6103(i)(3)(C)"}) in found
    monkeypatch.setattr(provenance, "MAX_GRANTED", 2)
    assert provenance.possible_routes(bundled.compiled, env) is None
