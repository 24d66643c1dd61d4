"""Provenance that proves itself: was the data lawfully received by the one who now holds it?

A recipient may use or pass on return information only as the paragraph that granted it allows, and only if
it really received it that way. A request's ``chain`` lists the earlier disclosures of the data, oldest
first; the last must go to the current holder. That hop is itself a disclosure, so it is decided by the same
rules, on its own date: the holder of the hop is its ``from``, the recipient its ``to``, and the element,
origin, purpose and facts are the request's own (a use is lawful only for the purpose and on the facts the
route allowed: data an (i)(2) request obtained for a criminal case, used now for civil removal, was not
received for that use). The hop's own earlier hops are decided the same way, so an unlawful hop taints
everything after it.

The answer is the set of routes under which the holder lawfully received the data (``chain.received_under``):
the route the hop names, if the hop is permitted and a permit that grants that route
(:attr:`~disclosure_rules.rulebook.model.Rule.grants`) applies to it; none if the hop was denied, went elsewhere or
names a route that does not apply (data disclosed under (m)(2) was received under (m)(2), whatever else might
have allowed it); unknown if that depends on facts the request does not state. A hop that names
``6103(i)(3)`` without its subparagraph is matched by (A), (B) or (C), and the one that applies is recorded. A
hop within one agency (``from`` is ``to``) under a route of the vocabulary's group
:data:`~disclosure_rules.rulebook.vocabulary.KEPT_ROUTES` (``internal``: the data handed to the officers who use it)
gives, if the rules permit it, the routes its sender held the data under: passing the data on inside the agency
neither adds a route nor loses one.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ..rulebook.vocabulary import HOPS, KEPT_ROUTES, RECEIVED_UNDER
from .compiler import UNKNOWN, CompiledRulebook

EMPTY: frozenset[str] = frozenset()

MAX_GRANTED = 6
"""The most routes a hop's named route may stand for (``6103(i)(3)``: three) for which every set of them is
tried (see :func:`possible_routes`): the sets double with each, and a rule set may declare many."""


class HopState(Protocol):
    @property
    def applies(self) -> bool | None: ...


class HopVerdict(Protocol):
    @property
    def decision(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def states(self) -> Mapping[str, HopState]: ...
    @property
    def env(self) -> Mapping[str, Any]: ...


Decide = Callable[[CompiledRulebook, Mapping[str, Any], datetime.date], HopVerdict]


def hop_environment(compiled: CompiledRulebook, env: Mapping[str, Any]) -> dict[str, Any] | None:
    """The last hop as a request of its own, or None when there is no hop into the holder: none in the chain,
    one that goes to someone else, or one dated after the disclosure it is said to lead to (data cannot be
    passed on before it was received: such a hop gives no route, whatever it names)."""
    hops: tuple[Mapping[str, Any], ...] = env.get(HOPS) or ()
    if not hops:
        return None
    last = hops[-1]
    if last.get("to") != env.get("holder") or "date" not in last:
        return None
    day = env.get("date")
    if isinstance(day, datetime.date) and last["date"] > day:
        return None
    earlier = hops[:-1]
    hop_env = dict(env)
    hop_env.pop(RECEIVED_UNDER, None)
    hop_env.update(holder=last["from"], recipient=last["to"], date=last["date"])
    hop_env[HOPS] = earlier
    for key in compiled.book.vocabulary.hop:
        projection = f"chain.{key}"
        if projection in compiled.book.vocabulary.chain_projections:
            hop_env[projection] = frozenset(h[key] for h in earlier if key in h)
    return hop_env


def received_under(compiled: CompiledRulebook, env: Mapping[str, Any], decide: Decide) -> tuple[Any, Any]:
    """The routes under which the holder lawfully received the data (a frozenset, or UNKNOWN), and the
    verdict on the hop into the holder (None if there is none)."""
    hop_env = hop_environment(compiled, env)
    if hop_env is None:
        return EMPTY, None
    verdict = decide(compiled, hop_env, hop_env["date"])
    return _routes(compiled, env, verdict), verdict


def _routes(compiled: CompiledRulebook, env: Mapping[str, Any], verdict: HopVerdict) -> Any:
    if verdict.decision == "deny" and verdict.status != "indeterminate":
        return EMPTY
    last = env[HOPS][-1]
    named: str = last["route"]
    if is_kept(compiled, last):
        return _kept(verdict)
    rules = compiled.book.rules
    applying = {rid: verdict.states[rid].applies for rid in granting(compiled, named)}
    if verdict.decision == "permit":
        sure = frozenset(str(rules[rid].grants) for rid, applies in applying.items() if applies is True)
        if sure:
            return sure
    # An undecided hop, or one permitted only by another route: unknown while the named route could still apply.
    return UNKNOWN if any(applies is not False for applies in applying.values()) else EMPTY


def matches(granted: str, named: str) -> bool:
    """Whether a permit granting ``granted`` matches a hop naming ``named``: the route itself, or (for
    ``6103(i)(3)``) one of its subparagraphs."""
    return granted == named or granted.startswith(named + "(")


def granting(compiled: CompiledRulebook, named: str) -> list[str]:
    """The permits a hop naming ``named`` is matched by (see :func:`matches`)."""
    return [rid for rid, rule in compiled.book.rules.items() if rule.grants is not None and matches(rule.grants, named)]


def route_sets(granted: Iterable[str]) -> tuple[frozenset[str], ...]:
    """The values the routes a hop gives can take, where its named route is matched by permits granting
    ``granted``: none, or any non-empty set of them (those of the permits that apply)."""
    ordered = sorted(set(granted))
    subsets = (frozenset(c) for n in range(1, len(ordered) + 1) for c in itertools.combinations(ordered, n))
    return (EMPTY, *subsets)


def is_kept(compiled: CompiledRulebook, hop: Mapping[str, Any]) -> bool:
    """Whether a hop passes the data within one agency under a kept route (it gives what its sender held)."""
    kept = compiled.book.vocabulary.groups.get(KEPT_ROUTES)
    return kept is not None and hop.get("route") in kept.values and hop.get("from") == hop.get("to")


def possible_routes(compiled: CompiledRulebook, env: Mapping[str, Any]) -> tuple[frozenset[str], ...] | None:
    """Every value ``chain.received_under`` can come to, however the facts the hop into the holder turns on
    are settled: none, or a set of the routes the permits that grant the route the hop names grant (see
    :func:`_routes`); a hop within an agency under a kept route gives what its sender held, so what the hops
    before it can give. None where there is no hop into the holder. A hop naming (i)(2) can give (i)(2) or
    nothing, never (c) or (i)(3)(A): a rule for a designee's use or for an agency head's pass-on does not
    apply, though the hop is undecided."""
    hops: tuple[Mapping[str, Any], ...] = env.get(HOPS) or ()
    if not hops:
        return None
    last = hops[-1]
    named = last.get("route")
    if not isinstance(named, str) or last.get("to") != env.get("holder"):
        return None
    if is_kept(compiled, last):
        if len(hops) == 1:
            return (EMPTY,)
        return possible_routes(compiled, {**env, HOPS: hops[:-1], "holder": last.get("from")})
    granted = {str(compiled.book.rules[rid].grants) for rid in granting(compiled, named)}
    if len(granted) > MAX_GRANTED:
        return None  # too many sets of routes to try one by one: the routes stay unknown, as they are
    return route_sets(granted)


def _kept(verdict: HopVerdict) -> Any:
    """The routes a hop within one agency gives: those its sender held the data under (the hop's own
    ``chain.received_under``), once the hop is permitted; unknown while it is undecided, unless there are none."""
    held = verdict.env.get(RECEIVED_UNDER, EMPTY)
    if verdict.decision == "permit" or held == EMPTY:
        return held
    return UNKNOWN
