"""Which outcomes a partial request may still come to, alone and in pairs: sound over-approximations, for diff.

The evaluator gives each rule a three-valued state on a partial request; by Kleene monotonicity a definite
state stays whatever the paths left are chosen to be, and an unknown one may become true or false only when
the rule, or an exception to it at any depth, reads a path still to be chosen (else it stays unknown). So
each permit's final ``applies`` and each forbid's final ``prohibits`` ranges over a known set of values.

An outcome (decision, status, controlling rule, obligations) needs some of those values, as the evaluator
picks it (:func:`~disclosure_rules.engine.evaluator._verdict`): a prohibition needs its forbid to prohibit and no
forbid that surely ranks above it to; a permit needs no forbid to prohibit or be unknown, itself to apply
and no permit that surely ranks above it to; an indeterminate answer (compared whatever permit it names:
see :meth:`~.oracle.Oracle.outcome`) needs no forbid to prohibit and, besides, a forbid left unknown beside a
permit that applies or may, or a permit left unknown and none that surely applies; no authority needs every
permit not to apply. An outcome is *possible* when the values it needs are among those that may come; a *pair* (one
outcome per side of a diff) when, besides, the values of the states both sides share (the rules a diff did
not change, and everything above them) can agree. Every outcome (pair) some completion of the request ends
with passes; a few that none does may pass too (then the diff searches on).
"""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from ..engine.evaluator import RuleState, State, prohibiting, tie_break
from ..rulebook.model import Rule
from .domain import Assignment
from .oracle import Oracle, Outcome

Var = tuple[str, str]
"""``("applies", permit)`` or ``("prohibits", forbid)``: a state an outcome is picked by."""

Values = dict[Var, frozenset[State]]
ANY: frozenset[State] = frozenset([True, False, None])
NOT_TRUE: frozenset[State] = frozenset([False, None])
TRUE: frozenset[State] = frozenset([True])
FALSE: frozenset[State] = frozenset([False])
UNKNOWN_ONLY: frozenset[State] = frozenset([None])


MAX_VIEWS = 20_000
"""Views kept per oracle (each holds the values its outcomes allow): a bound on the memory of one diff."""


class SideView:
    """One side of a diff on one partial request: the values each state may still come to, and bounds on
    each rule's place in the evaluator's ranking."""

    @classmethod
    def of(
        cls, oracle: Oracle, states: Mapping[str, RuleState], assignment: Assignment, routes: Any = None
    ) -> SideView:
        """The view of one side on one partial request. It depends only on the rules' states and which of the
        undecided rules still read a path to be chosen, which many partial requests share: one view is made
        for them all, and what it works out (the values each outcome allows) is worked out once."""
        open_rules = frozenset(r for r in oracle.ids if states[r].holds is None and oracle.pending(r, assignment))
        # With ``routes``, the view of the requests below whose hop gives exactly those routes (or leaves them
        # unknown): see Oracle.route_options.
        bounds = oracle.holds_bounds(states, assignment, open_rules, None if routes is None else [routes])
        views = _VIEWS.setdefault(oracle, {})
        key = (tuple(states.values()), open_rules, tuple(sorted(bounds.items(), key=lambda kv: kv[0])))
        view = views.get(key)
        if view is None:
            if len(views) >= MAX_VIEWS:
                views.clear()
            view = views[key] = cls(oracle, states, open_rules, bounds)
        return view

    def __init__(
        self,
        oracle: Oracle,
        states: Mapping[str, RuleState],
        open_rules: frozenset[str],
        bounds: Mapping[str, frozenset[State]] | None = None,
    ) -> None:
        self.oracle = oracle
        self.tree = _tree(oracle)
        self.forbids, self.permits = self.tree.forbids, self.tree.permits
        moves = _Moves(oracle, set(open_rules))
        prohibits = prohibiting(oracle.compiled, states)
        self.values: Values = {("prohibits", f): _may(prohibits[f], moves.prohibits(f)) for f in self.forbids}
        for rid in oracle.ids:
            self.values[("holds", rid)] = _may(states[rid].holds, rid in open_rules)
            self.values[("applies", rid)] = _may(states[rid].applies, moves.applies(rid))
        # What a rule reading the routes a hop gave may come to, once the hop names its route (see
        # Oracle.holds_bounds); the propagation below carries it to what the rule applies and prohibits.
        for rid, may in (bounds or {}).items():
            self.values[("holds", rid)] &= may
        self.tree.propagate(self.values, oracle.ids)
        self.ranks = _RankBounds(oracle, states, set(open_rules))
        self._alone: dict[Outcome, Values | None] = {}
        self.pairs: dict[tuple[SideView, tuple[Outcome, Outcome], frozenset[Var], Rising], bool] = {}
        """:func:`pair_possible` with this view on the left, by the right view (held, so never mistaken for
        another), the move and the shared states."""

    def candidates(self) -> list[Outcome]:
        """The outcomes this side may come to at a first look (each still to be checked with :meth:`alone`)."""
        rules = self.oracle.book.rules
        values = self.values
        sure_forbid = any(values[("prohibits", f)] == TRUE for f in self.forbids)
        sure_permit = any(values[("applies", p)] == TRUE for p in self.permits)
        out: list[Outcome] = [("deny", "prohibited", f, ()) for f in self.forbids if True in values[("prohibits", f)]]
        if not sure_forbid:
            may = [p for p in self.permits if values[("applies", p)] != FALSE]
            out += [
                ("permit", "permitted", p, tuple(rules[p].obligations)) for p in may if True in values[("applies", p)]
            ]
            if may:
                out.append(("deny", "indeterminate", None, ()))
            if not sure_permit:
                out.append(("deny", "no_authority", None, ()))
        return out

    def settled(self, outcome: Outcome) -> list[Outcome]:
        """This side's one outcome, once settled (its own verdict's: never refused, whatever :meth:`allowed`
        would say)."""
        self._alone[outcome] = self.allowed(outcome) or dict(self.values)
        return [outcome]

    def alone(self, outcome: Outcome) -> Values | None:
        """:meth:`allowed` for ``outcome`` alone, remembered."""
        if outcome not in self._alone:
            self._alone[outcome] = self.allowed(outcome)
        return self._alone[outcome]

    def allowed(self, outcome: Outcome, shared: Values | None = None) -> Values | None:
        """The values each state may take for this side to end with ``outcome`` (narrowed by ``shared``, the
        values the other side allows for the states both share); None when some state has none left."""
        out = self._narrowed(self._needs(outcome), shared)
        if out is None or not self._undecided_possible(outcome, out):
            return None
        return out

    def _narrowed(self, needs: Mapping[Var, frozenset[State]], shared: Values | None) -> Values | None:
        out = dict(self.values)
        changes: list[Var] = []
        for var, needed in needs.items():
            _narrow(out, var, needed, changes)
        for var, other in (shared or {}).items():
            _narrow(out, var, other, changes)
        self.tree.propagate(out, {rid for _kind, rid in changes})
        if any(not values for values in out.values()):
            return None
        return out

    def _needs(self, outcome: Outcome) -> dict[Var, frozenset[State]]:
        """The values of the states the evaluator picks ``outcome`` by."""
        _decision, status, rule, _obligations = outcome
        need: dict[Var, frozenset[State]] = {}
        if status == "prohibited" and rule is not None:
            need |= {("prohibits", g): NOT_TRUE for g in self.forbids if self.ranks.above(g, rule)}
            need[("prohibits", rule)] = frozenset([True])
        elif status == "permitted" and rule is not None:
            need |= {("prohibits", g): frozenset([False]) for g in self.forbids}
            need |= {("applies", q): NOT_TRUE for q in self.permits if self.ranks.above(q, rule)}
            need[("applies", rule)] = frozenset([True])
        elif status == "indeterminate":
            need |= {("prohibits", g): NOT_TRUE for g in self.forbids}
        else:
            need |= {("prohibits", g): NOT_TRUE for g in self.forbids}
            need |= {("applies", q): frozenset([False]) for q in self.permits}
        return need

    def _undecided_possible(self, outcome: Outcome, values: Values) -> bool:
        """An indeterminate answer needs, besides, a forbid left unknown beside a permit that applies or may,
        or a permit left unknown and none that surely applies (the evaluator's `_verdict_of`)."""
        if outcome[1] != "indeterminate":
            return True
        forbid_unknown = any(None in values[("prohibits", f)] for f in self.forbids)
        some_permit = any(values[("applies", p)] != FALSE for p in self.permits)
        permit_unknown = any(None in values[("applies", p)] for p in self.permits)
        none_sure = all(values[("applies", p)] != TRUE for p in self.permits)
        return (forbid_unknown and some_permit) or (permit_unknown and none_sure)


Rising = frozenset[tuple[Var, int]]
"""States that move one way only from the left side to the right: +1 where the right's value is never below
the left's in the order false < unknown < true, -1 where it is never above (see :func:`rising_states`)."""


def pair_possible(
    left: SideView,
    right: SideView,
    move: tuple[Outcome, Outcome],
    shared: Collection[Var],
    rising: Rising = frozenset(),
) -> bool:
    """Whether some completion may end with ``move[0]`` on the left and ``move[1]`` on the right, where the
    states in ``shared`` come out the same on both sides and those in ``rising`` move only their way
    (remembered by the left view, per right view)."""
    key = (right, move, frozenset(shared), rising)
    known = left.pairs.get(key)
    if known is None:
        known = left.pairs[key] = _pair_possible(left, right, move, shared, rising)
    return known


def _pair_possible(
    left: SideView, right: SideView, move: tuple[Outcome, Outcome], shared: Collection[Var], rising: Rising
) -> bool:
    """Whether the two sides can agree on the states they share (:func:`_narrowed_together`) and, where the
    move hands control from one rule to another of the same kind whose ranks the shared states fix, on which
    of the two ranks above the other (:func:`_ranked_alike`)."""
    if not _narrowed_together(left, right, move, shared, {}, {}, rising):
        return False
    # Two rule books rank their rules each their own way; one book on two dates ranks alike.
    ranked = _ranked_alike(left.oracle, move, shared) if left.oracle is right.oracle else None
    if ranked is None:
        return True
    before, after = ranked
    first, second = before[1], after[1]
    # Whichever of the two ranks higher on one side ranks so on the other: if the rule controlling before
    # ranks higher, it must not hold its ground after; if the one controlling after does, it must not
    # before. Where either side's bounds already tell which ranks higher, that is the order on both.
    first_above = _surely_above(left, right, first, second)
    second_above = _surely_above(left, right, second, first)
    return (not second_above and _narrowed_together(left, right, move, shared, {}, {before: NOT_TRUE}, rising)) or (
        not first_above and _narrowed_together(left, right, move, shared, {after: NOT_TRUE}, {}, rising)
    )


def _surely_above(left: SideView, right: SideView, rid: str, other: str) -> bool:
    """Whether ``rid`` ranks above ``other`` on both sides, their ranks being alike: two exceptions to the same
    rules rank by depth and place in the file alone (the same chains hold above both), and otherwise
    either side's bounds may tell."""
    return left.ranks.above(rid, other) or right.ranks.above(rid, other)


def _ranked_alike(oracle: Oracle, move: tuple[Outcome, Outcome], shared: Collection[Var]) -> tuple[Var, Var] | None:
    """For a move from one prohibition to another (or one permit to another), the state each controlling rule
    is picked by, when the two rules' ranks are the same on both sides: the evaluator ranks a rule by the
    chain of exceptions that held above it, its depth and its place in the file (:class:`_RankBounds`), so
    when every rule above either one holds alike on both sides, the two rank in the same order on both."""
    (_d0, status, first, _o0), (_d1, status_after, second, _o1) = move
    if status != status_after or status not in ("prohibited", "permitted") or first is None or second is None:
        return None
    if first == second:
        return None
    above = oracle.ancestors(first) | oracle.ancestors(second)
    if any(("holds", rid) not in shared for rid in above):
        return None
    kind = "prohibits" if status == "prohibited" else "applies"
    return (kind, first), (kind, second)


def _narrowed_together(
    left: SideView,
    right: SideView,
    move: tuple[Outcome, Outcome],
    shared: Collection[Var],
    left_needs: Values,
    right_needs: Values,
    rising: Rising = frozenset(),
) -> bool:
    """The two sides narrowed by each other until neither narrows the other further: a shared state narrowed on
    one side narrows what the other may come to, which may narrow another shared state in turn; a rising
    state keeps, on each side, only the values some value on the other side is ordered with. Each round only
    removes values no completion can take, and values only shrink, so this ends, and stays sound.
    ``left_needs`` and ``right_needs`` narrow one side's own states besides."""
    if left_needs or right_needs:
        mine, theirs = left.allowed(move[0], left_needs), right.allowed(move[1], right_needs)
    else:
        mine, theirs = left.alone(move[0]), right.alone(move[1])
    agreed: Values = {}
    ours: Values = {}
    others: Values = {}
    while mine is not None and theirs is not None:
        narrowed = False
        for var in shared:
            values = mine[var] & theirs[var]
            if not values:
                return False
            if (values != mine[var] or values != theirs[var]) and agreed.get(var) != values:
                agreed[var] = values
                narrowed = True
        for var, way in rising:
            before = frozenset(b for b in mine[var] if any(_ordered(b, a, way) for a in theirs[var]))
            after = frozenset(a for a in theirs[var] if any(_ordered(b, a, way) for b in mine[var]))
            if not before or not after:
                return False
            if before != mine[var] and ours.get(var) != before:
                ours[var] = before
                narrowed = True
            if after != theirs[var] and others.get(var) != after:
                others[var] = after
                narrowed = True
        if not narrowed:
            return True
        mine, theirs = (
            left.allowed(move[0], _both(_both(agreed, ours), left_needs)),
            right.allowed(move[1], _both(_both(agreed, others), right_needs)),
        )
    return False


_RANK: dict[State, int] = {False: 0, None: 1, True: 2}


def _ordered(before: State, after: State, way: int) -> bool:
    """Whether ``after`` may follow ``before`` for a state rising (+1) or falling (-1)."""
    return (_RANK[after] - _RANK[before]) * way >= 0


def rising_states(oracle: Oracle, before: datetime.date, after: datetime.date) -> Rising:
    """The states that move one way only from ``before`` to ``after`` in one rule book: a rule in force only
    after holds rising (it cannot hold before), one in force only before falling; a rule that reads the date
    may move either way. Kleene's "and" and "or" keep a direction and "not" turns it: a rule applies when it
    holds and no exception to it applies, so it moves the way its holding does and against its exceptions';
    a forbid prohibits when it applies and its standing does. A state whose parts move both ways, or any
    way unknown, is left out; one whose parts do not move is shared (:func:`shared_states`)."""
    rules = oracle.book.rules
    tree = _tree(oracle)
    holds: dict[str, int | None] = {}
    for rid, rule in rules.items():
        now, then = rule.effective.covers(before), rule.effective.covers(after)
        if "date" in oracle.compiled.rules[rid].reads.paths:
            holds[rid] = None
        else:
            holds[rid] = 0 if now == then else (1 if then else -1)
    applies: dict[str, int | None] = {}

    def combine(parts: Iterable[int | None]) -> int | None:
        ways = set(parts)
        if None in ways or {1, -1} <= ways:
            return None
        return 1 if 1 in ways else (-1 if -1 in ways else 0)

    def turned(way: int | None) -> int | None:
        return None if way is None else -way

    def applies_way(rid: str) -> int | None:
        if rid not in applies:
            # The loader refuses cycles of exceptions, so this recursion ends.
            applies[rid] = combine([holds[rid], *(turned(applies_way(e)) for e in oracle.exceptions[rid])])
        return applies[rid]

    prohibits: dict[str, int | None] = {}

    def prohibits_way(forbid: str) -> int | None:
        if forbid not in prohibits:
            sources = tree.sources[forbid]
            prohibits[forbid] = combine([applies_way(forbid), *(prohibits_way(g) for g in sources or ())])
        return prohibits[forbid]

    out: set[tuple[Var, int]] = set()
    for rid in rules:
        for var, way in ((("holds", rid), holds[rid]), (("applies", rid), applies_way(rid))):
            if way:
                out.add((var, way))
    for forbid in tree.forbids:
        way = prohibits_way(forbid)
        if way:
            out.add((("prohibits", forbid), way))
    return frozenset(out)


def _both(first: Values, second: Values) -> Values:
    """Each state's values as both narrow it."""
    return {**first, **second, **{var: first[var] & values for var, values in second.items() if var in first}}


def shared_states(oracle: Oracle, differing: Collection[str]) -> frozenset[Var]:
    """The states that come out the same on both sides of a diff of one rule book whose rules outside
    ``differing`` hold alike on both sides: a rule's ``applies`` reads its own ``holds`` and its exceptions'
    ``applies`` (so differs only at those rules and above them), a forbid's ``prohibits`` its own ``applies``
    and the ``prohibits`` of the forbids above it (see
    :func:`~disclosure_rules.engine.evaluator.prohibiting_reference`)."""
    rules = oracle.book.rules
    applies = set(differing) | {a for r in differing for a in oracle.ancestors(r)}
    prohibits: dict[str, bool] = {}

    def differs(forbid: str) -> bool:
        if forbid not in prohibits:
            prohibits[forbid] = forbid in applies or any(
                _above_differs(p, differs, rules) for p in rules[forbid].exception_to
            )
        return prohibits[forbid]

    out = {("holds", r) for r in rules if r not in differing}
    out |= {("applies", r) for r in rules if r not in applies}
    out |= {("prohibits", f) for f, rule in rules.items() if rule.kind == "forbid" and not differs(f)}
    return frozenset(out)


def _above_differs(parent: str, differs: Callable[[str], bool], rules: Mapping[str, Rule]) -> bool:
    """Whether a forbid's standing through ``parent`` reads a ``prohibits`` that ``differs`` (see
    :func:`~disclosure_rules.engine.evaluator.prohibiting_reference`: above a forbid, its own standing; above a
    permit, the forbids that permit is an exception to)."""
    rule = rules[parent]
    if rule.kind == "forbid":
        return any(_above_differs(p, differs, rules) for p in rule.exception_to)
    return any(differs(g) for g in rule.exception_to if rules[g].kind == "forbid")


class _Tree:
    """The shape of a rule book's tree of exceptions, as the evaluator reads it."""

    def __init__(self, oracle: Oracle) -> None:
        rules = oracle.book.rules
        self.rules = rules
        self.exceptions = oracle.exceptions
        self.forbids = [r for r, rule in rules.items() if rule.kind == "forbid"]
        self.permits = [r for r, rule in rules.items() if rule.kind == "permit"]
        self.sources = {f: self._standing(f) for f in self.forbids}
        self.readers: dict[str, set[str]] = {f: set() for f in self.forbids}
        """For each forbid, the forbids whose standing reads its ``prohibits``."""
        for forbid, sources in self.sources.items():
            for source in sources or ():
                self.readers[source].add(forbid)

    def _standing(self, rid: str) -> frozenset[str] | None:
        """The forbids whose ``prohibits`` a forbid's standing is the disjunction of (None: it always stands:
        see :func:`~disclosure_rules.engine.evaluator.prohibiting_reference`)."""
        out: set[str] = set()
        parents = self.rules[rid].exception_to
        if not parents:
            return None
        for parent in parents:
            if self.rules[parent].kind == "forbid":
                above = self._standing(parent)
                if above is None:
                    return None
                out |= above
            else:
                out |= {g for g in self.rules[parent].exception_to if self.rules[g].kind == "forbid"}
        return frozenset(out)

    def narrow_applies(self, values: Values, rid: str, changes: list[Var]) -> None:
        """A rule applies when it holds and none of its exceptions applies (Kleene's logic): every value left
        to each of them is one some choice of the others' agrees with (see :func:`_kleene_and`)."""
        operands = [values[("holds", rid)], *(_negated(values[("applies", e)]) for e in self.exceptions[rid])]
        narrowed, result = _kleene_and(operands, values[("applies", rid)])
        _narrow(values, ("applies", rid), result, changes)
        _narrow(values, ("holds", rid), narrowed[0], changes)
        for exception, kept in zip(self.exceptions[rid], narrowed[1:], strict=True):
            _narrow(values, ("applies", exception), _negated(kept), changes)

    def narrow_prohibits(self, values: Values, rid: str, changes: list[Var]) -> None:
        """A forbid prohibits when it applies and its standing does (the disjunction of its sources)."""
        prohibits, applies = ("prohibits", rid), ("applies", rid)
        sources = self.sources[rid]
        if sources is None:
            both = values[prohibits] & values[applies]
            _narrow(values, prohibits, both, changes)
            _narrow(values, applies, both, changes)
            return
        order = sorted(sources)
        above = [values[("prohibits", g)] for g in order]
        # The standing is the disjunction of the sources: "not" of the conjunction of their negations.
        negated, not_standing = _kleene_and([_negated(a) for a in above], ANY)
        (kept_applies, standing), result = _kleene_and([values[applies], _negated(not_standing)], values[prohibits])
        _narrow(values, prohibits, result, changes)
        _narrow(values, applies, kept_applies, changes)
        negated, _ = _kleene_and(negated, _negated(standing))
        for source, kept in zip(order, negated, strict=True):
            _narrow(values, ("prohibits", source), _negated(kept), changes)

    def propagate(self, values: Values, start: Iterable[str]) -> None:
        """Narrow the values by how the evaluator computes states (:mod:`~disclosure_rules.engine.evaluator`), until
        nothing changes, from the rules in ``start`` (those whose values were narrowed) outwards: a change
        is looked at again by the rule itself, the rules it is an exception to, and the forbids whose
        standing reads it."""
        pending = set(start)
        # A rule narrowed before the call changes what the rules it is an exception to, and the forbids whose
        # standing reads it, may come to, just as a change found here does.
        for rid in start:
            pending.update(self.rules[rid].exception_to)
            pending.update(self.readers.get(rid, ()))
        while pending:
            rid = pending.pop()
            changes: list[Var] = []
            self.narrow_applies(values, rid, changes)
            if rid in self.sources:
                self.narrow_prohibits(values, rid, changes)
            for kind, other in changes:
                pending.add(other)
                pending.update(self.rules[other].exception_to)
                if kind == "prohibits":
                    pending.update(self.readers[other])


_TREES: weakref.WeakKeyDictionary[Oracle, _Tree] = weakref.WeakKeyDictionary()
_VIEWS: weakref.WeakKeyDictionary[Oracle, dict[tuple[Any, ...], SideView]] = weakref.WeakKeyDictionary()


def standing(oracle: Oracle, forbid: str) -> frozenset[str] | None:
    """The prohibitions a forbid's standing is the disjunction of (None: it always stands), as the evaluator
    reads it (:func:`~disclosure_rules.engine.evaluator.prohibiting_reference`)."""
    return _tree(oracle).sources[forbid]


def _tree(oracle: Oracle) -> _Tree:
    tree = _TREES.get(oracle)
    if tree is None:
        tree = _TREES[oracle] = _Tree(oracle)
    return tree


def _narrow(values: Values, var: Var, keep: frozenset[State], changes: list[Var]) -> None:
    narrowed = values[var] & keep
    if narrowed != values[var]:
        values[var] = narrowed
        changes.append(var)


_NEGATION: dict[State, State] = {True: False, False: True, None: None}


def _negated(values: frozenset[State]) -> frozenset[State]:
    return frozenset(_NEGATION[v] for v in values)


def _kleene_and(
    operands: list[frozenset[State]], result: frozenset[State]
) -> tuple[list[frozenset[State]], frozenset[State]]:
    """The values each operand of Kleene's "and", and the result, may take given the others': a value is
    kept only where some choice of the other operands' values, and a result allowed, agree with it. The
    conjunction is false when an operand is, true when all are, and unknown when none is false and one is
    unknown; so what an operand may be turns only on how many others may be false, true, or not false."""
    n = len(operands)
    may_false = sum(False in x for x in operands)
    may_true = sum(True in x for x in operands)
    may_unknown = sum(None in x for x in operands)
    not_false = sum(bool(x - FALSE) for x in operands)
    possible: set[State] = set()
    if may_false:
        possible.add(False)
    if may_true == n:
        possible.add(True)
    if not_false == n and may_unknown:
        possible.add(None)
    out = result & frozenset(possible)
    narrowed: list[frozenset[State]] = []
    for x in operands:
        others_false = may_false - (False in x)
        others_true = may_true - (True in x)
        others_unknown = may_unknown - (None in x)
        others_not_false = not_false - bool(x - FALSE)
        falsified = False in out and others_false > 0
        keep: set[State] = set()
        if False in x and False in out:
            keep.add(False)
        if True in x and (
            falsified
            or (True in out and others_true == n - 1)
            or (None in out and others_not_false == n - 1 and others_unknown > 0)
        ):
            keep.add(True)
        if None in x and (falsified or (None in out and others_not_false == n - 1)):
            keep.add(None)
        narrowed.append(frozenset(keep))
    if any(not x for x in narrowed):
        return [frozenset() for _ in operands], frozenset()
    return narrowed, out


def _may(value: State, moving: bool) -> frozenset[State]:
    return frozenset([value]) if value is not None or not moving else ANY


class _Moves:
    """Which states may still change below a partial request, given the rules that read a path still to
    be chosen."""

    def __init__(self, oracle: Oracle, open_rules: set[str]) -> None:
        self.oracle = oracle
        self.open = open_rules
        self._applies: dict[str, bool] = {}

    def applies(self, rid: str) -> bool:
        """A rule's ``applies``: it or an exception to it, at any depth, is open."""
        if rid not in self._applies:
            self._applies[rid] = rid in self.open or any(self.applies(e) for e in self.oracle.exceptions[rid])
        return self._applies[rid]

    def prohibits(self, rid: str) -> bool:
        """A forbid's ``prohibits``: its own ``applies``, or its standing, which reads the rules above it."""
        return self.applies(rid) or any(
            _above_differs(p, self.prohibits, self.oracle.book.rules) for p in self.oracle.book.rules[rid].exception_to
        )


class _RankBounds:
    """Bounds on each rule's place in the evaluator's ranking (:func:`~disclosure_rules.engine.evaluator._ranked`):
    the deepest chain of exceptions that held, then :func:`~disclosure_rules.engine.evaluator.tie_break`.
    A parent counts for the best place if it may still hold, for the worst only if it holds."""

    def __init__(self, oracle: Oracle, states: Mapping[str, RuleState], open_rules: set[str]) -> None:
        self.oracle = oracle
        self.states = states
        self.open = open_rules
        self._held: dict[tuple[str, bool], int] = {}
        self._places: dict[tuple[str, bool], tuple[int, int, int]] = {}

    def _holds(self, rid: str, best: bool) -> bool:
        holds = self.states[rid].holds
        return holds is True or (best and holds is None and rid in self.open)

    def held(self, rid: str, best: bool) -> int:
        key = (rid, best)
        if key not in self._held:
            parents = [p for p in self.oracle.book.rules[rid].exception_to if self._holds(p, best)]
            self._held[key] = 1 + max((self.held(p, best) for p in parents), default=0)
        return self._held[key]

    def place(self, rid: str, best: bool) -> tuple[int, int, int]:
        key = (rid, best)
        if key not in self._places:
            self._places[key] = (-self.held(rid, best), *tie_break(self.oracle.compiled, rid))
        return self._places[key]

    def above(self, rid: str, other: str) -> bool:
        """Whether ``rid`` ranks above ``other`` however the paths left are chosen. Two exceptions to the same
        rules rank by :func:`tie_break` alone, whatever holds: the same chains hold above both (the bounds,
        which take each rule's best and worst apart, cannot see that)."""
        if rid == other:
            return False
        rules = self.oracle.book.rules
        if set(rules[rid].exception_to) == set(rules[other].exception_to):
            return tie_break(self.oracle.compiled, rid) < tie_break(self.oracle.compiled, other)
        return self.place(rid, False) < self.place(other, True)
