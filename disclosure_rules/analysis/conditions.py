"""Checks on the parts of a rule's condition (never true, never false, redundant) and on its comparisons
(never raise). The parts are the compiler's units: each top-level requirement of a rule, with the
predicate the compiler built for it."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..engine.compiler import Compiler, Pred, Unit
from ..language.ast import And, Compare, Expr, Not, Or, Ref
from ..language.unparse import unparse
from ..rulebook.vocabulary import RECEIVED_UNDER
from .domain import ABSENT, Assignment, expand
from .oracle import EvaluationFailed, Oracle
from .report import Finding
from .search import FOUND, PRUNE, Leaf, Step, explore, split
from .witness import reader_env, redecide, request_of

State = bool | None


def _pending(oracle: Oracle, unit: Unit, assignment: Assignment) -> list[str]:
    """The unchosen paths that could settle the unit (the chain's, for a chain projection)."""
    out = [
        q for p in unit.reads.paths if p != RECEIVED_UNDER for q in expand(p, oracle.hop_keys) if q not in assignment
    ]
    if RECEIVED_UNDER in unit.reads.paths:
        out += oracle.route_paths(assignment)
    return out


def _could_be(oracle: Oracle, unit: Unit, assignment: Assignment, want: bool) -> bool:
    return RECEIVED_UNDER not in unit.reads.paths or oracle.could_be(unit.test, assignment, want)


def _value(oracle: Oracle, unit: Unit, assignment: Assignment) -> tuple[State, bool]:
    """The unit's value, and whether it is settled (definite, or unknown with every path it reads chosen)."""
    value = unit.test(oracle.unit_env(assignment))
    return value, value is not None or not _pending(oracle, unit, assignment)


def _kleene_and(values: Sequence[State]) -> State:
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def _unit_judge(oracle: Oracle, unit: Unit, wanted: bool, rid: str) -> Callable[[Assignment], Step]:
    def judge(assignment: Assignment) -> Step:
        value, settled = _value(oracle, unit, assignment)
        if value is wanted:
            return FOUND
        if settled or not _could_be(oracle, unit, assignment, wanted):
            return PRUNE
        return split([_pending(oracle, unit, assignment)], (rid,))

    return judge


def _redundant_judge(oracle: Oracle, units: Sequence[Unit], index: int, rid: str) -> Callable[[Assignment], Step]:
    """Found where dropping part ``index`` would change whether the rule holds."""
    unit = units[index]
    others = [u for i, u in enumerate(units) if i != index]

    def judge(assignment: Assignment) -> Step:
        value, settled = _value(oracle, unit, assignment)
        rest = [_value(oracle, u, assignment) for u in others]
        together = _kleene_and([v for v, _ in rest])
        rest_settled = all(s for _, s in rest)
        if together is False or value is True or not all(_could_be(oracle, u, assignment, True) for u in others):
            return PRUNE
        if settled and rest_settled and (together is True or value is False):
            return FOUND
        if settled and together is True:
            return FOUND
        pending = [p for u in (unit, *others) for p in _pending(oracle, u, assignment)]
        # The part's own paths first (it must come out false), then the routes (deciding the hop settles them,
        # and a hop that gives none prunes the most), then the rest.
        own = _pending(oracle, unit, assignment) if RECEIVED_UNDER not in unit.reads.paths else []
        derived = [
            p for u in (unit, *others) if RECEIVED_UNDER in u.reads.paths for p in _pending(oracle, u, assignment)
        ]
        return split([own, derived, pending], (rid,)) if pending else PRUNE

    return judge


def first_leaf(oracle: Oracle, start: Assignment, judge: Callable[[Assignment], Step]) -> Leaf | None:
    return next(explore(oracle.space, start, judge, first=True), None)


def unit_findings(oracle: Oracle, rid: str) -> Iterator[Finding]:
    units = oracle.compiled.rules[rid].units
    rule = oracle.book.rules[rid]
    for index, unit in enumerate(units):
        part = unparse(unit.node)
        never: list[str] = []
        for wanted in (True, False):
            if first_leaf(oracle, {}, _unit_judge(oracle, unit, wanted, rid)) is None:
                never.append("true" if wanted else "false")
        if never:
            kind = f"always_{'false' if never[0] == 'true' else 'true'}" if len(never) == 1 else "never_known"
            yield _part_finding(
                oracle,
                rid,
                part,
                kind,
                f"In `{rid}`, the condition part `{part}` is never {never[0]}"
                + (" (it can only be unknown)" if len(never) == 2 else "")
                + (": the rule can never hold." if never[0] == "true" else ": it never matters."),
                unit,
                None,
            )
            continue
        if len(units) < 2:
            continue
        if first_leaf(oracle, {}, _redundant_judge(oracle, units, index, rid)) is None:
            yield _part_finding(
                oracle,
                rid,
                part,
                "redundant",
                f"In `{rid}` ({rule.citation}), the condition part `{part}` never changes whether the rule holds: "
                "the other parts imply it.",
                unit,
                None,
            )


def _part_finding(
    oracle: Oracle, rid: str, part: str, kind: str, message: str, unit: Unit, witness: Assignment | None
) -> Finding:
    # A part that is never true (or never false) has no request to show; the witness is a request on which
    # the part is evaluated, with the value the finding claims for it.
    leaf = first_leaf(oracle, {}, _unit_judge(oracle, unit, kind == "always_true", rid))
    request = request_of(oracle.space, leaf.assignment) if leaf is not None else None
    confirmed = True
    decided = ""
    if request is not None:
        decision, _verdict = redecide(oracle.rules, request)
        env = reader_env(oracle.rules, request)
        decided = f"{decision.decision} ({decision.status}); the part is {unit.test(env) if env else 'not evaluated'}"
        confirmed = env is not None and decision.status != "error" and unit.test(env) is (kind == "always_true")
    return Finding("reach", kind, (rid,), message, request, decided, confirmed, part=part)


# -- never errors ---------------------------------------------------------------------------------


def _comparisons(node: Expr, definitions: Any, seen: set[str]) -> Iterator[Compare]:
    if isinstance(node, Compare):
        yield node
    elif isinstance(node, Not):
        yield from _comparisons(node.operand, definitions, seen)
    elif isinstance(node, (And, Or)):
        for operand in node.operands:
            yield from _comparisons(operand, definitions, seen)
    elif isinstance(node, Ref) and node.name not in seen:
        seen.add(node.name)
        yield from _comparisons(definitions[node.name].condition, definitions, seen)


def _samples(oracle: Oracle, path: str) -> list[Any]:
    """A value of every class of ``path``, and the extremes of its type."""
    projection = oracle.space.projections.get(path)
    if projection is not None:
        # A chain projection is a set of its key's values, any of which a hop may give.
        return [frozenset(), *(frozenset([v]) for v in projection.values), frozenset(projection.values)]
    info = oracle.space.paths[path]
    values = [c.value for c in oracle.space.choices(path, {}, oracle.ids) if c.value is not ABSENT]
    if info.kind == "set":
        values += [frozenset(), frozenset(info.values)]
    elif info.kind == "date":
        values += [datetime.date.min, datetime.date.max]
    elif info.kind == "number":
        values += [0.5, -(10**30), 10**30, -1e308, 1e308]
    elif info.kind == "text":
        values += ["", "x" * 10_000]
    return values


def sweep_errors(oracle: Oracle, takes: Callable[[], bool] = lambda: True) -> Iterator[Finding]:
    """Each comparison of each rule, run on every class (and extreme) of the values it reads (of the rules
    ``takes`` deals this process, called once per rule in order)."""
    compiler = Compiler(oracle.book)
    for rid, rule in oracle.book.rules.items():
        if not takes():
            continue
        for node in _comparisons(rule.condition, oracle.book.definitions, set()):
            test: Pred = compiler.predicate(node)
            paths = sorted(oracle.compiled.rules[rid].reads.paths & _paths_in(node))
            for combo in itertools.product(*(_samples(oracle, p) for p in paths)):
                env = dict(zip(paths, combo, strict=True))
                try:
                    test(env)
                except Exception as exc:
                    yield _raising(oracle, rid, node, env, exc)
                    break


def _paths_in(node: Expr) -> set[str]:
    from ..language.ast import Path

    return (
        {side.path for side in (node.left, node.right) if isinstance(side, Path)}
        if isinstance(node, Compare)
        else set()
    )


def _raising(oracle: Oracle, rid: str, node: Compare, values: dict[str, Any], exc: Exception) -> Finding:
    """A request on which the evaluator raises, searched for below the values the comparison raised on."""

    def judge(assignment: Assignment) -> Step:
        try:
            verdict = oracle.verdict(assignment)
        except EvaluationFailed:
            return FOUND
        open_rules = oracle.open_rules(verdict, assignment, oracle.ids)
        return split([oracle.paths_of(open_rules, assignment)], open_rules) if open_rules else PRUNE

    leaf = next(explore(oracle.space, values, judge, first=True), None)
    part = unparse(node)
    request = request_of(oracle.space, leaf.assignment if leaf else values)
    decision, _verdict = redecide(oracle.rules, request)
    return Finding(
        "errors",
        "evaluation_error",
        (rid,),
        f"In `{rid}`, the comparison `{part}` raises {type(exc).__name__} ({exc}) on well-typed values"
        + ("." if leaf else "; no request reaches it, but it is a fault waiting for one."),
        request,
        f"{decision.decision} ({decision.status})",
        decision.status == "error" if leaf else True,
        part=part,
    )
