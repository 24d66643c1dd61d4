"""Compile checked condition trees into fast three-valued predicates.

A predicate takes an *environment* (the validated request as a flat mapping
from paths such as ``facts.request.signed_by`` to values; an absent path is
unknown) and returns ``True``, ``False`` or ``None`` for unknown, following
Kleene's strong three-valued logic: ``False and unknown`` is ``False``,
``True or unknown`` is ``True``, ``not unknown`` is unknown, and any
comparison that reads an unknown value is unknown.

Predicates are closures built once from the checked tree (never from text).
Alongside each predicate the compiler records what it reads, which the
evaluator needs to list unknown facts and the case cache needs to know which
dates matter.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..language.ast import And, Compare, Expr, Group, Not, Or, Path, Ref, Value, ValueSet
from ..rulebook.model import Definition, Rulebook

Env = Mapping[str, Any]
Pred = Callable[[Env], "bool | None"]
Getter = Callable[[Env], Any]


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
"""What a getter returns for a path the request does not state."""


_ORDER: Mapping[str, Callable[[Any, Any], bool | None]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
    "overlaps": lambda a, b: not a.isdisjoint(b),
    # An empty set is vacuously within anything; as evidence of where data came from it proves nothing, so
    # it is unknown: a grant can never rest on it, and a prohibition that asks "not within" stays undecided.
    "within": lambda a, b: (a <= b) if a else None,
    "includes": lambda a, b: (a >= b) if isinstance(b, frozenset) else (b in a),
}


@attrs.frozen
class Reads:
    """What a condition reads: request paths, and for date paths the literal dates they are compared with."""

    paths: frozenset[str] = frozenset()
    date_literals: Mapping[str, frozenset[datetime.date]] = attrs.field(factory=dict, eq=False)
    date_paths_compared_to_paths: frozenset[str] = frozenset()

    def union(self, other: Reads) -> Reads:
        dates = {k: v for k, v in self.date_literals.items()}
        for k, v in other.date_literals.items():
            dates[k] = dates.get(k, frozenset()) | v
        return Reads(
            self.paths | other.paths, dates, self.date_paths_compared_to_paths | other.date_paths_compared_to_paths
        )


class Compiler:
    """Compiles conditions of one rulebook; definitions are compiled once and shared."""

    def __init__(self, book: Rulebook) -> None:
        self.definitions: Mapping[str, Definition] = book.definitions
        self.tied_to = book.vocabulary.tied_to()
        """For a fact tied to another fact's set (Slot.default_when), that set's path: a condition reading the
        fact reads the set too, since the fact's value turns on it (case keys, signatures and the analysis all
        follow ``reads``)."""
        self._defs: dict[str, Pred] = {}
        self._def_reads: dict[str, Reads] = {}

    # -- predicates -------------------------------------------------------------------------

    def predicate(self, node: Expr) -> Pred:
        if isinstance(node, Path):
            return _path_predicate(node.path)
        if isinstance(node, Value):
            constant = bool(node.value)
            return lambda env: constant
        if isinstance(node, Ref):
            return self.definition(node.name)
        if isinstance(node, Not):
            return _not(self.predicate(node.operand))
        if isinstance(node, And):
            return _and(tuple(self.predicate(o) for o in node.operands))
        if isinstance(node, Or):
            return _or(tuple(self.predicate(o) for o in node.operands))
        if isinstance(node, Compare):
            return _compare(node.op, self.getter(node.left), self.getter(node.right), node.left, node.right)
        raise TypeError(f"cannot compile {node!r} as a condition")  # pragma: no cover

    def getter(self, node: Expr) -> Getter | Any:
        """A getter for a path, or the constant itself for a literal or group."""
        if isinstance(node, Path):
            path = node.path
            return lambda env: env.get(path, UNKNOWN)
        if isinstance(node, Value):
            return node.value
        if isinstance(node, (ValueSet, Group)):
            return node.values
        raise TypeError(f"cannot compile {node!r} as a value")  # pragma: no cover

    def definition(self, name: str) -> Pred:
        compiled = self._defs.get(name)
        if compiled is None:
            # Definitions are acyclic (the loader checks), so this recursion ends.
            compiled = self.predicate(self.definitions[name].condition)
            self._defs[name] = compiled
        return compiled

    # -- reads ------------------------------------------------------------------------------

    def reads(self, node: Expr) -> Reads:
        if isinstance(node, Path):
            also = self.tied_to.get(node.path)
            return Reads(frozenset([node.path] if also is None else [node.path, also]))
        if isinstance(node, Ref):
            cached = self._def_reads.get(node.name)
            if cached is None:
                cached = self.reads(self.definitions[node.name].condition)
                self._def_reads[node.name] = cached
            return cached
        if isinstance(node, Not):
            return self.reads(node.operand)
        if isinstance(node, (And, Or)):
            out = Reads()
            for operand in node.operands:
                out = out.union(self.reads(operand))
            return out
        if isinstance(node, Compare):
            out = self.reads(node.left).union(self.reads(node.right))
            for side, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(side, Path) and side.type.kind == "date":
                    if isinstance(other, Value) and isinstance(other.value, datetime.date):
                        out = out.union(Reads(frozenset(), {side.path: frozenset([other.value])}))
                    elif isinstance(other, Path):
                        out = out.union(Reads(frozenset(), {}, frozenset([side.path])))
            return out
        return Reads()


def _path_predicate(path: str) -> Pred:
    def test(env: Env) -> bool | None:
        value = env.get(path, UNKNOWN)
        return None if value is UNKNOWN else bool(value)

    return test


def _not(inner: Pred) -> Pred:
    def test(env: Env) -> bool | None:
        value = inner(env)
        return None if value is None else not value

    return test


def _and(parts: tuple[Pred, ...]) -> Pred:
    def test(env: Env) -> bool | None:
        result: bool | None = True
        for part in parts:
            value = part(env)
            if value is False:
                return False
            if value is None:
                result = None
        return result

    return test


def _or(parts: tuple[Pred, ...]) -> Pred:
    def test(env: Env) -> bool | None:
        result: bool | None = False
        for part in parts:
            value = part(env)
            if value is True:
                return True
            if value is None:
                result = None
        return result

    return test


def _compare(op: str, left: Any, right: Any, left_node: Expr, right_node: Expr) -> Pred:
    fn = _ORDER[op]
    left_is_path = isinstance(left_node, Path)
    right_is_path = isinstance(right_node, Path)
    if left_is_path and not right_is_path:
        get, constant = left, right

        def test_left(env: Env) -> bool | None:
            value = get(env)
            return None if value is UNKNOWN else fn(value, constant)

        return test_left
    if right_is_path and not left_is_path:
        get, constant = right, left

        def test_right(env: Env) -> bool | None:
            value = get(env)
            return None if value is UNKNOWN else fn(constant, value)

        return test_right
    if left_is_path and right_is_path:
        get_left, get_right = left, right

        def test_both(env: Env) -> bool | None:
            a, b = get_left(env), get_right(env)
            return None if a is UNKNOWN or b is UNKNOWN else fn(a, b)

        return test_both
    # Two constants (e.g. a group against a list): the checker normally refuses this.
    constant_result = fn(left, right)
    return lambda env: constant_result


@attrs.frozen
class Unit:
    """One requirement of a rule, as explanations list it: a top-level conjunct.

    A definition with its own ``must`` sentence stays one unit; one without is
    opened so each of its conjuncts can be reported separately.
    """

    node: Expr
    test: Pred = attrs.field(eq=False)
    reads: Reads = attrs.field(eq=False)


@attrs.frozen
class CompiledRule:
    id: str
    test: Pred = attrs.field(eq=False)
    reads: Reads = attrs.field(eq=False)
    units: tuple[Unit, ...] = attrs.field(eq=False)


@attrs.frozen(eq=False)
class CompiledRulebook:
    book: Rulebook
    rules: Mapping[str, CompiledRule]
    order: tuple[str, ...]
    """Rule ids, every exception before the rules it is an exception to."""
    exceptions: Mapping[str, tuple[str, ...]]
    """For each rule, the rules that are exceptions to it."""
    reads: Reads
    position: Mapping[str, int]
    """Where each rule was declared, for a stable order."""
    forbids: tuple[str, ...] = ()
    """The forbidding rules, in declaration order."""


def _units(node: Expr, definitions: Mapping[str, Definition]) -> list[Expr]:
    if isinstance(node, And):
        return [u for operand in node.operands for u in _units(operand, definitions)]
    if isinstance(node, Ref):
        definition = definitions[node.name]
        if definition.must is None and isinstance(definition.condition, And):
            return _units(definition.condition, definitions)
    return [node]


def compile_rulebook(book: Rulebook) -> CompiledRulebook:
    compiler = Compiler(book)
    rules: dict[str, CompiledRule] = {}
    total = Reads()
    for rid, rule in book.rules.items():
        units = tuple(
            Unit(node, compiler.predicate(node), compiler.reads(node))
            for node in _units(rule.condition, book.definitions)
        )
        reads = compiler.reads(rule.condition)
        rules[rid] = CompiledRule(rid, compiler.predicate(rule.condition), reads, units)
        total = total.union(reads)
    exceptions = {rid: book.exceptions_of(rid) for rid in book.rules}
    order: list[str] = []
    done: set[str] = set()

    def place(rid: str) -> None:
        if rid in done:
            return
        done.add(rid)
        for exception in exceptions[rid]:
            place(exception)
        order.append(rid)

    for rid in book.rules:
        place(rid)
    position = {rid: i for i, rid in enumerate(book.rules)}
    forbids = tuple(rid for rid, rule in book.rules.items() if rule.kind == "forbid")
    return CompiledRulebook(book, rules, tuple(order), exceptions, total, position, forbids)
