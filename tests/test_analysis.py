"""The analysis: each check finds its seeded fault with a witness the evaluator confirms, and is silent on a
clean rule set; queries and diffs on the bundled law."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules.analysis import analyze, query
from disclosure_rules.analysis.checks import CHECKS
from disclosure_rules.cli import main

FIXTURES = Path(__file__).parent / "analysis_fixtures"


def _load(name: str) -> disclosure_rules.Rules:
    return disclosure_rules.load(FIXTURES / name)


def in_force_on_one(rules: disclosure_rules.Rules, before: datetime.date, after: datetime.date) -> tuple[str, ...]:
    """The rules in force on one of two dates and not the other."""
    rules_by_id = rules.book.rules.items()
    return tuple(r for r, rule in rules_by_id if rule.effective.covers(before) != rule.effective.covers(after))


def held_by_dhs_from_an_i2_hop(paths: dict[str, Any], hop: dict[str, Any]) -> dict[str, Any]:
    """A partial request: DHS holds a name that the one hop of its chain names as an (i)(2) disclosure into
    DHS, to use for its own criminal case. ``paths`` adds or replaces request paths, ``hop`` the hop's keys
    by name (``from``, ``date``...); a key given None stays unchosen."""
    from disclosure_rules.analysis.domain import CHAIN, hop_path

    request: dict[str, Any] = {
        "holder": "DHS",
        "recipient": "DHS",
        "element": "name",
        "purpose": "nontax_criminal_investigation",
        CHAIN: 1,
        **paths,
    }
    request.update({hop_path(k): v for k, v in {"from": "IRS", "to": "DHS", "route": "6103(i)(2)", **hop}.items()})
    return {p: v for p, v in request.items() if v is not None}


def test_clean_rule_set_has_no_findings() -> None:
    assert analyze(_load("clean"), ["reach", "conflict", "vacuous", "unknowns", "errors"]) == []


def test_conflict_finds_an_unrelated_forbid_and_permits_with_different_obligations() -> None:
    findings = analyze(_load("conflict"), ["conflict"])
    assert {(f.kind, frozenset(f.rules)) for f in findings} == {
        ("permit_forbid", frozenset({"order-bar", "crime-route"})),
        ("permit_forbid", frozenset({"order-bar", "consent-route"})),
        ("permit_permit", frozenset({"crime-route", "consent-route"})),
    }
    assert all(f.confirmed and f.witness is not None for f in findings)
    # The scoped order meets the consent route on many requests, but it prohibits only where the general rule
    # does, and consent keeps the general rule from applying: it never acts on a request consent permits.


def test_a_permit_under_a_prohibition_that_does_not_hold_is_not_in_force(bundled: disclosure_rules.Rules) -> None:
    """§ 6103(i)(2) applies to de-identified wages (its own conditions are met) but answers a prohibition the
    request does not raise: the conflict check does not count it, and the evaluator does not let it control."""
    from disclosure_rules.analysis.checks import in_force
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.witness import redecide

    oracle = Oracle(bundled)
    request = {
        "date": "2025-06-02",
        "holder": "IRS",
        "element": "wages",
        "origin": ["w2_wage_report"],
        "recipient": "ICE",
        "purpose": "nontax_criminal_investigation",
        "facts": {
            "data": {"deidentified": True},
            "matter": {"involves_tax_administration": False, "specific_statute": True},
            "request": {
                "in_writing": True,
                "signed_by": "agency_head",
                "sets_forth": [
                    "taxpayer_name",
                    "taxpayer_address",
                    "taxable_periods",
                    "statutory_authority",
                    "specific_reasons",
                    "law_enforcement_activity",
                ],
            },
            "recipients": {"personally_engaged": True},
            "use": {"solely_for_matter": True},
            "irs": {"informant_or_impairment": False},
        },
    }
    decision, verdict = redecide(bundled, request)
    assert verdict is not None
    assert (decision.decision, decision.rule, decision.obligations) == ("permit", "irc-6103-b-2-deidentified", ())
    assert verdict.states["irc-6103-i-2"].applies is True
    assert in_force(oracle, verdict, "irc-6103-i-2") is False
    assert in_force(oracle, verdict, "irc-6103-b-2-deidentified") is True


def test_a_scoped_order_and_the_routes_beside_it_are_proved_never_to_act_together(
    bundled: disclosure_rules.Rules,
) -> None:
    from disclosure_rules.analysis.disjoint import Disjointness
    from disclosure_rules.analysis.oracle import Oracle

    disjoint = Disjointness(Oracle(bundled))
    # The D. Mass. stay prohibits only where § 6103(a) does (return information); a Privacy Act (b)(11) order
    # acts only on data that is not return information.
    assert disjoint.in_force("dmass-cedc-2026-02-05-mou", "privacy-act-b-11")
    # The D. Mass. use order likewise never meets an agency's (b)(1) use of its own records.
    assert disjoint.in_force("dmass-cedc-2026-02-05-use", "privacy-act-b-1")
    # The D.D.C. order prohibits only where § 6103(a) does (return information); the Privacy Act's routes act
    # only on data that is not return information.
    assert disjoint.in_force("ddc-ctr-2025-11-21", "privacy-act-b-3")
    assert disjoint.needs("ddc-ctr-2025-11-21") == ["ddc-ctr-2025-11-21", "irc-6103-a"]
    assert disjoint.needs("irc-6103-i-2") == ["irc-6103-i-2", "irc-6103-a"]
    # Not a proof of everything: consent and (i)(2) do meet.
    assert not disjoint.in_force("irc-6103-c", "irc-6103-i-2")


def test_conflict_finishes_on_the_bundled_law_with_every_finding_declared(bundled: disclosure_rules.Rules) -> None:
    findings = analyze(bundled, ["conflict"])
    assert findings and all(f.kind != "incomplete" for f in findings)
    assert all(f.confirmed for f in findings)
    assert [f.rules for f in findings if f.intended is None] == []


def test_an_intended_entry_may_name_several_rules() -> None:
    from disclosure_rules.rulebook.loader import load_rulebook

    book = load_rulebook(Path(__file__).parent.parent / "rules")
    (entry,) = [e for e in book.rules["irc-6103-i-1"].intended if e.check == "conflict"]
    assert entry.others == ("irc-6103-i-2", "irc-6103-i-3-a")


def test_disjoint_rules_are_proved_so_part_by_part() -> None:
    from disclosure_rules.analysis.disjoint import Disjointness
    from disclosure_rules.analysis.oracle import Oracle

    disjoint = Disjointness(Oracle(_load("conflict")))
    assert disjoint.rules("ssa-route", "order-bar")  # holder == "SSA" against holder == "IRS"
    assert disjoint.rules("ssa-route", "general")  # not (origin overlaps ...) against origin overlaps ...
    assert not disjoint.rules("crime-route", "order-bar")  # they meet: the conflict above
    assert not disjoint.rules("crime-route", "consent-route")


def test_rules_proved_disjoint_on_the_bundled_law_never_meet_in_a_scenario(bundled: disclosure_rules.Rules) -> None:
    """The proof part by part is checked against every bundled scenario: no request has two rules it calls
    disjoint both hold (and it does prove most pairs)."""
    import itertools

    from disclosure_rules import testing
    from disclosure_rules.analysis.disjoint import Disjointness
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.witness import redecide

    disjoint = Disjointness(Oracle(bundled))
    pairs = [(a, b) for a, b in itertools.combinations(bundled.book.rules, 2) if disjoint.rules(a, b)]
    assert len(pairs) > 500
    scenarios = testing.load_suites([Path(__file__).parent.parent / "rules" / "tests"])
    for suite in scenarios:
        for scenario in suite.scenarios:
            if not isinstance(scenario.request, dict):
                continue
            _decision, verdict = redecide(bundled, scenario.request)
            if verdict is None:
                continue
            holding = {rid for rid, state in verdict.states.items() if state.holds is True}
            assert not [(a, b) for a, b in pairs if a in holding and b in holding], scenario.id


def test_unknowns_finds_a_permit_that_applies_with_its_signer_left_out() -> None:
    findings = analyze(_load("unknowns"), ["unknowns"])
    found = {(f.rules, f.path) for f in findings}
    assert (("crime-route",), "facts.request.signed_by") in found
    assert all(f.confirmed for f in findings)


def test_errors_finds_a_comparison_that_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule language type-checks every comparison, so no rule file can seed this fault: the compiler is
    made to build a predicate that raises for one comparison, as a bug in an operator would."""
    from disclosure_rules.engine.compiler import Compiler

    built = Compiler.predicate

    def faulty(self: Compiler, node: object) -> object:
        test = built(self, node)  # type: ignore[arg-type]
        if "signed_by" not in str(node):
            return test

        def raising(env: object) -> object:
            raise TypeError("a seeded fault")

        return raising

    monkeypatch.setattr(Compiler, "predicate", faulty)
    findings = analyze(_load("clean"), ["errors"])
    assert [(f.kind, f.rules) for f in findings] == [("evaluation_error", ("crime-route",))]
    assert "signed_by" in (findings[0].part or "")


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


def test_every_vacuous_and_errors_finding_on_the_bundled_law_is_confirmed(bundled: disclosure_rules.Rules) -> None:
    # reach, conflict and unknowns do not yet finish on the bundled law in a test's time (docs/analysis.md).
    for finding in analyze(bundled, ["vacuous", "errors"]):
        assert finding.confirmed, finding


def test_query_never_and_yes(bundled: disclosure_rules.Rules) -> None:
    # An address is never de-identified, but the taxpayer may consent under (c), so the slice can be permitted;
    # without consent, never (on a date the D.D.C. order is in force).
    slice_ = {"element": "address", "holder": "IRS", "recipient": "ICE", "purpose": "civil_immigration_enforcement"}
    day = datetime.date(2026, 1, 1)
    consented = query(bundled, "permit", slice_, day)
    assert consented.possible and consented.confirmed and consented.witness is not None
    assert bundled.check(dict(consented.witness)).rule == "irc-6103-c"
    never = query(bundled, "permit", {**slice_, "consent.given": "false"}, day)
    assert not never.possible
    yes = query(bundled, "permit", {"holder": "SSA"})
    assert yes.possible and yes.confirmed and yes.witness is not None
    assert bundled.check(dict(yes.witness)).decision == "permit"


def test_cli_analyze_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(FIXTURES / "reach"), "--check", "reach"]) == 6
    assert main(["analyze", str(FIXTURES / "clean"), "--check", "reach"]) == 0


@pytest.mark.parametrize(
    "rid", ["irc-6103-i-recipient-use", "irc-6103-i-3-head-pass-on", "irc-6103-i-7-a-ii", "irc-6103-c-designee"]
)
def test_rules_on_provenance_are_reached_through_a_real_hop(bundled: disclosure_rules.Rules, rid: str) -> None:
    """chain.received_under is derived, never chosen: the search builds a hop (from, to, route, date) and the
    evaluator decides it, so the witness, decided again from scratch, has the rule apply."""
    from disclosure_rules.analysis.checks import _state_judge, first_leaf
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.witness import redecide, request_of

    oracle = Oracle(bundled)
    leaf = first_leaf(oracle, {}, _state_judge(oracle, rid, "applies"))
    assert leaf is not None
    witness = request_of(oracle.space, leaf.assignment)
    assert len(witness["chain"]) == 1
    _decision, verdict = redecide(bundled, witness)
    assert verdict is not None and verdict.states[rid].applies is True


def test_a_check_that_runs_out_of_budget_says_so_and_never_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    from disclosure_rules.analysis import search

    monkeypatch.setattr(search, "LIMIT", 3)
    findings = analyze(_load("conflict"), ["conflict"])
    assert findings[-1].kind == "incomplete" and findings[-1].intended is None
    assert "did not finish" in findings[-1].message
    # On the clean set every pair is proved disjoint part by part (its own budget): nothing to search, a pass.
    assert main(["analyze", str(FIXTURES / "clean"), "--check", "conflict"]) == 0


def _outcome(rules: disclosure_rules.Rules, request: dict[str, object]) -> tuple[object, ...]:
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.witness import redecide

    _decision, verdict = redecide(rules, request)
    assert verdict is not None
    return Oracle(rules).outcome(verdict)


def _requests(day: str) -> list[dict[str, object]]:
    """Every request of the fixtures' vocabulary over the fields and the signer (the facts the seeded rules
    read), with and without an origin."""
    import itertools

    agencies, origins = ("IRS", "SSA", "ICE", "DOJ"), ("tax_return", "claimant", "usps")
    out: list[dict[str, object]] = []
    for holder, recipient, element, purpose in itertools.product(
        agencies, agencies, ("address", "wages", "name"), ("crime", "civil")
    ):
        for size in range(len(origins) + 1):
            for origin in itertools.combinations(origins, size):
                for signer in ("head", "deputy", None):
                    request: dict[str, object] = {
                        "date": day,
                        "holder": holder,
                        "recipient": recipient,
                        "element": element,
                        "purpose": purpose,
                    }
                    if origin:
                        request["origin"] = list(origin)
                    if signer:
                        request["facts"] = {"request": {"signed_by": signer}}
                    out.append(request)
    return out


def test_diff_on_two_dates_finds_the_seeded_order_and_nothing_else() -> None:
    from disclosure_rules.analysis import diff_dates

    rules = _load("diff")
    regions = diff_dates(rules, datetime.date(2026, 1, 9), datetime.date(2026, 1, 11))
    assert regions and all(r.confirmed for r in regions)
    assert all(r.fields.get("recipient") == ("ICE",) and r.fields.get("element") == ("address",) for r in regions)
    assert {r.after[2] for r in regions} == {"stay", None}
    assert diff_dates(rules, datetime.date(2026, 1, 11), datetime.date(2026, 1, 12)) == []
    # Complete: every request whose outcome moves lies in a region of its move, within the values it names.
    moves = {(r.before, r.after): r for r in regions}
    for request in _requests("2026-01-09"):
        before, after = _outcome(rules, request), _outcome(rules, {**request, "date": "2026-01-11"})
        if before != after:
            region = moves[(before, after)]  # type: ignore[index]
            assert all(request[path] in values for path, values in region.fields.items()), request


def test_diff_of_two_rule_sets_finds_the_added_order() -> None:
    from disclosure_rules.analysis import diff_rules

    old, new = _load("clean"), _load("diff")
    regions = diff_rules(old, new)
    assert regions and all(r.confirmed for r in regions)
    assert all(r.after[2] in ("stay", None) and r.fields.get("recipient") == ("ICE",) for r in regions)
    assert diff_rules(old, old) == []


def test_diff_on_the_bundled_law_shows_the_ddc_order_and_nothing_else(bundled: disclosure_rules.Rules) -> None:
    from disclosure_rules.analysis import diff_dates

    regions = diff_dates(bundled, datetime.date(2025, 11, 20), datetime.date(2025, 11, 22))
    assert regions and all(r.confirmed for r in regions)
    purposes = set()
    for region in regions:
        assert region.fields["holder"] == ("IRS",)
        assert set(region.fields["recipient"]) <= {"DHS", "ICE", "USCIS", "CBP"}
        (purpose,) = region.fields["purpose"]
        purposes.add(purpose)
        if purpose == "nontax_criminal_investigation":
            assert set(region.fields["element"]) == {"address", "match_result"}
            assert "ddc-ctr-2025-11-21" in (region.before[2], region.after[2]) or region.before[2] in (
                "irc-6103-i-2",
                "irc-6103-i-3-a",
            )
        else:  # the same order, reaching an address called a federal-claim address under (m)(2)
            assert purpose == "federal_claim_collection"
            assert region.fields["element"] == ("address",)
            assert region.after[2] == "ddc-ctr-2025-11-21-m-2" or region.before[2] == "irc-6103-m-2"
    assert purposes == {"nontax_criminal_investigation", "federal_claim_collection"}


def test_the_law_by_date_lists_each_day_a_rule_comes_into_force_with_what_it_changed() -> None:
    from disclosure_rules.analysis import diff_dates
    from disclosure_rules.analysis.datepage import law_by_date_page
    from disclosure_rules.analysis.dates import change_days, law_by_date

    rules = _load("diff")
    changes = law_by_date(rules)
    assert [c.day for c in changes] == change_days(rules.book) == [datetime.date(2026, 1, 10)]
    (change,) = changes
    assert change.entering and not change.leaving
    assert change.regions is not None and change.regions
    assert all(region.confirmed for region in change.regions)
    assert change.regions == tuple(diff_dates(rules, datetime.date(2026, 1, 9), datetime.date(2026, 1, 10)))
    page = law_by_date_page(rules.book, changes)
    assert "## 2026-01-10" in page and rules.info.hash in page
    assert page.count("\n| ") == len(change.regions) + 1  # the header row and one row per region
    assert all(json.dumps(r.witness, ensure_ascii=False, sort_keys=True) in page for r in change.regions)


def test_a_day_whose_diff_does_not_finish_is_said_to_be_unfinished_never_unchanged() -> None:
    from disclosure_rules.analysis.datepage import law_by_date_page
    from disclosure_rules.analysis.dates import law_by_date

    rules = _load("diff")
    (change,) = law_by_date(rules, limit=1)
    assert change.regions is None and change.unfinished
    page = law_by_date_page(rules.book, [change])
    assert "did not finish" in page and "No decision" not in page
    assert main(["diff", "--each-date", "--rules", str(FIXTURES / "diff"), "--format", "markdown"]) == 6


def test_the_law_by_date_page_is_generated_from_the_bundled_rules_as_they_are() -> None:
    """The page takes minutes to make, so it is checked in; it names the rules' content hash, and a change
    to the rules fails this test until it is made again (its first lines say how)."""
    page = (Path(__file__).parent.parent / "docs" / "law-by-date.md").read_text()
    assert disclosure_rules.load().info.hash in page, "run: disclosure-rules diff --each-date --format markdown"


def test_the_pair_test_knows_two_court_orders_rank_alike_on_both_dates(bundled: disclosure_rules.Rules) -> None:
    """Control cannot pass from the D.D.C. order to the D. Mass. order on the day the second comes into force:
    both are exceptions to the same paragraphs, so the first declared ranks above the other on every date,
    and the D.D.C. order prohibits after exactly where it did before. The pair test must see it at once,
    with nothing chosen but the date, where it once searched the whole tree to learn it."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import SideView, pair_possible, shared_states

    oracle = Oracle(bundled)
    before, after = datetime.date(2026, 2, 4), datetime.date(2026, 2, 6)
    changed = in_force_on_one(bundled, before, after)
    assert "dmass-cedc-2026-02-05-mou" in changed
    views = []
    for day in (before, after):
        assignment = {"date": day}
        views.append(SideView.of(oracle, oracle.verdict(assignment).states, assignment))
    shared = shared_states(oracle, changed)
    ddc = ("deny", "prohibited", "ddc-ctr-2025-11-21", ())
    dmass = ("deny", "prohibited", "dmass-cedc-2026-02-05-mou", ())
    assert not pair_possible(views[0], views[1], (ddc, dmass), shared)
    # A move the D. Mass. order does make stays possible: an (i)(2) permit the day before, its stay after.
    i_2 = ("permit", "permitted", "irc-6103-i-2", tuple(bundled.book.rules["irc-6103-i-2"].obligations))
    assert pair_possible(views[0], views[1], (i_2, dmass), shared)


def test_a_part_and_its_negation_are_proved_disjoint_even_where_they_read_the_chain(
    bundled: disclosure_rules.Rules,
) -> None:
    """§ 6103(a) holds on return information, the Privacy Act's routes only on data that is not: the two can
    never hold together. ``return_information`` reads the chain, which the search part by part leaves alone,
    so the proof comes from the parts' form (one is ``not`` the other), not from a search."""
    from disclosure_rules.analysis.disjoint import Disjointness
    from disclosure_rules.analysis.oracle import Oracle

    disjoint = Disjointness(Oracle(bundled))
    for route in ("privacy-act-b-1", "privacy-act-b-3", "privacy-act-b-7", "privacy-act-b-11"):
        assert disjoint.rules("irc-6103-a", route)
    # Not every pair: (i)(2) and § 6103(a) both hold on an (i)(2) request.
    assert not disjoint.rules("irc-6103-a", "irc-6103-i-2")


@pytest.mark.parametrize("name", ["conflict", "reach", "unknowns", "vacuous"])
def test_checks_dealt_to_two_processes_find_the_same_in_the_same_order(name: str) -> None:
    rules = _load(name)
    assert analyze(rules, CHECKS, jobs=2) == analyze(rules, CHECKS)


def test_a_check_out_of_budget_in_one_process_of_two_still_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from disclosure_rules.analysis import search

    if multiprocessing.get_start_method() != "fork":
        pytest.skip("the workers see the patched budget only when they are forked")
    monkeypatch.setattr(search, "LIMIT", 3)
    findings = analyze(_load("conflict"), ["conflict"], jobs=2)
    assert findings[-1].kind == "incomplete" and findings[-1].intended is None


def test_a_part_the_chain_cannot_make_true_is_stuck_before_the_hop_is_chosen(bundled: disclosure_rules.Rules) -> None:
    """With the origin left out, ``not return_information`` is false or unknown for every hop (a hop from the
    IRS only makes it false), so the independent-source rule can never hold: the search learns it without
    choosing the hop. A part the hop can make true is not stuck."""
    from disclosure_rules.analysis.domain import ABSENT
    from disclosure_rules.analysis.oracle import Oracle

    oracle = Oracle(bundled)
    day = datetime.date(2026, 3, 2)
    outside = {
        "date": day,
        "origin": ABSENT,
        "holder": "Treasury",
        "element": "wages",
        "recipient": "DOJ",
        "facts.data.deidentified": False,
        "facts.data.derived_from_return_information": False,
    }
    verdict = oracle.verdict(outside)
    assert verdict.states["irc-6103-independent-source"].holds is None
    assert oracle.stuck("irc-6103-independent-source", verdict, outside)
    # The D. Mass. use injunction holds once a hop from the IRS under (i)(2) is chosen: not stuck.
    mou = {"date": day, "holder": "ICE", "facts.data.received_under_mou": True}
    verdict = oracle.verdict(mou)
    assert verdict.states["dmass-cedc-2026-02-05-use"].holds is None
    assert not oracle.stuck("dmass-cedc-2026-02-05-use", verdict, mou)


def test_a_later_order_cannot_control_where_an_earlier_one_over_the_same_paragraphs_prohibits_too(
    bundled: disclosure_rules.Rules,
) -> None:
    """Where the D.D.C. order holds (an address from the IRS to DHS for a criminal case), the D. Mass. stay
    cannot be the rule that prohibits on the day it comes into force: both are exceptions to (i)(2) and
    (i)(3)(A), so the same chains hold above both and the first declared ranks above the other, whatever the
    facts still to be chosen. The rank bounds once took each rule's best and worst place apart, saw (i)(2)
    perhaps holding above one and not the other, and the diff searched every fact below to learn it."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import SideView, pair_possible, shared_states

    oracle = Oracle(bundled)
    before, after = datetime.date(2026, 2, 4), datetime.date(2026, 2, 6)
    changed = in_force_on_one(bundled, before, after)
    where = {"holder": "IRS", "recipient": "DHS", "element": "address", "purpose": "nontax_criminal_investigation"}
    views = []
    for day in (before, after):
        assignment = {"date": day, **where}
        views.append(SideView.of(oracle, oracle.verdict(assignment).states, assignment))
    ddc, mou = "ddc-ctr-2025-11-21", "dmass-cedc-2026-02-05-mou"
    assert views[1].ranks.above(ddc, mou) and not views[1].ranks.above(mou, ddc)
    i_2 = ("permit", "permitted", "irc-6103-i-2", tuple(bundled.book.rules["irc-6103-i-2"].obligations))
    stay = ("deny", "prohibited", mou, ())
    assert not pair_possible(views[0], views[1], (i_2, stay), shared_states(oracle, changed))


def test_a_diff_finds_the_values_a_move_takes_at_the_leaf_it_found_it_by(bundled: disclosure_rules.Rules) -> None:
    """Each value a region is described by is one a request of the region takes (every region's values are
    tried on its witness, and the witness so changed must move the same way), and the D.D.C. diff needs
    fewer partial requests than a search that must reach a leaf for each value."""
    from disclosure_rules.analysis import diff as diff_module
    from disclosure_rules.analysis.witness import redecide

    visited: list[int] = []
    run = diff_module._PairSearch.run

    def counting(self: diff_module._PairSearch, start: Any) -> None:
        run(self, start)
        visited.append(self.visited)

    before, after = datetime.date(2025, 11, 20), datetime.date(2025, 11, 22)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_module._PairSearch, "run", counting)
        regions = diff_module.diff_dates(bundled, before, after)
        patch.setattr(diff_module._PairSearch, "_spread", lambda *args: None)
        alone = diff_module.diff_dates(bundled, before, after)
    assert [r.description for r in regions] == [r.description for r in alone]
    assert visited[0] < visited[1]
    # The order reads the element alone of what the regions are told apart by: each region's witness moves
    # the same way with each of the region's elements.
    for region in regions:
        for element in region.fields["element"]:
            moved = []
            for day in (before, after):
                decision, _ = redecide(bundled, {**region.witness, "element": element, "date": day.isoformat()})
                # An indeterminate answer is compared without the permit it names (see Oracle.outcome).
                rule = None if decision.status == "indeterminate" else decision.rule
                moved.append((decision.decision, decision.status, rule))
            assert moved == [region.before[:3], region.after[:3]]


def test_a_use_of_data_a_hop_names_as_given_under_i_2_never_holds_for_a_route_the_hop_cannot_give(
    bundled: disclosure_rules.Rules,
) -> None:
    """DHS using, for its own criminal case, a name the IRS sent it in a hop named as an (i)(2) disclosure:
    while the hop's own decision turns on facts still to be chosen, `chain.received_under` is unknown. But the
    hop can only give (i)(2), or nothing: the (i)(3)(A) pass-on and the (c) designee's use can never hold
    there, which the evaluator itself now knows (it works the states out over every set of routes the hop can
    give), and the view of the partial request knows too; the diff need not search below to learn it. The
    (i)(2) use itself may still hold or not."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import SideView

    oracle = Oracle(bundled)
    assignment = held_by_dhs_from_an_i2_hop(
        {"date": datetime.date(2026, 2, 6)}, hop={"date": datetime.date(2025, 11, 20)}
    )
    verdict = oracle.verdict(assignment)
    states = verdict.states
    for rid in ("irc-6103-i-3-head-pass-on", "irc-6103-c-designee-use"):
        assert states[rid].holds is False, rid  # false for (i)(2) and for nothing, all the hop can give
    assert states["irc-6103-i-recipient-use"].holds is None
    view = SideView.of(oracle, states, assignment)
    assert True not in view.values[("holds", "irc-6103-i-3-head-pass-on")]
    assert True not in view.values[("holds", "irc-6103-c-designee-use")]
    assert True in view.values[("holds", "irc-6103-i-recipient-use")]


def test_the_routes_a_hop_gave_are_the_same_on_both_dates_of_a_diff(bundled: disclosure_rules.Rules) -> None:
    """DHS putting before a court a name the IRS sent it in a hop named as an (i)(2) disclosure: "(i)(4)(B)
    permits the day before the D. Mass. order, and the request is undecided the day after". Each side alone
    allows it (the hop may give (i)(2) on the first date and leave its routes unknown on the second). The hop
    is decided on its own date, the same on both sides, so the pair test asks about each value the routes may
    come to on both sides at once: where the hop gives nothing, or leaves its routes unknown, (i)(4)(B) cannot
    apply the day before, and the move is ruled out."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import SideView, pair_possible, shared_states

    oracle = Oracle(bundled)
    before, after = datetime.date(2026, 2, 4), datetime.date(2026, 2, 6)
    changed = in_force_on_one(bundled, before, after)
    base = held_by_dhs_from_an_i2_hop(
        {"recipient": "federal_court", "facts.data.received_under_mou": True},
        hop={"date": datetime.date(2025, 12, 1)},
    )
    sides = [{**base, "date": before}, {**base, "date": after}]
    verdicts = [oracle.verdict(side) for side in sides]
    shared = shared_states(oracle, changed)
    i_4_b = ("permit", "permitted", "irc-6103-i-4-b", tuple(bundled.book.rules["irc-6103-i-4-b"].obligations))
    move = (i_4_b, ("deny", "indeterminate", None, ()))
    apart = [SideView.of(oracle, v.states, side) for v, side in zip(verdicts, sides, strict=True)]
    assert pair_possible(apart[0], apart[1], move, shared)
    options = oracle.route_options(sides[0])
    assert options is not None and frozenset({"6103(i)(2)"}) in options and len(options) == 3
    for routes in options:
        if routes == frozenset({"6103(i)(2)"}):
            continue
        views = [SideView.of(oracle, v.states, side, routes) for v, side in zip(verdicts, sides, strict=True)]
        assert not pair_possible(views[0], views[1], move, shared), routes


def test_what_a_new_order_moves_it_moves_one_way(bundled: disclosure_rules.Rules) -> None:
    """The D. Mass. orders come into force on 2026-02-05, and nothing else changes that day: they can only
    take (i)(2), (i)(3)(A), (i)(4)(B) and the recipient's (i) use away, so § 6103(a) can only prohibit more.
    A request § 6103(a) prohibits the day before is prohibited the day after: it cannot be permitted as
    outside § 6103 then, though each side taken alone allows either answer. The states both sides share
    rule it out (Kleene's logic read both ways: no exception to § 6103(a) that failed the day before can
    apply the day after), and so does the direction each state may move in."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import SideView, pair_possible, rising_states, shared_states

    oracle = Oracle(bundled)
    before, after = datetime.date(2026, 2, 4), datetime.date(2026, 2, 6)
    rising = rising_states(oracle, before, after)
    assert {
        (("holds", "dmass-cedc-2026-02-05-use"), 1),
        (("applies", "irc-6103-i-2"), -1),
        (("applies", "irc-6103-i-4-b"), -1),
        (("applies", "irc-6103-a"), 1),
        (("prohibits", "irc-6103-a"), 1),
    } <= rising
    assert not any(var[1] == "irc-6103-c" for var, _way in rising)  # consent is untouched by the orders
    changed = in_force_on_one(bundled, before, after)
    shared = shared_states(oracle, changed)
    sides = [{"date": day, "holder": "IRS", "recipient": "DHS"} for day in (before, after)]
    views = [SideView.of(oracle, oracle.verdict(side).states, side) for side in sides]
    move = (("deny", "prohibited", "irc-6103-a", ()), ("permit", "permitted", "irc-6103-independent-source", ()))
    assert views[0].alone(move[0]) is not None and views[1].alone(move[1]) is not None
    assert not pair_possible(views[0], views[1], move, shared)
    assert not pair_possible(views[0], views[1], move, frozenset(), rising)


def test_a_hop_whose_route_cannot_serve_the_request_gives_nothing_before_its_keys_are_chosen(
    bundled: disclosure_rules.Rules,
) -> None:
    """DHS putting before a court, for tax administration, data a hop from the IRS names as an (i)(2)
    disclosure: an (i)(2) disclosure serves only a criminal case, so whatever the hop's sender and date turn
    out to be, it gave no route; the routes can only be none, and (i)(4)(B) can never hold."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import SideView

    oracle = Oracle(bundled)
    assignment = held_by_dhs_from_an_i2_hop(
        {"date": datetime.date(2026, 2, 6), "recipient": "federal_court", "purpose": "tax_administration"},
        hop={"from": None},
    )
    assert oracle.route_options(assignment) == [frozenset()]
    # A partial request is a value: each is a new dict (the oracle keeps the last one's environment).
    options = oracle.route_options({**assignment, "purpose": "nontax_criminal_investigation"})
    assert options is not None and frozenset({"6103(i)(2)"}) in options
    verdict = oracle.verdict(assignment)
    view = SideView.of(oracle, verdict.states, assignment)
    assert True not in view.values[("holds", "irc-6103-i-4-b")]


def test_a_rule_that_holds_and_does_not_apply_has_an_exception_that_applies(bundled: disclosure_rules.Rules) -> None:
    """Kleene's logic, read backwards: a rule that holds fails to apply only through an exception that
    applies (the only one that may, then does); unknown, only while no exception applies; and a forbid that
    applies fails to prohibit only where no source of its standing prohibits."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import ANY, FALSE, TRUE, UNKNOWN_ONLY, _tree

    oracle = Oracle(bundled)
    tree = _tree(oracle)
    rid = next(r for r in oracle.ids if len(oracle.exceptions[r]) >= 2)
    first, *others = oracle.exceptions[rid]

    def values(applies: frozenset[bool | None]) -> dict[tuple[str, str], frozenset[bool | None]]:
        out = {(kind, r): ANY for r in oracle.ids for kind in ("holds", "applies")}
        out.update({("prohibits", f): ANY for f in tree.forbids})
        out[("holds", rid)], out[("applies", rid)] = TRUE, applies
        out.update({("applies", e): FALSE for e in others})
        return out

    narrowed = values(FALSE)
    tree.narrow_applies(narrowed, rid, [])
    assert narrowed[("applies", first)] == TRUE
    narrowed = values(UNKNOWN_ONLY)
    tree.narrow_applies(narrowed, rid, [])
    assert narrowed[("applies", first)] == UNKNOWN_ONLY  # false would make the rule apply

    forbid = next(f for f in tree.forbids if tree.sources[f])
    narrowed = {(kind, r): ANY for r in oracle.ids for kind in ("holds", "applies")}
    narrowed.update({("prohibits", f): ANY for f in tree.forbids})
    narrowed[("applies", forbid)], narrowed[("prohibits", forbid)] = TRUE, FALSE
    tree.narrow_prohibits(narrowed, forbid, [])
    assert all(narrowed[("prohibits", source)] == FALSE for source in tree.sources[forbid] or ())


def test_routes_a_hop_leaves_unknown_for_good_stay_possible(bundled: disclosure_rules.Rules) -> None:
    """A whole hop chosen, and every fact its (i)(2) permit reads left out: the hop's decision stays unknown
    for good, and so do the routes, though no granting permit may still come to apply. The values the routes
    may come to must keep "unknown" (a bound that left it out once refuted moves that turn on it)."""
    from disclosure_rules.analysis.domain import ABSENT
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.engine.compiler import UNKNOWN

    oracle = Oracle(bundled)
    assignment = held_by_dhs_from_an_i2_hop(
        {"date": datetime.date(2026, 2, 6), "origin": frozenset({"irs_records"})},
        hop={"date": datetime.date(2025, 8, 1)},
    )
    assignment.update({p: ABSENT for p in oracle.space.paths if p.startswith("facts.")})
    options = oracle.route_options(assignment)
    assert options is not None and UNKNOWN in options


def _tests_of(book: Any, path: str) -> set[tuple[str, Any, bool]]:
    """Every test the rules make of ``path``: (operator, the literal, whether the path is on the left)."""
    from disclosure_rules.analysis.conditions import _comparisons
    from disclosure_rules.language.ast import Group, Path, Value, ValueSet

    found: set[tuple[str, Any, bool]] = set()
    opened: set[str] = set()
    for rule in book.rules.values():
        for node in _comparisons(rule.condition, book.definitions, opened):
            for side, other, left in ((node.left, node.right, True), (node.right, node.left, False)):
                if isinstance(side, Path) and side.path == path:
                    assert isinstance(other, (Value, ValueSet, Group)), node
                    literal = other.value if isinstance(other, Value) else frozenset(other.values)
                    found.add((node.op, literal, left))
    return found


def test_a_set_read_only_by_membership_is_split_by_the_classes_it_meets() -> None:
    """The origin is read only by membership tests (`in`, `overlaps`, `within`), so the search splits it into
    one set per choice of the classes of values it meets, one value standing for each class: every set of
    origins a request may give behaves, in every test the rules make of it, as one of those."""
    import itertools

    from disclosure_rules.analysis.domain import ABSENT, Space
    from disclosure_rules.engine.compiler import _ORDER

    rules = disclosure_rules.load()
    space = Space(rules)
    assert "origin" not in space.all_tests.whole
    tests = sorted(_tests_of(rules.book, "origin"), key=str)
    assert tests and {op for op, _, _ in tests} <= {"in", "not in", "overlaps", "within"}

    def signature(origins: frozenset[str]) -> tuple[Any, ...]:
        return tuple(_ORDER[op](origins, lit) if left else _ORDER[op](lit, origins) for op, lit, left in tests)

    choices = [c.value for c in space.choices("origin", {}, list(rules.book.rules)) if c.value is not ABSENT]
    represented = {signature(value) for value in choices}
    values = space.paths["origin"].values
    classes = space._classes("origin", space.paths["origin"], space.all_tests, {})
    assert len(choices) <= 2 ** len(classes)  # one class met or not, not also each part of it
    for size in range(1, len(values) + 1):
        for combo in itertools.combinations(values, size):
            assert signature(frozenset(combo)) in represented, combo


_STATES: list[bool | None] = [True, False, None]
_STATE_SETS = st.frozensets(st.sampled_from(_STATES))


def _kleene_and_of(values: tuple[bool | None, ...]) -> bool | None:
    if False in values:
        return False
    return True if all(v is True for v in values) else None


@settings(max_examples=400, deadline=None)
@given(operands=st.lists(_STATE_SETS, min_size=1, max_size=4), result=_STATE_SETS)
def test_kleene_and_keeps_exactly_the_values_some_choice_of_the_others_agrees_with(
    operands: list[frozenset[bool | None]], result: frozenset[bool | None]
) -> None:
    """The narrowing the diff's pair test rests on, against every choice of the operands: a value is kept
    if and only if some choice of the others' values, with a result allowed, agrees with it (never more,
    which would slow the search; never less, which would make it incomplete)."""
    import itertools

    from disclosure_rules.analysis.outcomes import _kleene_and

    agreeing = [combo for combo in itertools.product(*operands) if _kleene_and_of(combo) in result]
    narrowed, out = _kleene_and(operands, result)
    if not agreeing:
        assert out == frozenset() or not all(narrowed)
        return
    assert out == frozenset(_kleene_and_of(c) for c in agreeing)
    assert narrowed == [frozenset(c[i] for c in agreeing) for i in range(len(operands))]


def test_an_indeterminate_answer_needs_an_unknown_forbid_beside_a_permit_or_an_unknown_permit_and_none_sure(
    bundled: disclosure_rules.Rules,
) -> None:
    """The evaluator answers "indeterminate" when no forbid prohibits and either a forbid is unknown beside a
    permit that applies or may, or a permit is unknown and none surely applies. A side whose forbids are all
    settled false and one of whose permits surely applies cannot come to it, nor one with no permit left; one
    with an unknown permit and no forbid can."""
    from disclosure_rules.analysis.oracle import Oracle
    from disclosure_rules.analysis.outcomes import FALSE, TRUE, UNKNOWN_ONLY, SideView

    oracle = Oracle(bundled)
    side = {"date": datetime.date(2026, 1, 5), "holder": "DHS"}
    view = SideView.of(oracle, oracle.verdict(side).states, side)
    undecided = ("deny", "indeterminate", None, ())
    assert view.allowed(undecided) is not None
    no_forbid = {("prohibits", f): FALSE for f in view.forbids}
    first = view.permits[0]
    assert view.allowed(undecided, {**no_forbid, ("applies", first): TRUE}) is None
    assert view.allowed(undecided, {("applies", p): FALSE for p in view.permits}) is None
    assert view.allowed(undecided, {**no_forbid, ("applies", first): UNKNOWN_ONLY}) is not None


def test_a_set_is_split_once_per_answer_of_the_tests_that_read_it(bundled: disclosure_rules.Rules) -> None:
    """The origins a search tries are one per way the rules' tests of the origin can answer (whether it is
    empty, and which listed values it meets): every set of origins answers like one of them, and no two of
    them answer alike. The set's classes alone gave 255 unions for the bundled law."""
    import itertools

    from disclosure_rules.analysis.domain import ABSENT
    from disclosure_rules.analysis.oracle import Oracle

    oracle = Oracle(bundled)
    space = oracle.space
    info = space.paths["origin"]
    listed = sorted(space.all_tests.literals["origin"], key=sorted)

    def answers(value: frozenset[str]) -> tuple[bool, ...]:
        return (bool(value), *(not value.isdisjoint(values) for values in listed))

    chosen = [c.value for c in space.choices("origin", {}, oracle.ids) if c.value is not ABSENT]
    assert len({answers(v) for v in chosen}) == len(chosen)
    every = {
        answers(frozenset(c))
        for size in range(0 if info.allow_empty else 1, len(info.values) + 1)
        for c in itertools.combinations(info.values, size)
    }
    assert every == {answers(v) for v in chosen}
    assert len(chosen) < 255
