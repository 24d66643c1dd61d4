"""Witness requests: a leaf of the search made into a complete, valid request, and decided again.

A leaf chooses only the paths the search split on; every other path may take any value without changing
the answer (that is what the search proved). A witness fills them the plainest way: a required field gets a
value, every other path is left out (unknown, or its presumption). The chain is built from its projections,
one hop per value, each hop given every key.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ..checker import Rules
from ..decision import Decision
from ..evaluator import Verdict, decide
from ..request import RequestReader
from .domain import ABSENT, Assignment, Space, json_value, put


def request_of(space: Space, assignment: Assignment) -> dict[str, Any]:
    """A complete request for the leaf ``assignment``."""
    request = space.base_request()
    for path, value in assignment.items():
        if value is ABSENT or path.startswith("chain."):
            continue
        put(request, path, json_value(value))
    chain = _chain(space, assignment, request)
    if chain:
        request["chain"] = chain
    return request


def _chain(space: Space, assignment: Assignment, request: Mapping[str, Any]) -> list[dict[str, Any]]:
    projections = {p[len("chain.") :]: sorted(v, key=str) for p, v in assignment.items() if p.startswith("chain.")}
    if not any(projections.values()):
        return []
    hop_slots = space.vocabulary.hop
    for key, slot in hop_slots.items():
        if not projections.get(key):
            info = space.paths.get(f"chain.{key}")
            if info is not None and info.values:
                projections[key] = [info.values[0]]
            elif slot.type.kind == "date":
                projections[key] = [request.get("date", "2025-01-01")]
            else:
                projections[key] = [_plain(slot.type.kind)]
    count = max(len(v) for v in projections.values())
    hops = [{key: projections[key][i % len(projections[key])] for key in hop_slots} for i in range(count)]
    # Hops read best in order when the last one reaches the holder.
    holder = request.get("holder")
    hops.sort(key=lambda hop: hop.get("to") == holder)
    return hops


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
