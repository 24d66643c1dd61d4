"""Invariants over generated requests, valid and malformed (hypothesis).

* The case cache never changes a decision: ``check`` (cached) equals ``decide_uncached``.
* An invalid request is never permitted, however close it is to one that is.
* Decisions do not depend on the order of keys in the request.
"""

from __future__ import annotations

import copy
import datetime
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules import Rules
from disclosure_rules.rulebook.vocabulary import Slot

from .conftest import example

RULES: Rules = disclosure_rules.load(cache_size=10_000)
PERMIT = example("irs-ice-address-request.json")
BOUNDARY_DATES = [
    datetime.date(2025, 11, 20),
    datetime.date(2025, 11, 21),
    datetime.date(2025, 11, 22),
    datetime.date(2026, 2, 4),
    datetime.date(2026, 2, 5),
]

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from(["2025-13-01", "2025-1-1", "IRS ", "irs", "address", "true", "1"]),
    st.lists(st.integers(0, 1), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

dates = st.one_of(st.dates(datetime.date(2024, 1, 1), datetime.date(2027, 12, 31)), st.sampled_from(BOUNDARY_DATES))


def valid_value(slot: Slot) -> st.SearchStrategy[Any]:
    kind = slot.type.kind
    if kind == "enum":
        return st.sampled_from(list(RULES.vocabulary.enums[slot.type.enum or ""].values))
    if kind == "set":
        values = list(RULES.vocabulary.enums[slot.type.enum or ""].values)
        return st.one_of(st.sampled_from(values), st.lists(st.sampled_from(values), max_size=4))
    if kind == "bool":
        return st.booleans()
    if kind == "date":
        return dates.map(datetime.date.isoformat)
    if kind == "number":
        return st.integers(-5, 5)
    return st.text(max_size=8)


def twin(value: Any) -> Any:
    """A value a Python caller might pass that compares equal to ``value`` but is not of its JSON type: a
    cache keyed by values must not take one for the other (``1 == True``, ``("a",) == tuple(["a"])``)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return bool(value) if value in (0, 1) else float(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def value(slot: Slot) -> st.SearchStrategy[Any]:
    return st.one_of(valid_value(slot), valid_value(slot), junk)


PATHS = [*RULES.vocabulary.fields, *RULES.vocabulary.facts]


@st.composite
def mutated_requests(draw: st.DrawFn) -> Any:
    """The permitted example with a few values changed, removed, or replaced by junk."""
    request = copy.deepcopy(PERMIT)
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from([*PATHS, "chain", "extra"]))
        slot = RULES.vocabulary.slot(path)
        if path == "chain":
            hop = {
                "from": draw(st.sampled_from(["IRS", "SSA", "ICE"])),
                "to": "ICE",
                "route": draw(st.sampled_from(["6103(i)(2)", "other"])),
                "date": draw(dates.map(datetime.date.isoformat)),
            }
            request["chain"] = draw(st.sampled_from([[hop], [], [dict(hop, extra=1)], "x"]))
            continue
        if path == "extra" or slot is None:
            request[draw(st.sampled_from(["extra", "elemnt", "facts"]))] = draw(junk)
            continue
        parts = path.split(".")
        target = request
        if parts[0] == "facts":
            target = request.setdefault("facts", {})
            if not isinstance(target, dict):
                continue
            for part in parts[1:-1]:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    break
            else:
                pass
            if not isinstance(target, dict):
                continue
        key = parts[-1]
        action = draw(st.sampled_from(["drop", "set", "set", "twin"]))
        if action == "drop" and key in target:
            del target[key]
        elif action == "twin" and key in target:
            target[key] = twin(target[key])
        else:
            target[key] = draw(value(slot))
    return request


requests = st.one_of(mutated_requests(), junk, st.dictionaries(st.sampled_from(["date", "element", "x"]), junk))

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(requests)
def test_the_cache_never_changes_a_decision(request: Any) -> None:
    RULES.check(PERMIT)  # keep a permit for a neighbouring case in the cache
    assert RULES.check(request) == RULES.decide_uncached(request)


@SETTINGS
@given(requests)
def test_an_invalid_request_is_never_permitted(request: Any) -> None:
    uncached = RULES.decide_uncached(request)
    cached = RULES.check(request)
    if uncached.status == "error":
        assert cached.decision == "deny"
        assert cached.status == "error"
    if cached.decision == "permit":
        assert cached.status == "permitted"
        assert cached.errors == ()


def _shuffled(value: Any, rnd: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


@SETTINGS
@given(mutated_requests(), st.randoms(use_true_random=False))
def test_decisions_do_not_depend_on_key_order(request: Any, rnd: random.Random) -> None:
    shuffled = _shuffled(request, rnd)
    assert RULES.decide_uncached(shuffled) == RULES.decide_uncached(request)
    assert RULES.check(shuffled) == RULES.check(request)


@SETTINGS
@given(dates, dates)
def test_dates_in_one_interval_share_one_decision(first: datetime.date, second: datetime.date) -> None:
    a = dict(copy.deepcopy(PERMIT), date=first.isoformat())
    b = dict(copy.deepcopy(PERMIT), date=second.isoformat())
    if RULES.check(a) is RULES.check(b):
        assert RULES.decide_uncached(a) == RULES.decide_uncached(b)
