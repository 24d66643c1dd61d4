"""``diff OLD NEW`` and ``diff --on D1 --on D2``: every region of requests whose outcome moves.

Both sides are evaluated on the same partial request. Only the *changed* rules can move an outcome (rules
added, removed or rewritten; between two dates, rules whose window covers one date and not the other, and
rules that read the date), so a branch where every changed rule is settled false on both sides is pruned
at once. Elsewhere the search goes on until every rule is settled on both sides, and a leaf whose outcome
(decision, status, controlling rule, obligations) differs is kept. Leaves are grouped by how the outcome
moves; each group is one region, described by the values its fields take and the facts it fixes.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ..checker import Rules
from ..engine.evaluator import Verdict, prohibiting
from ..rulebook.model import Rule, Rulebook
from .domain import ABSENT, Assignment, Space, json_value, order_paths
from .oracle import Oracle, Outcome
from .report import Region, describe_outcome
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


def diff_dates(rules: Rules, before: datetime.date, after: datetime.date) -> list[Region]:
    oracle = Oracle(rules)
    changed = tuple(
        rid
        for rid, rule in rules.book.rules.items()
        if rule.effective.covers(before) != rule.effective.covers(after) or "date" in _own_reads(oracle, rid)
    )
    left, right = Side(oracle, before, changed), Side(oracle, after, changed)
    return _regions(oracle.space, left, right, {"date": after})


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


def _regions(space: Space, left: Side, right: Side, start: Assignment) -> list[Region]:
    def evaluate(assignment: Assignment) -> tuple[Verdict, Verdict]:
        return (
            left.oracle.verdict(left.assignment(assignment)),
            right.oracle.verdict(right.assignment(assignment)),
        )

    def unchanged(verdicts: tuple[Verdict, Verdict]) -> bool:
        lv, rv = verdicts
        if all(lv.states[c].holds is False for c in left.changed) and all(
            rv.states[c].holds is False for c in right.changed
        ):
            return True
        return left.oracle is right.oracle and _settled_alike(left.oracle, left.changed, lv, rv)

    groups: dict[tuple[Outcome, Outcome], list[tuple[Assignment, Assignment]]] = {}
    for assignment, classes, (lv, rv) in _leaves(space, left, right, start, evaluate, unchanged):
        move = (left.oracle.outcome(lv), right.oracle.outcome(rv))
        if move[0] != move[1]:
            groups.setdefault(move, []).append((assignment, classes))
    book = right.oracle.book
    regions = [_region(space, book, left, right, move, nodes) for move, nodes in groups.items()]
    return sorted(regions, key=lambda r: (-r.cells, r.description))


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


def _leaves(
    space: Space,
    left: Side,
    right: Side,
    start: Assignment,
    evaluate: Callable[[Assignment], tuple[Verdict, Verdict]],
    unchanged: Callable[[tuple[Verdict, Verdict]], bool],
) -> Iterator[tuple[Assignment, Assignment, tuple[Verdict, Verdict]]]:
    """Partial requests below which both outcomes are settled (the same for every way of choosing the
    paths left), with the classes their choices stand for; a branch where no changed rule can hold is cut."""
    stack: list[tuple[Assignment, Assignment]] = [(start, {})]
    while stack:
        assignment, classes = stack.pop()
        verdicts = evaluate(assignment)
        if unchanged(verdicts):
            continue
        old = left.oracle.unsettled(verdicts[0], left.assignment(assignment))
        new = right.oracle.unsettled(verdicts[1], right.assignment(assignment))
        if not old and not new:
            yield assignment, classes, verdicts
            continue
        paths = [
            *left.oracle.paths_of(old, left.assignment(assignment)),
            *right.oracle.paths_of(new, right.assignment(assignment)),
        ]
        # The changed rules and the rules they are exceptions to first: once they are settled alike on both
        # sides, the branch is cut (see _settled_alike).
        near = [
            *left.oracle.paths_of([r for r in old if r in left.near], left.assignment(assignment)),
            *right.oracle.paths_of([r for r in new if r in right.near], right.assignment(assignment)),
        ]
        path = order_paths(space, [near, paths], assignment)
        if path is None:  # pragma: no cover - an undecided rule always has a path to choose
            continue
        # The space knows the old rule book's rules by a prefix (see Space.add_tests).
        prefix = "" if left.oracle is right.oracle else "old:"
        for choice in reversed(space.choices(path, assignment, [*(prefix + r for r in old), *new])):
            stack.append(({**assignment, path: choice.value, **choice.also}, {**classes, path: choice.stands_for}))


def _region(
    space: Space,
    book: Rulebook,
    left: Side,
    right: Side,
    move: tuple[Outcome, Outcome],
    nodes: Sequence[tuple[Assignment, Assignment]],
) -> Region:
    fields = _field_hull(space, nodes)
    facts = _constant_facts(space, [a for a, _ in nodes])
    witness = request_of(space, nodes[0][0])
    confirmed = _confirm(left, witness, move[0]) and _confirm(right, witness, move[1])
    where = "; ".join(f"{path}: {' or '.join(values)}" for path, values in fields.items()) or "any request"
    if facts:
        where += "; with " + ", ".join(
            f"{p} {'left out' if v is None else '= ' + json_str(v)}" for p, v in facts.items()
        )
    description = f"{where}: {describe_outcome(left.oracle.book, move[0])} → {describe_outcome(book, move[1])}"
    return Region(move[0], move[1], description, fields, facts, witness, len(nodes), confirmed)


def json_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_hull(space: Space, nodes: Iterable[tuple[Assignment, Assignment]]) -> dict[str, tuple[str, ...]]:
    """For each field the region limits (not date, which the diff fixes), the values its leaves (and the
    partial requests merged into them) cover."""
    out: dict[str, tuple[str, ...]] = {}
    nodes = list(nodes)
    for path in space.vocabulary.fields:
        info = space.paths[path]
        if path == "date" or info.kind != "enum":
            continue
        covered: set[str] = set()
        for assignment, classes in nodes:
            if path not in assignment:
                covered = set(info.values)
                break
            cls = classes.get(path)
            covered |= set(cls) if cls else {assignment[path]}
        if covered != set(info.values):
            out[path] = tuple(v for v in info.values if v in covered)
    return out


def _constant_facts(space: Space, leaves: Sequence[Assignment]) -> dict[str, Any]:
    """Facts (and set-valued fields) with one value in every leaf of the region."""
    out: dict[str, Any] = {}
    first = leaves[0]
    candidates = [p for p in first if p != "date" and (p.startswith("facts.") or space.paths[p].kind != "enum")]
    for path in candidates:
        values = {leaf.get(path, _MISSING) for leaf in leaves}
        if len(values) == 1 and _MISSING not in values:
            value = first[path]
            out[path] = None if value is ABSENT else json_value(value)
    return out


_MISSING = object()


def _confirm(side: Side, witness: Mapping[str, Any], expected: Outcome) -> bool:
    request = dict(witness)
    if side.day is not None:
        request["date"] = side.day.isoformat()
    decision, verdict = redecide(side.oracle.rules, request)
    if verdict is None or decision.status == "error":
        return False
    outcome: Outcome = side.oracle.outcome(verdict)
    return outcome == expected and (decision.decision, decision.status) == expected[:2]
