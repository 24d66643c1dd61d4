"""Request validation: every problem named with its JSON path, nothing undeclared ignored."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from disclosure_rules import Rules
from disclosure_rules.intake.request import MAX_SET_ITEMS, RequestReader


def errors_of(rules: Rules, request: Any) -> list[tuple[str, str | None, str | None]]:
    _env, errors = RequestReader(rules.vocabulary).read(request)
    return [(e.code, e.path, e.help) for e in errors]


def test_a_valid_request_becomes_a_flat_environment(bundled: Rules, i2_request: dict[str, Any]) -> None:
    env, errors = RequestReader(bundled.vocabulary).read(i2_request)
    assert errors == []
    assert env["date"] == datetime.date(2025, 8, 7)
    assert env["origin"] == frozenset({"irs_records"})
    assert env["facts.request.signed_by"] == "agency_head"
    assert env["facts.data.deidentified"] is False  # a presumption declared in the vocabulary
    assert env["chain.from"] == frozenset()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.update(colour="red"), ("unknown_key", "$.colour", None)),
        (lambda r: r.update(elemnt="address"), ("unknown_key", "$.elemnt", "did you mean `element`?")),
        (
            lambda r: r.update(purpose="nontax_criminal_investigaton"),
            ("unknown_value", "$.purpose", "did you mean `nontax_criminal_investigation`?"),
        ),
        (lambda r: r.pop("holder"), ("missing_key", "$.holder", None)),
        (lambda r: r.update(date="2025-02-30"), ("bad_date", "$.date", None)),
        (lambda r: r.update(date="20250807"), ("bad_date", "$.date", None)),
        (lambda r: r.update(origin=["irs_records", 3]), ("wrong_type", "$.origin[1]", None)),
        (lambda r: r["facts"]["request"].update(in_writing="yes"), ("wrong_type", "$.facts.request.in_writing", None)),
        (lambda r: r["facts"]["request"].update(in_writing=1), ("wrong_type", "$.facts.request.in_writing", None)),
        (lambda r: r["facts"].update(requst={}), ("unknown_fact", "$.facts.requst", "did you mean `request`?")),
        (lambda r: r["facts"].update(request=[]), ("wrong_type", "$.facts.request", None)),
        (lambda r: r.update(chain={}), ("wrong_type", "$.chain", None)),
        (
            lambda r: r.update(chain=[{"from": "IRS", "to": "ICE", "route": "6103(i)(2)"}]),
            ("missing_key", "$.chain[0].date", None),
        ),
        (
            lambda r: r.update(
                chain=[{"from": "IRS", "to": "ICE", "route": "6103(i)(2)", "date": "2025-08-07", "via": "x"}]
            ),
            ("unknown_key", "$.chain[0].via", None),
        ),
        (lambda r: r["facts"]["matter"].update(statute="x" * 10_001), ("too_large", "$.facts.matter.statute", None)),
        (lambda r: r.update(origin=["irs_records"] * (MAX_SET_ITEMS + 1)), ("too_large", "$.origin", None)),
        (lambda r: r.update({"weird key": 1}), ("unknown_key", '$["weird key"]', None)),
    ],
)
def test_each_problem_is_named_with_its_path(
    bundled: Rules, i2_request: dict[str, Any], change: Any, expected: tuple[str, str, str | None]
) -> None:
    change(i2_request)
    found = errors_of(bundled, i2_request)
    assert expected[:2] in [f[:2] for f in found]
    if expected[2] is not None:
        assert expected in found


@pytest.mark.parametrize("value", [None, [], "text", 3, True])
def test_a_request_must_be_an_object(bundled: Rules, value: Any) -> None:
    assert errors_of(bundled, value) == [("not_an_object", "$", None)]


def test_null_means_unknown(bundled: Rules, i2_request: dict[str, Any]) -> None:
    i2_request["facts"]["recipients"]["personally_engaged"] = None
    env, errors = RequestReader(bundled.vocabulary).read(i2_request)
    assert errors == []
    assert "facts.recipients.personally_engaged" not in env


def test_a_single_string_is_a_set_of_one(bundled: Rules, i2_request: dict[str, Any]) -> None:
    i2_request["origin"] = "irs_records"
    env, _ = RequestReader(bundled.vocabulary).read(i2_request)
    assert env["origin"] == frozenset({"irs_records"})


def test_all_problems_are_reported_together(bundled: Rules, i2_request: dict[str, Any]) -> None:
    i2_request.update(holder="IRSS", purpose="x", colour=1)
    assert len(errors_of(bundled, i2_request)) == 3


def test_chain_projections(bundled: Rules, i2_request: dict[str, Any]) -> None:
    i2_request["chain"] = [
        {"from": "IRS", "to": "ICE", "route": "6103(i)(2)", "date": "2025-08-07"},
        {"from": "ICE", "to": "DOJ", "route": "other", "date": "2025-09-01"},
    ]
    i2_request["holder"] = "DOJ"  # a chain ends at the holder
    i2_request["date"] = "2025-10-01"  # and comes before the request
    env, errors = RequestReader(bundled.vocabulary).read(i2_request)
    assert errors == []
    assert env["chain.from"] == frozenset({"IRS", "ICE"})
    assert env["chain.route"] == frozenset({"6103(i)(2)", "other"})


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        # The second hop leaves from somewhere the first did not go.
        ({"from": "FBI", "to": "DOJ", "route": "other", "date": "2025-09-01"}, [("broken_chain", "$.chain[1].from")]),
        # It is dated before the first: a chain listed out of order would hide the hop into the holder.
        ({"from": "ICE", "to": "DOJ", "route": "other", "date": "2025-08-01"}, [("broken_chain", "$.chain[1].date")]),
        ({"from": "ICE", "to": "DOJ", "route": "other", "date": "2025-08-07"}, []),  # the same day is in order
    ],
)
def test_a_chain_is_read_oldest_hop_first_each_leaving_from_where_the_last_arrived(
    bundled: Rules, i2_request: dict[str, Any], second: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    i2_request["chain"] = [{"from": "IRS", "to": "ICE", "route": "6103(i)(2)", "date": "2025-08-07"}, second]
    i2_request["holder"] = second["to"]  # a chain ends at the holder
    i2_request["date"] = "2025-10-01"  # and comes before the request
    assert [(code, path) for code, path, _help in errors_of(bundled, i2_request)] == expected
    if expected:
        assert bundled.check(i2_request).status == "error"


@pytest.mark.parametrize(
    ("holder", "chain", "expected"),
    [
        # The chain ends somewhere else: it does not say how the holder got the data.
        (
            "SSA",
            [{"from": "IRS", "to": "ICE", "route": "6103(i)(2)", "date": "2025-03-01"}],
            [("broken_chain", "$.chain[0].to")],
        ),
        # A hop "within one agency" between two agencies.
        (
            "SSA",
            [{"from": "IRS", "to": "SSA", "route": "internal", "date": "2025-03-01"}],
            [("broken_chain", "$.chain[0].route")],
        ),
        # Within one agency, and an (h)(1) disclosure within the IRS, are hops like any other.
        (
            "SSA",
            [
                {"from": "IRS", "to": "SSA", "route": "6103(l)(1)", "date": "2025-03-01"},
                {"from": "SSA", "to": "SSA", "route": "internal", "date": "2025-03-02"},
            ],
            [],
        ),
        ("IRS", [{"from": "IRS", "to": "IRS", "route": "6103(h)(1)", "date": "2025-03-01"}], []),
        # A hop to its sender under a route that carries data from one agency to another: (l)(1) is the
        # IRS's disclosure to SSA, never SSA's to itself.
        (
            "SSA",
            [{"from": "SSA", "to": "SSA", "route": "6103(l)(1)", "date": "2025-03-01"}],
            [("broken_chain", "$.chain[0].route")],
        ),
        # A hop after the request: the chain says how the holder got the data before the disclosure asked
        # about (the request is dated 2025-08-01).
        (
            "SSA",
            [{"from": "IRS", "to": "SSA", "route": "6103(l)(1)", "date": "2025-08-02"}],
            [("broken_chain", "$.chain[0].date")],
        ),
        ("SSA", [{"from": "IRS", "to": "SSA", "route": "6103(l)(1)", "date": "2025-08-01"}], []),
    ],
)
def test_a_chain_ends_at_the_holder_and_an_internal_hop_stays_within_one_agency(
    bundled: Rules,
    i2_request: dict[str, Any],
    holder: str,
    chain: list[dict[str, Any]],
    expected: list[tuple[str, str]],
) -> None:
    i2_request["holder"] = holder
    i2_request["chain"] = chain
    i2_request["date"] = "2025-08-01"
    assert [(code, path) for code, path, _help in errors_of(bundled, i2_request)] == expected
    if expected:
        assert bundled.check(i2_request).decision == "deny"


MOU_FACT = "$.facts.data.received_under_mou"
STATED = {"data": {"received_under_mou": True}}


@pytest.mark.parametrize(
    ("holder", "facts", "chain", "expected"),
    [
        # The request says the data came through the memorandum; its hop from the IRS says an emergency.
        ("ICE", STATED, [("IRS", "ICE", "6103(i)(3)(B)")], [MOU_FACT]),
        ("ICE", {"request": {"under_mou": True}}, [("IRS", "ICE", "6103(i)(1)")], ["$.facts.request.under_mou"]),
        # An internal hop after the relabelled one does not hide it.
        ("ICE", STATED, [("IRS", "ICE", "6103(i)(7)"), ("ICE", "ICE", "internal")], [MOU_FACT]),
        # A chain that starts elsewhere (another agency, or the holder itself) shows no hop from the IRS.
        ("ICE", STATED, [("IRS", "DHS", "6103(i)(5)"), ("DHS", "ICE", "6103(i)(2)")], [MOU_FACT]),
        ("ICE", STATED, [("SSA", "ICE", "ina_1360_b")], [MOU_FACT]),
        ("ICE", STATED, [("ICE", "ICE", "internal")], [MOU_FACT]),
        ("ICE", STATED, [("IRS", "FBI", "6103(i)(2)"), ("FBI", "ICE", "other")], [MOU_FACT]),
        # A hop from the IRS to DHS or a component under a route of the memorandum, before or after others.
        ("ICE", STATED, [("IRS", "ICE", "6103(i)(2)")], []),
        ("ICE", STATED, [("IRS", "ICE", "6103(i)(3)")], []),
        ("ICE", STATED, [("IRS", "ICE", "6103(m)(2)")], []),
        ("ICE", STATED, [("IRS", "DHS", "6103(i)(2)"), ("DHS", "ICE", "6103(c)")], []),
        # Only a stated fact claims anything: presumed, or stated false, it does not.
        ("ICE", {}, [("IRS", "ICE", "6103(i)(3)(B)")], []),
        ("ICE", {"data": {"received_under_mou": False}}, [("IRS", "ICE", "6103(i)(3)(B)")], []),
        # The memorandum is DHS's: another holder stating the presumed value is not contradicted by its chain.
        ("SSA", {"request": {"under_mou": True}}, [("IRS", "SSA", "6103(l)(1)")], []),
        ("FBI", STATED, [("IRS", "FBI", "6103(i)(3)(B)")], []),
    ],
)
def test_a_fact_saying_the_data_came_through_the_memorandum_must_not_contradict_the_hop_from_the_irs(
    bundled: Rules, holder: str, facts: dict[str, Any], chain: list[tuple[str, str, str]], expected: list[str]
) -> None:
    request = {
        "date": "2026-03-01",
        "element": "address",
        "holder": holder,
        "origin": ["irs_records"],
        "recipient": holder,
        "purpose": "imminent_danger",
        "facts": facts,
        "chain": [{"from": f, "to": t, "route": r, "date": "2025-08-07"} for f, t, r in chain],
    }
    found = [(code, path) for code, path, _help in errors_of(bundled, request)]
    assert found == [("contradicts_chain", path) for path in expected]
    if expected:
        decision = bundled.check(request)
        assert (decision.decision, decision.status) == ("deny", "error")
        assert "under a route such a disclosure goes under" in decision.errors[0].message


@pytest.mark.parametrize(
    ("data", "request_fact", "refused"),
    [
        (True, False, True),
        (False, True, True),
        (True, True, False),
        (False, False, False),
        (False, None, False),  # one stated, the other left to its presumption: the stated one stands
        (None, False, False),
        (None, None, False),
    ],
)
def test_two_facts_that_say_the_same_thing_of_one_disclosure_must_not_be_stated_differently(
    bundled: Rules, data: bool | None, request_fact: bool | None, refused: bool
) -> None:
    facts: dict[str, Any] = {}
    if data is not None:
        facts["data"] = {"received_under_mou": data}
    if request_fact is not None:
        facts["request"] = {"under_mou": request_fact}
    request = {
        "date": "2026-03-01",
        "element": "address",
        "holder": "ICE",
        "origin": ["irs_records"],
        "recipient": "ICE",
        "purpose": "nontax_criminal_investigation",
        "facts": facts,
        "chain": [{"from": "IRS", "to": "ICE", "route": "6103(i)(2)", "date": "2025-08-07"}],
    }
    found = [(code, path) for code, path, _help in errors_of(bundled, request)]
    assert found == ([("contradicts_itself", MOU_FACT)] if refused else [])


def test_every_reader_refuses_the_two_memorandum_facts_stated_differently(bundled: Rules) -> None:
    """Without a chain a request is read by the generated readers (one call, a batch, a flat record and its
    generated decider), not only by the full reader: each refuses what the full reader refuses, whatever was
    decided before it (a case with one of the facts left out is another case)."""
    base: dict[str, Any] = {
        "date": "2026-03-01",
        "element": "statistics",
        "holder": "ICE",
        "origin": ["match_against_irs_data"],
        "recipient": "public",
        "purpose": "statistics",
        "facts": {"data": {"deidentified": True}},
    }
    fields = {name: value for name, value in base.items() if name != "facts"}
    columns = {
        **{name: name for name in fields},
        "deidentified": "facts.data.deidentified",
        "received": "facts.data.received_under_mou",
        "request": "facts.request.under_mou",
    }
    for received, request_fact in [(False, True), (True, False)]:
        conflicting = copy.deepcopy(base)
        conflicting["facts"]["data"]["received_under_mou"] = received
        conflicting["facts"]["request"] = {"under_mou": request_fact}
        alone = copy.deepcopy(conflicting)
        del alone["facts"]["request"]  # the stated fact stands: outside the statistics bar if false
        expected_alone = "permit" if received is False else "deny"
        for batch in ([alone, conflicting, alone], [conflicting, alone, conflicting]):
            decisions = [d.decision + "/" + d.status for d in bundled.check_many(batch)]
            singles = [f"{d.decision}/{d.status}" for d in map(bundled.check, batch)]
            assert decisions == singles
            for request, decided in zip(batch, decisions, strict=True):
                if request is conflicting:
                    assert decided == "deny/error"
                else:
                    assert decided.startswith(expected_alone)
        records = bundled.records(columns)
        row = {**fields, "deidentified": True, "received": received, "request": request_fact}
        lone = {**row, "request": None}
        assert records.check(lone).decision == expected_alone
        assert records.check(row).status == "error"
        assert [d.status for d in records.check_many([lone, row, lone, row])][1::2] == ["error", "error"]
