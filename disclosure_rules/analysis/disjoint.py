"""Pairs of rules that can never hold together, proved part by part.

A rule holds only when every part of its condition (each conjunct the compiler keeps apart, a
:class:`~disclosure_rules.engine.compiler.Unit`) is true. So two rules are disjoint as soon as one part of the
first and one part of the second can never be true together: ``holder == "IRS"`` against
``holder != "IRS"``, ``purpose == "child_support"`` against ``purpose in [...]`` without it. Deciding that
needs a search over the few paths the two parts read, not over the whole request, so most of the pairs the
``conflict`` check asks about are settled in microseconds; the rest go to the full search.

The routes a holder received the data under (``chain.received_under``) are derived from the hop into it;
here they range over every set they can take: a subset of the routes granted by the permits a hop naming
one route is matched by (see :func:`~disclosure_rules.engine.provenance.received_under`). That is more than the
hop can give, so "never together" stays a proof. Parts that read another projection of the chain are not
compared (the pair goes to the full search).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..engine.compiler import Unit
from ..engine.provenance import matches, route_sets
from ..language.ast import Expr, Not
from ..rulebook.vocabulary import RECEIVED_UNDER
from .domain import Assignment
from .oracle import Oracle
from .outcomes import standing
from .search import FOUND, PRUNE, Budget, Step, explore, split

_LIMIT = 100_000
"""Partial requests one comparison of two parts may visit; past it the pair is left to the full search."""


class Disjointness:
    """Answers "can these two rules never hold together?" for one rule book, remembering each pair of parts."""

    def __init__(self, oracle: Oracle) -> None:
        self.oracle = oracle
        self._parts: dict[tuple[int, int], bool] = {}
        self._route_sets: list[frozenset[str]] | None = None

    def rules(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` can never both hold (True is a proof; False only means "not shown")."""
        units_a = self.oracle.compiled.rules[a].units
        units_b = self.oracle.compiled.rules[b].units
        return any(self.parts(p, q, (a, b)) for p in units_a for q in units_b)

    def in_force(self, a: str, b: str) -> bool:
        """Whether ``a`` and ``b`` can never both act on one request, as the ``conflict`` check counts it
        (:func:`~.checks.in_force`): each needs its own condition and the conditions of the rules it stands on
        (:meth:`needs`)."""
        if self._defeats(a, b) or self._defeats(b, a):
            return True
        units_a = [u for rid in self.needs(a) for u in self.oracle.compiled.rules[rid].units]
        units_b = [u for rid in self.needs(b) for u in self.oracle.compiled.rules[rid].units]
        return any(self.parts(p, q, (a, b)) for p in units_a for q in units_b)

    def _defeats(self, permit: str, forbid: str) -> bool:
        """Whether ``permit``, applying, leaves ``forbid`` no standing: a forbid that is an exception to other
        rules prohibits only where a prohibition above them does, and a permit that is an exception to every
        one of those prohibitions keeps each from applying (the SSA assurance stands on § 552a(b) and SSA's
        program-records rule; an order under § 552a(b)(11) is an exception to both)."""
        rules = self.oracle.book.rules
        if rules[permit].kind != "permit" or rules[forbid].kind != "forbid":
            return False
        sources = standing(self.oracle, forbid)
        return sources is not None and bool(sources) and sources <= set(rules[permit].exception_to)

    def needs(self, rid: str) -> list[str]:
        """The rules whose conditions must hold for ``rid`` to act: itself; for a permit that is an exception
        to one prohibition, that prohibition (it must hold); for a forbid whose standing rests on one
        prohibition (:func:`~.outcomes.standing`), that prohibition and what it needs in turn."""
        rule = self.oracle.book.rules[rid]
        if rule.kind == "permit":
            return [rid, *rule.exception_to] if len(rule.exception_to) == 1 else [rid]
        sources = standing(self.oracle, rid)
        if sources is None or len(sources) != 1:
            return [rid]
        (ground,) = sources
        return [rid, *self.needs(ground)]

    def parts(self, p: Unit, q: Unit, rule_ids: Sequence[str]) -> bool:
        key = (id(p), id(q))
        known = self._parts.get(key)
        if known is None:
            known = self._parts[key] = self._never_together(p, q, rule_ids)
        return known

    def _never_together(self, p: Unit, q: Unit, rule_ids: Sequence[str]) -> bool:
        if _negation(p.node, q.node) or _negation(q.node, p.node):
            return True
        paths = p.reads.paths | q.reads.paths
        if any(path.startswith("chain.") and path != RECEIVED_UNDER for path in paths):
            return False
        routes: Sequence[frozenset[str] | None] = self.route_sets() if RECEIVED_UNDER in paths else (None,)
        try:
            return not any(self._together(p, q, rule_ids, r) for r in routes)
        except Budget:
            return False

    def _together(self, p: Unit, q: Unit, rule_ids: Sequence[str], routes: frozenset[str] | None) -> bool:
        oracle = self.oracle
        paths = sorted({*p.reads.paths, *q.reads.paths, "date"} - {RECEIVED_UNDER})

        def judge(assignment: Assignment) -> Step:
            env = oracle.env(assignment)
            if routes is not None:
                env[RECEIVED_UNDER] = routes
            first, second = p.test(env), q.test(env)
            if first is False or second is False:
                return PRUNE
            if first is True and second is True:
                return FOUND
            pending = [path for path in paths if path not in assignment]
            return split([pending], rule_ids) if pending else PRUNE

        return next(explore(oracle.space, {}, judge, first=True, limit=_LIMIT), None) is not None

    def route_sets(self) -> list[frozenset[str]]:
        """Every set of routes ``chain.received_under`` can hold (and more): the subsets of the routes the
        permits matching one named route grant. (Unknown routes make a part that reads them unknown, never
        true, so they cannot make two parts true together.)"""
        if self._route_sets is None:
            book = self.oracle.book
            granted = [rule.grants for rule in book.rules.values() if rule.grants is not None]
            named = book.vocabulary.hop["route"].type.enum if "route" in book.vocabulary.hop else None
            values = tuple(book.vocabulary.enums[named].values) if named else tuple(granted)
            found: set[frozenset[str]] = {frozenset()}
            for route in values:
                found.update(route_sets(g for g in granted if matches(g, route)))
            self._route_sets = sorted(found, key=lambda s: (len(s), sorted(s)))
        return self._route_sets


def _negation(node: Expr, other: Expr) -> bool:
    """Whether ``node`` is ``not other``: the two are never true together, whatever they read (in Kleene's
    logic too: ``not x`` is true only where ``x`` is false). Both read the same request, so this holds for
    parts that read the chain, which the search here leaves alone (``return_information`` in § 6103(a)
    against ``not return_information`` in the Privacy Act's routes)."""
    return isinstance(node, Not) and node.operand == other
