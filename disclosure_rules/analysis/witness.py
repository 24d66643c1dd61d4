"""Witness requests: a leaf of the search made into a complete, valid request, and decided again.

A leaf chooses only the paths the search split on; every other path may take any value without changing
the answer (that is what the search proved). A witness fills them the plainest way: a required field gets a
value, every other path is left out (unknown, or its presumption; so is a fact chosen to be what it is
presumed to be). The chain has the hop the search chose, if
any, each key given.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ..checker import Rules
from ..decisions.decision import Decision
from ..engine.evaluator import Verdict, decide
from ..intake.request import RequestReader
from .domain import ABSENT, CHAIN, HOP, Assignment, Space, hop_path, json_value, put


def request_of(space: Space, assignment: Assignment) -> dict[str, Any]:
    """A complete request for the leaf ``assignment``."""
    request = space.base_request()
    for path, value in assignment.items():
        if value is ABSENT or path == CHAIN or path.startswith(HOP):
            continue
        slot = space.vocabulary.facts.get(path)
        if slot is not None and slot.default_when is None and slot.default is not None and value == slot.default:
            # Left to its presumption, which reads alike: stated, a fact may claim what the chain denies (see
            # Slot.claims_hop), and a witness says no more than the search chose.
            continue
        put(request, path, json_value(value))
    if assignment.get(CHAIN) == 1:
        request["chain"] = [_hop(space, assignment, request)]
    return request


def _hop(space: Space, assignment: Assignment, request: Mapping[str, Any]) -> dict[str, Any]:
    """The chain's one hop, every key given: a key the search did not choose gets a plain value (the search
    proved any value does)."""
    hop: dict[str, Any] = {}
    for key, slot in space.vocabulary.hop.items():
        value = assignment.get(hop_path(key), ABSENT)
        if value is ABSENT:
            info = space.paths[hop_path(key)]
            if key == "from" and space.self_hop_refused(assignment):
                # Not the hop's other end: the reader refuses a hop to its sender under this route.
                value = next(v for v in info.values if v != assignment.get(hop_path("to")))
            elif info.values:
                value = info.values[0]
            elif slot.type.kind == "date":
                value = space.last_hop_date(assignment) or request.get("date", "2025-01-01")
            else:
                value = _plain(slot.type.kind)
        hop[key] = json_value(value)
    return hop


def _plain(kind: str) -> Any:
    return {"bool": False, "number": 0, "text": "text"}.get(kind, "")


def redecide(rules: Rules, request: Mapping[str, Any]) -> tuple[Decision, Verdict | None]:
    """The witness decided again by the public entry point, and the evaluator's verdict on it (None if the
    request did not validate)."""
    decision = rules.check(dict(request))
    env, errors = RequestReader(rules.vocabulary).read(dict(request))
    if errors:
        return decision, None
    day = env["date"]
    assert isinstance(day, datetime.date)
    return decision, decide(rules.compiled, env, day)


def reader_env(rules: Rules, request: Mapping[str, Any]) -> dict[str, Any] | None:
    env, errors = RequestReader(rules.vocabulary).read(dict(request))
    return None if errors else env
