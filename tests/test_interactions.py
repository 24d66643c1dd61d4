"""Interactions, generated from the rules and the scenarios rather than written one near miss at a time.

Every scenario request is moved across the dates on which a rule starts or ends and across the recipients a
court order names; on each such request:

- every forbidding exception is checked against the rule set without it: where none of the rules it is an
  exception to holds, on the request or on any hop of its chain (each hop is decided too), removing it
  changes no decision (an exception stays in its scope);
- every list a request can give (other than the chain, whose emptiness is itself a claim) is emptied: no
  empty list turns a denial into a permit (empty evidence proves nothing).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from disclosure_rules import Rules, testing
from disclosure_rules.checker import bundled_rules_path
from disclosure_rules.engine.evaluator import decide
from disclosure_rules.engine.provenance import hop_environment
from disclosure_rules.intake.request import RequestReader
from disclosure_rules.rulebook.model import Rulebook

from .test_properties import RULES, valid_value

SUITES = testing.load_suites([bundled_rules_path() / "tests"])
SCENARIO_REQUESTS = [s.request for suite in SUITES for s in suite.scenarios if isinstance(s.request, dict)]


def _dates(book: Rulebook) -> list[str]:
    days: set[datetime.date] = set()
    for rule in book.rules.values():
        for day in (rule.effective.start, rule.effective.end):
            if day is not None:
                days.update({day - datetime.timedelta(days=1), day, day + datetime.timedelta(days=1)})
    return sorted(d.isoformat() for d in days)


def _variants(book: Rulebook) -> Iterator[dict[str, Any]]:
    recipients = (*book.vocabulary.groups["immigration_enforcement_agencies"].values, "FBI")
    for request in SCENARIO_REQUESTS:
        yield request
        for day in _dates(book):
            yield {**request, "date": day}
        for recipient in recipients:
            yield {**request, "recipient": recipient, "date": "2026-03-01"}


@functools.cache
def _without(rule_id: str) -> Rules:
    from disclosure_rules import load

    book = load().book
    rules = {rid: r for rid, r in book.rules.items() if rid != rule_id}
    return Rules(attrs.evolve(book, rules=rules))


def _decided_envs(rules: Rules, env: dict[str, Any]) -> Iterator[Any]:
    """The states of the request and of every hop its chain leads through (each hop is decided too)."""
    current: dict[str, Any] | None = env
    while current is not None:
        yield decide(rules.compiled, current, current["date"]).states
        current = hop_environment(rules.compiled, current)


def _forbidding_exceptions(book: Rulebook) -> list[str]:
    return [rid for rid, r in book.rules.items() if r.kind == "forbid" and r.exception_to]


def test_an_exception_never_changes_a_decision_where_its_parent_does_not_hold(bundled: Rules) -> None:
    book = bundled.book
    reader = RequestReader(book.vocabulary)
    checked = 0
    for request in _variants(book):
        env, errors = reader.read(request)
        if errors:
            continue
        every_states = list(_decided_envs(bundled, env))
        full = bundled.check(request)
        for rid in _forbidding_exceptions(book):
            parents = [states[p].holds for states in every_states for p in book.rules[rid].exception_to]
            if True in parents:
                continue
            alone = _without(rid).check(request)
            checked += 1
            assert alone.decision == full.decision, (rid, request)
            if all(held is False for held in parents):
                assert alone.status == full.status, (rid, request)
    assert checked > 1_000


def test_removing_an_exception_never_turns_a_permit_of_another_route_into_a_deny(bundled: Rules) -> None:
    book = bundled.book
    reader = RequestReader(book.vocabulary)
    checked = 0
    for request in _variants(book):
        env, errors = reader.read(request)
        hop_states = list(_decided_envs(bundled, env))[1:] if not errors else []
        full = bundled.check(request)
        for rid in _forbidding_exceptions(book):
            alone = _without(rid).check(request)
            if alone.decision != "permit" or alone.rule in book.rules[rid].exception_to:
                continue
            if any(states[rid].applies is not False for states in hop_states):
                continue  # it governs a hop of the chain, and so what the holder lawfully received
            checked += 1
            assert (full.decision, full.rule) == ("permit", alone.rule), (rid, request)
    assert checked > 500


def _list_paths(request: dict[str, Any], book: Rulebook) -> Iterator[tuple[str, ...]]:
    vocabulary = book.vocabulary
    for name, slot in vocabulary.fields.items():
        if slot.type.kind == "set":
            yield (name,)
    for path, slot in vocabulary.facts.items():
        if slot.type.kind == "set":
            yield ("facts", *path.split(".")[1:])


def _set(request: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    if len(path) == 1:
        return {**request, path[0]: value}
    inner = request.get(path[0])
    return {**request, path[0]: _set(inner if isinstance(inner, dict) else {}, path[1:], value)}


def test_no_empty_list_turns_a_denial_into_a_permit(bundled: Rules) -> None:
    book = bundled.book
    tried = 0
    for request in _variants(book):
        before = bundled.check(request)
        if before.decision == "permit":
            continue
        for path in _list_paths(request, book):
            after = bundled.check(_set(request, path, []))
            tried += 1
            assert after.decision == "deny", (path, request, after.rule)
    assert tried > 1_000


@pytest.mark.parametrize("element", ["address", "income", "wages"])
def test_an_empty_origin_is_an_error_naming_the_path(bundled: Rules, element: str) -> None:
    request = {
        "date": "2026-01-15",
        "element": element,
        "holder": "SSA",
        "origin": [],
        "recipient": "ICE",
        "purpose": "civil_immigration_enforcement",
    }
    d = bundled.check(request)
    assert (d.decision, d.status) == ("deny", "error")
    assert d.errors[0].code == "empty_list" and d.errors[0].path == "$.origin"


def test_i4_proceedings_use_only_data_received_under_the_routes_i4_names(bundled: Rules) -> None:
    """(i)(4)(B) reaches (1), (2), (3)(A) or (C), (7); (A) reaches (1): every other route, on every request
    of the scenarios that reaches a court, leaves both unmet."""
    book = bundled.book
    i4b = set(book.vocabulary.groups["i4b_routes"].values) | {"6103(i)(3)"}
    routes = [r for r in book.vocabulary.enums["route"].values if r not in i4b]
    tried = 0
    for request in SCENARIO_REQUESTS:
        if request.get("recipient") not in ("federal_court", "administrative_forum") or not request.get("chain"):
            continue
        if request.get("purpose") == "tax_administration":
            continue  # a tax proceeding is (h)(4)'s, not (i)(4)'s
        for route in routes:
            hops = [dict(request["chain"][-1], route=route)]
            d = bundled.check({**request, "chain": hops})
            tried += 1
            assert d.decision == "deny", (route, request)
    assert tried > 50


# -- the same properties over generated requests (hypothesis) ---------------------------------------------


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request over the whole vocabulary: every field, some facts, and at most one hop into the holder."""
    vocabulary = RULES.vocabulary
    request: dict[str, Any] = {name: draw(valid_value(slot)) for name, slot in vocabulary.fields.items()}
    if isinstance(request.get("origin"), list) and not request["origin"]:
        request["origin"] = ["irs_records"]
    facts: dict[str, Any] = {}
    for path in draw(st.lists(st.sampled_from(list(vocabulary.facts)), max_size=8, unique=True)):
        *groups, leaf = path.split(".")[1:]
        node = facts
        for group in groups:
            node = node.setdefault(group, {})
        node[leaf] = draw(valid_value(vocabulary.facts[path]))
    request["facts"] = facts
    if draw(st.booleans()):
        hop = {key: draw(valid_value(slot)) for key, slot in vocabulary.hop.items()}
        hop["to"] = request["holder"]
        request["chain"] = [hop]
    return request


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_generated_an_exception_stays_in_its_scope(request: dict[str, Any]) -> None:
    book = RULES.book
    env, errors = RequestReader(book.vocabulary).read(request)
    if errors:
        return
    every_states = list(_decided_envs(RULES, env))
    full = RULES.check(request)
    for rid in _forbidding_exceptions(book):
        parents = [states[p].holds for states in every_states for p in book.rules[rid].exception_to]
        alone = _without(rid).check(request)
        if True not in parents:
            assert alone.decision == full.decision, rid
        if alone.decision == "permit" and alone.rule not in book.rules[rid].exception_to and True not in parents:
            assert full.decision == "permit", rid


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_generated_no_empty_list_turns_a_denial_into_a_permit(request: dict[str, Any]) -> None:
    if RULES.check(request).decision == "permit":
        return
    for path in _list_paths(request, RULES.book):
        assert RULES.check(_set(request, path, [])).decision == "deny", path
