"""``diff OLD NEW`` and ``diff --on D1 --on D2``: every region of requests whose outcome moves.

Both sides are evaluated on the same partial request. Only the *changed* rules can move an outcome (rules
added, removed or rewritten; between two dates, rules whose window covers one date and not the other, and
rules that read the date), so a branch where every changed rule is settled false on both sides, or settled
alike, is pruned at once. Elsewhere the search looks for *moves* (a pair of differing outcomes), not for
every request that moves: a branch is cut when no pair of outcomes the two sides may still come to can differ
(:mod:`.outcomes`), or when every move it may still come to has been found already with every value the
paths a region is described by may take there. Each move is one region, with one witness, decided again.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ..checker import Rules
from ..engine.evaluator import Verdict, prohibiting
from ..rulebook.model import Rule, Rulebook
from .domain import ABSENT, Assignment, Space, json_value, order_paths
from .oracle import Oracle, Outcome
from .outcomes import Rising, SideView, Var, pair_possible, rising_states, shared_states
from .report import Region, describe_outcome, where_text
from .search import LIMIT, Budget
from .witness import redecide, request_of


@attrs.frozen
class Side:
    oracle: Oracle
    day: datetime.date | None
    """The date this side is asked about (a date diff), or None (the request's own date)."""
    changed: tuple[str, ...]

    @property
    def near(self) -> frozenset[str]:
        """The changed rules and every rule they are exceptions to, at any depth."""
        return frozenset(self.changed) | {a for c in self.changed for a in self.oracle.ancestors(c)}

    def assignment(self, assignment: Assignment) -> Assignment:
        return assignment if self.day is None else {**assignment, "date": self.day}


def diff_dates(rules: Rules, before: datetime.date, after: datetime.date, *, limit: int = LIMIT) -> list[Region]:
    """Every region of requests whose outcome moves from ``before`` to ``after``. Raises :class:`Budget` if the
    search visits more than ``limit`` partial requests (it never answers on a search it did not finish)."""
    oracle = Oracle(rules)
    changed = tuple(
        rid
        for rid, rule in rules.book.rules.items()
        if rule.effective.covers(before) != rule.effective.covers(after) or "date" in _own_reads(oracle, rid)
    )
    # The same request on both dates: its chain's hops come before both (the reader refuses a later one).
    oracle.space.hop_dates_until = min(before, after)
    left, right = Side(oracle, before, changed), Side(oracle, after, changed)
    return _regions(oracle.space, left, right, {"date": after}, limit)


def diff_rules(old: Rules, new: Rules) -> list[Region]:
    old_oracle = Oracle(old)
    space = Space(new)
    space.add_tests("old:", old_oracle.space)
    new_oracle = Oracle(new, space)
    changed_old, changed_new = _changed(old.book, new.book)
    return _regions(space, Side(old_oracle, None, changed_old), Side(new_oracle, None, changed_new), {})


def _own_reads(oracle: Oracle, rid: str) -> frozenset[str]:
    return oracle.compiled.rules[rid].reads.paths


def _changed(old: Rulebook, new: Rulebook) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The rules of each side that are not the same rule on the other side (condition, definitions it uses,
    kind, exceptions, window or obligations); every rule if the order of declaration changed, since the
    controlling rule among equals is the first declared."""
    common = [rid for rid in old.rules if rid in new.rules]
    if common != [rid for rid in new.rules if rid in old.rules]:
        return tuple(old.rules), tuple(new.rules)
    same = {rid for rid in common if _key(old, old.rules[rid]) == _key(new, new.rules[rid])}
    return (
        tuple(rid for rid in old.rules if rid not in same),
        tuple(rid for rid in new.rules if rid not in same),
    )


def _key(book: Rulebook, rule: Rule) -> tuple[Any, ...]:
    from ..language.typecheck import references

    used: dict[str, Any] = {}
    pending = list(references(rule.condition))
    while pending:
        name = pending.pop()
        if name in used:
            continue
        used[name] = book.definitions[name].condition
        pending.extend(references(book.definitions[name].condition))
    return (
        rule.kind,
        rule.condition,
        sorted(used.items(), key=lambda kv: kv[0]),
        rule.exception_to,
        book.exceptions_of(rule.id),
        rule.effective,
        rule.obligations,
    )


def _regions(space: Space, left: Side, right: Side, start: Assignment, limit: int = LIMIT) -> list[Region]:
    search = _PairSearch(space, left, right, limit)
    search.run(start)
    book = right.oracle.book
    regions = [_region(space, book, left, right, move, found) for move, found in search.found.items()]
    return sorted(regions, key=lambda r: r.description)


Described = Mapping[str, frozenset[Any]]
"""For each path a region is described by, the values it may take."""


@attrs.define
class _Found:
    """What the search found of one move (a pair of outcomes): a witness, the values each described path
    takes somewhere in it, and how many leaves it was reached at."""

    witness: Assignment
    values: dict[str, set[Any]]
    leaves: int = 0


class _PairSearch:
    """A depth-first search for every *move* (a pair of differing outcomes, one per side), and for each the
    values each described path takes where it moves (the enumeration fields, and the facts the changed rules
    read), with one witness per move.

    A branch is cut when no move can come of it: every changed rule is settled false on both sides, or
    settled alike (see :func:`_settled_alike`), or no pair of outcomes the two sides may still come to can
    differ (:func:`~.outcomes.pair_possible`, which knows that the rules a date diff did not change come out
    the same on both sides). It is cut, too, when every move it may still come to has been found already
    with every value its described paths may still take. Each test over-approximates what the branch holds,
    so the search is complete: every move, and every value a described path takes in it, is found."""

    def __init__(self, space: Space, left: Side, right: Side, limit: int = LIMIT) -> None:
        self.limit = limit
        self.space = space
        self.left = left
        self.right = right
        self.described = _described_paths(space, left, right)
        self._every = {path: _every_value(space, path) for path in self.described}
        self.found: dict[tuple[Outcome, Outcome], _Found] = {}
        self.visited = 0
        self._shared: dict[tuple[str, ...], frozenset[Var]] = {}
        # Between two dates of one rule book, what moves only one way from the first to the second.
        self._rising: Rising = (
            rising_states(left.oracle, left.day, right.day)
            if left.oracle is right.oracle and left.day is not None and right.day is not None
            else frozenset()
        )

    def run(self, start: Assignment) -> None:
        stack: list[tuple[Assignment, Assignment]] = [(start, {})]
        while stack:
            assignment, classes = stack.pop()
            self.visited += 1
            if self.visited > self.limit:
                raise Budget(f"the diff visited more than {self.limit:,} partial requests")
            # The evaluator needs the date (it decides which rules are in force): it is chosen first.
            split = self._visit(assignment, classes) if "date" in assignment else ([["date"]], [])
            if split is None:
                continue
            groups, undecided = split
            path = order_paths(self.space, groups, assignment)
            if path is None:  # pragma: no cover - an unsettled outcome always has a path to choose
                continue
            for choice in reversed(self.space.choices(path, assignment, undecided)):
                stack.append(({**assignment, path: choice.value, **choice.also}, {**classes, path: choice.stands_for}))

    def _visit(self, assignment: Assignment, classes: Assignment) -> tuple[list[list[str]], list[str]] | None:
        """Record a leaf, or say which paths to split on, and the rules whose classes of values the split
        follows (None: the branch is done)."""
        left, right = self.left, self.right
        here_left, here_right = left.assignment(assignment), right.assignment(assignment)
        lv, rv = left.oracle.verdict(here_left), right.oracle.verdict(here_right)
        if self._unchanged(lv, rv, left.changed):
            return None
        old, new = left.oracle.unsettled(lv, here_left), right.oracle.unsettled(rv, here_right)
        allowed = self._allowed(assignment, classes)
        if not old and not new:
            move = (left.oracle.outcome(lv), right.oracle.outcome(rv))
            if move[0] != move[1] and not self._covered(move, allowed):
                self._record(move, assignment, allowed)
            return None
        blocking = self._open_move(lv, rv, old, new, assignment, allowed)
        if blocking is None:
            return None
        # The space knows the old rule book's rules by a prefix (see Space.add_tests).
        prefix = "" if left.oracle is right.oracle else "old:"
        # The changed rules and the rules they are exceptions to first: once they are settled alike on both
        # sides, the branch is cut (see _settled_alike).
        near = [
            *left.oracle.paths_of([r for r in old if r in left.near], here_left),
            *right.oracle.paths_of([r for r in new if r in right.near], here_right),
        ]
        rest = [*left.oracle.paths_of(old, here_left), *right.oracle.paths_of(new, here_right)]
        # A described path whose values a found move may still take here, but not all of them found yet,
        # first: a branch stays open until every such value is found or ruled out, and the pair test rules a
        # value out only once the path is chosen (a stay read from `facts.request.under_mou` cannot come of a
        # request that says it was not made under the memorandum).
        return [sorted(blocking), near, rest], [*(prefix + r for r in old), *new]

    def _open_move(
        self,
        lv: Verdict,
        rv: Verdict,
        old: Sequence[str],
        new: Sequence[str],
        assignment: Assignment,
        allowed: Described,
    ) -> set[str] | None:
        """None if this branch cannot come to a move not found yet with every value its described paths may
        take here (a move found so is not checked again: the search looks no further for it); else the
        unchosen described paths some value of which a found move may still take here and has not been
        found with."""
        left, right = self.left, self.right
        here_left, here_right = left.assignment(assignment), right.assignment(assignment)
        shared = self._shared_states(left.changed)
        # Between two dates the hop into the holder is decided on its own date, the same on both sides: the
        # routes it gives are one and the same, so each value they may come to is asked about on its own,
        # on both sides at once (a move that needs them known on one side and unknown on the other, or two
        # routes a hop naming one could not give together, is then ruled out).
        joint = left.oracle is right.oracle and left.day is not None
        options: list[Any] = (joint and left.oracle.route_options(here_left)) or [None]
        before: list[Outcome] = []
        after: list[Outcome] = []
        open_move = False
        for routes in options:
            mine = SideView.of(left.oracle, lv.states, here_left, routes)
            theirs = SideView.of(right.oracle, rv.states, here_right, routes)
            firsts = mine.candidates() if old else mine.settled(left.oracle.outcome(lv))
            thens = theirs.candidates() if new else theirs.settled(right.oracle.outcome(rv))
            before += firsts
            after += thens
            open_move = open_move or any(
                b != a
                and not self._covered((b, a), allowed)
                and pair_possible(mine, theirs, (b, a), shared, self._rising)
                for b in firsts
                for a in thens
            )
        if not open_move:
            return None
        # Which paths to choose first is only an order: the found moves either side may still come to are
        # enough to tell, without the pair test for each.
        may_before, may_after = set(before), set(after)
        blocking: set[str] = set()
        for (b, a), found in self.found.items():
            if b in may_before and a in may_after:
                blocking.update(
                    p for p, values in allowed.items() if p not in assignment and not values <= found.values[p]
                )
        return blocking

    def _shared_states(self, differing: tuple[str, ...]) -> frozenset[Var]:
        """The states that come out the same on both sides: none between two rule books."""
        if self.left.oracle is not self.right.oracle:
            return frozenset()
        if differing not in self._shared:
            self._shared[differing] = shared_states(self.left.oracle, differing)
        return self._shared[differing]

    def _unchanged(self, lv: Verdict, rv: Verdict, differing: tuple[str, ...]) -> bool:
        left, right = self.left, self.right
        if left.oracle is not right.oracle:
            return all(lv.states[c].holds is False for c in left.changed) and all(
                rv.states[c].holds is False for c in right.changed
            )
        if all(lv.states[c].holds is False and rv.states[c].holds is False for c in differing):
            return True
        return _settled_alike(left.oracle, differing, lv, rv)

    def _allowed(self, assignment: Assignment, classes: Assignment) -> dict[str, frozenset[Any]]:
        """The values each described path may still take below this partial request."""
        out: dict[str, frozenset[Any]] = {}
        for path, values in self.described.items():
            if path not in assignment:
                out[path] = values
            else:
                cls = classes.get(path)
                out[path] = frozenset(cls) if cls else frozenset([assignment[path]])
        return out

    def _covered(self, move: tuple[Outcome, Outcome], allowed: Mapping[str, frozenset[Any]]) -> bool:
        found = self.found.get(move)
        return found is not None and all(values <= found.values[p] for p, values in allowed.items())

    def _record(
        self, move: tuple[Outcome, Outcome], assignment: Assignment, allowed: Mapping[str, frozenset[Any]]
    ) -> None:
        found = self.found.get(move)
        if found is None:
            found = self.found[move] = _Found(assignment, {p: set() for p in self.described})
        found.leaves += 1
        for path, values in allowed.items():
            found.values[path] |= values
        self._spread(move, assignment, allowed, found)

    def _spread(
        self,
        move: tuple[Outcome, Outcome],
        assignment: Assignment,
        allowed: Mapping[str, frozenset[Any]],
        found: _Found,
    ) -> None:
        """Try, at a leaf just found, every value not yet found of each described path it chose, the rest of
        the partial request as it is: each that leaves both sides settled on the same move is a value the
        move takes too. Finding the values a move takes by search alone meant reaching a leaf for each, deep
        below paths no region is described by (a chain's hop); what is left to the search is to rule out the
        values no request takes, which the pair test does where the path is chosen."""
        left, right = self.left, self.right
        for path in self.described:
            if path not in assignment:
                continue  # every value is found already: the leaf holds whatever the path is
            for value in sorted(self._every[path] - found.values[path], key=str):
                there = {**assignment, path: value}
                here_left, here_right = left.assignment(there), right.assignment(there)
                lv, rv = left.oracle.verdict(here_left), right.oracle.verdict(here_right)
                if left.oracle.unsettled(lv, here_left) or right.oracle.unsettled(rv, here_right):
                    continue
                if (left.oracle.outcome(lv), right.oracle.outcome(rv)) != move:
                    continue
                for other, values in allowed.items():
                    found.values[other] |= {value} if other == path else values


def _settled_alike(oracle: Oracle, changed: Sequence[str], before: Verdict, after: Verdict) -> bool:
    """Whether one rule book's outcomes on two dates are equal below this partial request whatever the
    paths left: only the changed rules differ between the two (their window), and each has settled its
    effect alike on both sides. A changed rule acts on the outcome only through its own ``applies`` (a
    permit), its ``prohibits`` (a forbid), the ``applies`` of the rules it is an exception to, and its
    ``holds`` where it ranks an exception to it; when each of those is definite and equal on both dates, it
    stays so (Kleene monotonicity), and every other rule reads the same request the same way."""
    rules = oracle.book.rules
    prohibits = (prohibiting(oracle.compiled, before.states), prohibiting(oracle.compiled, after.states))
    for rid in changed:
        rule = rules[rid]
        b, a = before.states[rid], after.states[rid]
        if rule.kind == "permit" and (b.applies is None or b.applies != a.applies):
            return False
        if rule.kind == "forbid" and (prohibits[0][rid] is None or prohibits[0][rid] != prohibits[1][rid]):
            return False
        for parent in rule.exception_to:
            pb, pa = before.states[parent].applies, after.states[parent].applies
            if pb is None or pb != pa:
                return False
        if oracle.exceptions[rid] and (b.holds is None or b.holds != a.holds):
            return False
    return True


def _described_paths(space: Space, left: Side, right: Side) -> dict[str, frozenset[Any]]:
    """The paths a region is described by, with every value each may take: the enumeration fields (but the
    date), and the facts (true, false or left out) that a changed rule reads."""
    fields = [p for p in space.vocabulary.fields if p != "date" and space.paths[p].kind == "enum"]
    reads = {p for side in (left, right) for rid in side.changed for p in _own_reads(side.oracle, rid)}
    facts = [p for p in sorted(reads) if p.startswith("facts.") and p in space.paths and space.paths[p].kind == "bool"]
    return {path: _every_value(space, path) for path in [*fields, *facts]}


def _region(
    space: Space,
    book: Rulebook,
    left: Side,
    right: Side,
    move: tuple[Outcome, Outcome],
    found: _Found,
) -> Region:
    fields: dict[str, tuple[str, ...]] = {}
    facts: dict[str, Any] = {}
    for path, values in found.values.items():
        every = _every_value(space, path)
        if path.startswith("facts."):
            if len(values) == 1:
                (value,) = values
                facts[path] = None if value is ABSENT else json_value(value)
        elif values != every:
            fields[path] = tuple(
                "left out" if v is ABSENT else str(v) for v in (*space.paths[path].values, ABSENT) if v in values
            )
    witness = request_of(space, found.witness)
    confirmed = _confirm(left, witness, move[0]) and _confirm(right, witness, move[1])
    where = where_text(fields, facts)
    description = f"{where}: {describe_outcome(left.oracle.book, move[0])} → {describe_outcome(book, move[1])}"
    return Region(move[0], move[1], description, fields, facts, witness, found.leaves, confirmed)


def _every_value(space: Space, path: str) -> frozenset[Any]:
    info = space.paths[path]
    base: frozenset[Any] = frozenset(info.values) if info.kind == "enum" else frozenset([True, False])
    return base | ({ABSENT} if info.may_be_absent else set())


def _confirm(side: Side, witness: Mapping[str, Any], expected: Outcome) -> bool:
    request = dict(witness)
    if side.day is not None:
        request["date"] = side.day.isoformat()
    decision, verdict = redecide(side.oracle.rules, request)
    if verdict is None or decision.status == "error":
        return False
    outcome: Outcome = side.oracle.outcome(verdict)
    return outcome == expected and (decision.decision, decision.status) == expected[:2]
