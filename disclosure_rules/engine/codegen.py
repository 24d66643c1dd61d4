"""Compile a whole rule set into one generated Python function: every rule's state on a request.

The closure compiler (:mod:`~disclosure_rules.engine.compiler`) turns each condition into a tree of closures, one
Python call per node; on a new case most of the time goes there. This module builds, with the :mod:`ast`
module, one function per rule set from the *type-checked* condition trees, which computes what
:func:`~disclosure_rules.engine.evaluator.evaluate` computes: for each rule, whether it is in force, holds and
applies (Kleene's three-valued logic). The closures stay, as the reference the generated code is tested
against (``tests/test_codegen.py``) and for the explanations, which test one requirement at a time.

Safety: nothing from a request reaches the generated code, which is built before any request is read.
Identifiers are the module's own (``p3``, ``t12``); request paths and literal values from the rules enter
only as constants (``ast.Constant``, or a name bound to the value in the function's namespace), never as
code. No builtin but ``bool`` is reachable from it.

Two-valued where the vocabulary proves a value is always there: a required field, a fact with a default, a
chain projection the reader always sets. Any other path may be unknown (``UNKNOWN``), and every test of it
is three-valued. An environment that lacks one of the always-present paths (one not built by the request
reader) raises ``KeyError``; the caller then uses the closures.
"""

from __future__ import annotations

import ast
import datetime
import itertools
import marshal
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ..language.ast import And, Compare, Expr, Group, Not, Or, Path, Ref, Value, ValueSet
from ..rulebook.model import Effective
from ..rulebook.vocabulary import RECEIVED_UNDER, Vocabulary
from .compiler import _ORDER, UNKNOWN, CompiledRulebook

State = bool | None
StateTuple = tuple[bool, State, State]
Evaluate = Callable[[Mapping[str, Any], datetime.date], "dict[str, Any]"]

_ORDER_AST: Mapping[str, ast.cmpop] = {
    "==": ast.Eq(),
    "!=": ast.NotEq(),
    "<": ast.Lt(),
    "<=": ast.LtE(),
    ">": ast.Gt(),
    ">=": ast.GtE(),
    "in": ast.In(),
    "not in": ast.NotIn(),
}


def always_present(vocabulary: Vocabulary) -> frozenset[str]:
    """The paths every environment the request reader builds has: required fields, facts with a default,
    and the chain projections (all but ``received_under``, which provenance decides, maybe as unknown)."""
    required = {p for p, s in vocabulary.fields.items() if s.required}
    # A presumption that holds only on another fact's value (Slot.default_when) leaves the fact unknown otherwise.
    defaulted = {p for p, s in vocabulary.facts.items() if s.default is not None and s.default_when is None}
    projections = {p for p in vocabulary.chain_projections if p != RECEIVED_UNDER}
    return frozenset(required | defaulted | projections)


def _name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def _is(left: ast.expr, right: ast.expr) -> ast.expr:
    return ast.Compare(left=left, ops=[ast.Is()], comparators=[right])


def _if(test: ast.expr, body: ast.expr, orelse: ast.expr) -> ast.expr:
    return ast.IfExp(test=test, body=body, orelse=orelse)


def _const(value: str | bool | int | float | None) -> ast.expr:
    return ast.Constant(value=value)


class _Builder:
    """Turns checked condition trees into expressions over local variables, one per path read."""

    def __init__(self, compiled: CompiledRulebook, partial: bool = False) -> None:
        self.definitions = compiled.book.definitions
        vocabulary = compiled.book.vocabulary
        # Partial: for an environment that may lack any path (the analysis evaluates partial requests), every
        # path is read with a default and tested three-valued.
        self.known = frozenset() if partial else always_present(vocabulary)
        self.bool_paths = {
            p for p in vocabulary.readable_paths() if (s := vocabulary.slot(p)) and s.type.kind == "bool"
        }
        self.paths: dict[str, str] = {}
        self.constants: dict[str, Any] = {}
        """Values from the rules, bound to names of the generated code: plain data, so they can be kept."""
        self.orders: dict[str, str] = {}
        """Names of the generated code bound to a comparison of :data:`~.compiler._ORDER`, by operator."""
        self._counter = itertools.count(1)

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    def constant(self, value: Any) -> ast.expr:
        if value is None or isinstance(value, (bool, int, float, str)):
            return _const(value)
        name = self.fresh("K")
        self.constants[name] = value
        return _name(name)

    def order(self, op: str) -> ast.expr:
        name = self.fresh("O")
        self.orders[name] = op
        return _name(name)

    def path(self, path: str) -> tuple[ast.expr, bool]:
        """The local holding ``path``'s value, and whether it may be unknown."""
        if path not in self.paths:
            self.paths[path] = self.fresh("p")
        return _name(self.paths[path]), path not in self.known

    # -- conditions: (expression, three-valued?) -------------------------------------------------------

    def condition(self, node: Expr) -> tuple[ast.expr, bool]:
        if isinstance(node, Path):
            value, maybe_unknown = self.path(node.path)
            truth = value if node.path in self.bool_paths else ast.Call(_name("bool"), [value], [])
            if not maybe_unknown:
                return truth, False
            return _if(_is(value, _name("U")), _const(None), truth), True
        if isinstance(node, Value):
            return _const(bool(node.value)), False
        if isinstance(node, Ref):
            # Inlined: the same definition may be evaluated by several rules, each with its own temporaries.
            return self.condition(self.definitions[node.name].condition)
        if isinstance(node, Not):
            inner, three = self.condition(node.operand)
            if not three:
                return ast.UnaryOp(op=ast.Not(), operand=inner), False
            t = self.fresh("t")
            walrus = ast.NamedExpr(target=ast.Name(id=t, ctx=ast.Store()), value=inner)
            return _if(_is(walrus, _const(None)), _const(None), ast.UnaryOp(op=ast.Not(), operand=_name(t))), True
        if isinstance(node, (And, Or)):
            return self.junction(node)
        if isinstance(node, Compare):
            return self.compare(node)
        raise TypeError(f"cannot generate code for {node!r}")  # pragma: no cover - the checker refuses it

    def junction(self, node: And | Or) -> tuple[ast.expr, bool]:
        """Kleene's and/or, evaluated left to right, stopping at the first operand that decides."""
        deciding = isinstance(node, Or)  # the value that decides: True for `or`, False for `and`
        parts = [self.condition(o) for o in node.operands]
        if not any(three for _, three in parts):
            op: ast.boolop = ast.Or() if deciding else ast.And()
            return ast.BoolOp(op=op, values=[e for e, _ in parts]), False
        temps: list[str] = []
        tests: list[ast.expr] = []  # for each operand, whether it decides
        for expr, three in parts:
            if three:
                t = self.fresh("t")
                temps.append(t)
                walrus = ast.NamedExpr(target=ast.Name(id=t, ctx=ast.Store()), value=expr)
                tests.append(_is(walrus, _const(deciding)))
            else:
                tests.append(expr if deciding else ast.UnaryOp(op=ast.Not(), operand=expr))
        # Reached only when no operand decided, so every temporary is set.
        unknown = ast.BoolOp(op=ast.Or(), values=[_is(_name(t), _const(None)) for t in temps])
        result: ast.expr = _if(unknown if len(temps) > 1 else unknown.values[0], _const(None), _const(not deciding))
        for test in reversed(tests):
            result = _if(test, _const(deciding), result)
        return result, True

    def compare(self, node: Compare) -> tuple[ast.expr, bool]:
        op = node.op
        left, right = node.left, node.right
        if isinstance(left, Path) and not isinstance(right, Path):
            value, maybe_unknown = self.path(left.path)
            expr = self.against_constant(op, value, self.value_of(right))
            three = op == "within"
            unknowns = [value] if maybe_unknown else []
        elif isinstance(left, Path) and isinstance(right, Path):
            a, ua = self.path(left.path)
            b, ub = self.path(right.path)
            expr = ast.Call(self.order(op), [a, b], [])
            three = op == "within"
            unknowns = [v for v, u in ((a, ua), (b, ub)) if u]
        elif isinstance(right, Path):
            value, maybe_unknown = self.path(right.path)
            expr = ast.Call(self.order(op), [self.constant(self.value_of(left)), value], [])
            three = op == "within"
            unknowns = [value] if maybe_unknown else []
        else:  # two constants: the checker normally refuses this
            return self.constant(_ORDER[op](self.value_of(left), self.value_of(right))), True
        if not unknowns:
            return expr, three
        test = ast.BoolOp(op=ast.Or(), values=[_is(v, _name("U")) for v in unknowns]) if len(unknowns) > 1 else None
        return _if(test if test is not None else _is(unknowns[0], _name("U")), _const(None), expr), True

    def against_constant(self, op: str, value: ast.expr, constant: Any) -> ast.expr:
        k = self.constant(constant)
        if op in _ORDER_AST:
            return ast.Compare(left=value, ops=[_ORDER_AST[op]], comparators=[k])
        if op == "overlaps":
            isdisjoint = ast.Attribute(value=value, attr="isdisjoint", ctx=ast.Load())
            return ast.UnaryOp(op=ast.Not(), operand=ast.Call(isdisjoint, [k], []))
        if op == "within":
            # An empty set proves nothing about where data came from: unknown (see compiler._ORDER).
            return _if(value, ast.Compare(left=value, ops=[ast.LtE()], comparators=[k]), _const(None))
        if op == "includes":
            if isinstance(constant, frozenset):
                return ast.Compare(left=value, ops=[ast.GtE()], comparators=[k])
            return ast.Compare(left=k, ops=[ast.In()], comparators=[value])
        raise TypeError(f"no operator {op!r}")  # pragma: no cover - the grammar has no other

    @staticmethod
    def value_of(node: Expr) -> Any:
        if isinstance(node, Value):
            return node.value
        if isinstance(node, (ValueSet, Group)):
            return node.values
        raise TypeError(f"cannot generate a value for {node!r}")  # pragma: no cover


def _in_force(builder: _Builder, effective: Effective) -> ast.expr:
    day = _name("day")
    tests: list[ast.expr] = []
    if effective.start is not None:
        tests.append(ast.Compare(left=builder.constant(effective.start), ops=[ast.LtE()], comparators=[day]))
    if effective.end is not None:
        tests.append(ast.Compare(left=day, ops=[ast.LtE()], comparators=[builder.constant(effective.end)]))
    if not tests:
        return _const(True)
    return tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests)


def _assign(name: str, value: ast.expr) -> ast.stmt:
    return ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value)


def _rule_statements(builder: _Builder, compiled: CompiledRulebook, variables: dict[str, str]) -> Iterator[ast.stmt]:
    """For each rule, exceptions first: f (in force), h (holds), a (applies)."""
    for rid in compiled.order:
        f, h, a = (builder.fresh(p) for p in ("f", "h", "a"))
        variables[rid] = f"{f},{h},{a}"
        yield _assign(f, _in_force(builder, compiled.book.rules[rid].effective))
        condition, _three = builder.condition(compiled.book.rules[rid].condition)
        yield _assign(h, _if(_name(f), condition, _const(False)))
        # Overridden when an exception applies; unknown when none does but one may.
        exception_applies = [_name(variables[e].split(",")[2]) for e in compiled.exceptions[rid]]
        if not exception_applies:
            overridden: ast.expr = _const(False)
        else:
            any_true = ast.BoolOp(op=ast.Or(), values=[_is(e, _const(True)) for e in exception_applies])
            any_unknown = ast.BoolOp(op=ast.Or(), values=[_is(e, _const(None)) for e in exception_applies])
            overridden = _if(
                any_true if len(exception_applies) > 1 else _is(exception_applies[0], _const(True)),
                _const(True),
                _if(
                    any_unknown if len(exception_applies) > 1 else _is(exception_applies[0], _const(None)),
                    _const(None),
                    _const(False),
                ),
            )
        o = builder.fresh("o")
        yield _assign(o, overridden)
        yield _assign(
            a,
            _if(
                ast.BoolOp(op=ast.Or(), values=[_is(_name(h), _const(False)), _is(_name(o), _const(True))]),
                _const(False),
                _if(
                    ast.BoolOp(op=ast.Or(), values=[_is(_name(h), _const(None)), _is(_name(o), _const(None))]),
                    _const(None),
                    _const(True),
                ),
            ),
        )


@attrs.frozen
class Generated:
    """A rule set's generated ``evaluate``, as data: kept with the rule book it was generated from (see
    :mod:`.persist`), so that a cold start neither builds nor compiles it again."""

    code: bytes
    """The compiled module, marshalled (for this Python version only: the cache key names it)."""
    constants: dict[str, Any]
    """Values from the rules the code reads by name (frozensets, dates, tuples)."""
    orders: dict[str, str]
    """Names the code calls as comparisons, by operator."""


def generate(
    compiled: CompiledRulebook, make_state: Callable[[bool, State, State], Any], *, partial: bool = False
) -> Evaluate:
    """The generated ``evaluate(env, day)``: a dict from rule id to ``make_state(in_force, holds, applies)``,
    in the order of the rule set. ``make_state`` is called once per distinct triple here, and the states are
    shared by every request. With ``partial``, for environments that may lack any path (see :class:`_Builder`)."""
    return load_generated(build(compiled, partial=partial), make_state)


def build(compiled: CompiledRulebook, *, partial: bool = False) -> Generated:
    """Generate and compile the rule set's ``evaluate``."""
    builder = _Builder(compiled, partial)
    variables: dict[str, str] = {}
    rule_lines = list(_rule_statements(builder, compiled, variables))
    reads: list[ast.stmt] = []
    for path, local in builder.paths.items():
        # A path that is always present is read by subscript: an environment without it raises KeyError.
        getter = (
            ast.Subscript(value=_name("env"), slice=_const(path), ctx=ast.Load())
            if path in builder.known
            else ast.Call(ast.Attribute(value=_name("env"), attr="get", ctx=ast.Load()), [_const(path), _name("U")], [])
        )
        reads.append(_assign(local, getter))
    # In the order the closure evaluator fills its dict (exceptions first), so that nothing downstream differs.
    result = ast.Dict(
        keys=[_const(rid) for rid in compiled.order],
        values=[
            ast.Subscript(
                value=_name("S"),
                slice=ast.Tuple(elts=[_name(v) for v in variables[rid].split(",")], ctx=ast.Load()),
                ctx=ast.Load(),
            )
            for rid in compiled.order
        ],
    )
    function = ast.FunctionDef(
        name="evaluate",
        args=ast.arguments(
            posonlyargs=[], args=[ast.arg("env"), ast.arg("day")], kwonlyargs=[], kw_defaults=[], defaults=[]
        ),
        body=[*reads, *rule_lines, ast.Return(result)],
        decorator_list=[],
        returns=None,
    )
    module = _located(ast.Module(body=[function], type_ignores=[]))
    code = compile(module, "<disclosure_rules rules>", "exec")
    return Generated(marshal.dumps(code), builder.constants, builder.orders)


def build_signature(compiled: CompiledRulebook, paths: Sequence[str]) -> Generated:
    """Generate and compile the rule set's ``signature(values)``: every rule's state, in the order of the rule
    set, as one flat tuple (in force, holds, applies of the first rule, then of the second...: what
    :func:`build`'s dict holds, its values laid end to end), on a request whose value at ``paths[i]`` is
    ``values[i]`` (``UNKNOWN`` where the request does not state it). ``paths`` includes ``date``, the day the
    rules' effective dates are read against.

    A caller that already holds a request's values in variables (a row read by column, see
    :mod:`disclosure_rules.decisions.rows`) decides it without building the environment's dict, and the
    tuple is what the verdicts are remembered by. ``paths`` must hold every path the rules read."""
    builder = _Builder(compiled)
    for path in [*paths, "date"]:
        builder.path(path)
    variables: dict[str, str] = {}
    rule_lines = list(_rule_statements(builder, compiled, variables))
    unread = set(builder.paths) - set(paths)
    if unread:
        raise ValueError(f"a signature must be given every path the rules read; missing {sorted(unread)}")
    # Flat: three values a rule, no tuple made per rule.
    result = ast.Tuple(elts=[_name(v) for rid in compiled.order for v in variables[rid].split(",")], ctx=ast.Load())
    # One tuple in, unpacked at once: a call with one argument, not one per path.
    unpack = ast.Assign(
        targets=[ast.Tuple(elts=[ast.Name(id=builder.paths[p], ctx=ast.Store()) for p in paths], ctx=ast.Store())],
        value=_name("values"),
    )
    day = _assign("day", _name(builder.paths["date"]))
    function = ast.FunctionDef(
        name="evaluate",
        args=ast.arguments(posonlyargs=[], args=[ast.arg("values")], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=[unpack, day, *rule_lines, ast.Return(result)],
        decorator_list=[],
        returns=None,
    )
    module = _located(ast.Module(body=[function], type_ignores=[]))
    code = compile(module, "<disclosure_rules signature>", "exec")
    return Generated(marshal.dumps(code), builder.constants, builder.orders)


def load_generated(generated: Generated, make_state: Callable[[bool, State, State], Any]) -> Evaluate:
    """The ``evaluate`` function of ``generated``, its states made by ``make_state``."""
    namespace: dict[str, Any] = dict(generated.constants)
    namespace.update({name: _ORDER[op] for name, op in generated.orders.items()})
    namespace.update(U=UNKNOWN, bool=bool, S={triple: make_state(*triple) for triple in _triples()})
    namespace["__builtins__"] = {}  # only `bool`, bound above, is reachable
    exec(marshal.loads(generated.code), namespace)
    evaluate: Evaluate = namespace["evaluate"]
    return evaluate


def _located(module: ast.Module) -> ast.Module:
    """Every node at line 1: what ``compile`` needs, at a third of the cost of ``ast.fix_missing_locations``
    (which copies each parent's position down), part of every cold start."""
    stack: list[ast.AST] = [module]
    while stack:
        node = stack.pop()
        if "lineno" in node._attributes:
            node.lineno = node.end_lineno = 1  # type: ignore[attr-defined]
            node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]
        for name in node._fields:
            child = getattr(node, name, None)
            if isinstance(child, ast.AST):
                stack.append(child)
            elif isinstance(child, list):
                stack.extend(c for c in child if isinstance(c, ast.AST))
    return module


def _triples() -> list[StateTuple]:
    values: tuple[State, ...] = (True, False, None)
    return [(f, h, a) for f in (True, False) for h in values for a in values]
