"""The request reader's quick path: one generated function that reads a plainly valid request.

:class:`~disclosure_rules.intake.request.RequestReader` walks the vocabulary generically, to say exactly what is
wrong with a request and where. On a new case of a batch most requests are valid, and that walk is a fifth of
the cost of deciding them. This module generates, from the *checked vocabulary*, a function that builds the
same environment for a request in which nothing is out of the ordinary, and returns ``None`` at the first
thing that is (an undeclared key, a value of another type or outside its enumeration, a list too long, a
chain of hops, which provenance reads): the caller then reads the request the full way, which reports it.
So the quick path never decides what is valid; it only recognises what plainly is.
``tests/test_requestgen.py`` checks, on generated and hostile requests, that it returns the reader's own
environment or ``None``.

Safety: the function is Python source built from the vocabulary before any request is read, and run as
:mod:`.pysource` runs the case keys: names from the vocabulary enter it only as ``repr`` string constants, the
generated identifiers are the module's own (``v1``, ``g2``), and no builtin but :data:`.pysource.BUILTINS` is
reachable from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..rulebook.vocabulary import HOPS, RECEIVED_UNDER, Slot, Vocabulary, fact_tree
from .pysource import Source
from .request import (
    EMPTY,
    MAX_SET_ITEMS,
    MAX_TEXT_CHARS,
    REQUEST_ID,
    is_request_id,
    parse_date,
    request_keys,
)

QuickRead = Callable[[object], "dict[str, Any] | None"]


def build_quick_reader(vocabulary: Vocabulary, shared_set: Callable[[frozenset[Any]], frozenset[Any]]) -> QuickRead:
    """The environment of a plainly valid request, or None (see the module's docstring). ``shared_set`` is
    the reader's, so that both paths keep one object per distinct set."""
    src = Source()
    shared = src.const(shared_set, "SHARED")
    src.emit(0, "def quick_read(r):")
    _request_guards(src, vocabulary)
    src.emit(1, "env = {}")
    _request_values(src, vocabulary, shared)
    _complete(src, vocabulary)
    src.emit(1, "return env")
    return _guarded(src.run("<disclosure_rules quick reader>"), "quick_read")


def build_values_reader(
    vocabulary: Vocabulary,
    shared_set: Callable[[frozenset[Any]], frozenset[Any]],
    paths: Sequence[str],
    unknown: object,
) -> Callable[[object], tuple[Any, ...] | None]:
    """The values at ``paths`` of a plainly valid request, as one tuple in that order (``unknown`` where it
    states nothing and the vocabulary gives no default; a chain projection's empty set, as a request without a
    chain has), or None wherever :func:`build_quick_reader` returns None. What a generated decider reads a
    new case by without building its environment's dict (see :mod:`disclosure_rules.decisions.rows`).

    Every value is checked as the quick reader checks it, those not at ``paths`` included."""
    src = Source()
    shared = src.const(shared_set, "SHARED")
    local = {path: src.var("a") for path in paths}
    # Two facts that agree are read whether wanted or not, from unknown, to tell a stated value from a
    # presumed one: stated differently, the request is the full reader's to refuse (see Slot.agrees_with).
    pairs = [(s.path, str(s.agrees_with)) for s in agreeing(vocabulary)]
    presumed = {p for pair in pairs for p in pair}
    for path in sorted(presumed):
        local.setdefault(path, src.var("a"))
    tied = [s for s in vocabulary.tied_facts() if s.path in local]
    for tied_slot in tied:  # its tie reads the set too, wanted or not (see Slot.default_when)
        assert tied_slot.default_when is not None
        local.setdefault(tied_slot.default_when[0], src.var("a"))

    def store(path: str, expression: str) -> str:
        return f"{local[path]} = {expression}" if path in local else f"{expression}"

    src.emit(0, "def read_values(r):")
    _request_guards(src, vocabulary)
    for path, name in local.items():
        slot = vocabulary.slot(path)
        if path in vocabulary.chain_projections:
            start = src.const(EMPTY, "EMPTY")  # no chain: every projection is empty (received_under too)
        elif slot is not None and slot.default is not None and slot.default_when is None and path not in presumed:
            start = src.const(slot.default, "D")
        else:
            start = src.const(unknown, "U")
        src.emit(1, f"{name} = {start}")
    _request_values(src, vocabulary, shared, store)
    u = src.const(unknown, "U")
    for mine, theirs in pairs:
        a, b = local[mine], local[theirs]
        src.emit(1, f"if {a} is not {u} and {b} is not {u} and {a} != {b}: return None")
    for path in sorted(presumed):
        slot = vocabulary.facts[path]
        if slot.default is not None:
            src.emit(1, f"if {local[path]} is {u}: {local[path]} = {src.const(slot.default, 'D')}")
    for tied_slot in tied:
        assert tied_slot.default_when is not None
        where, member = tied_slot.default_when
        mine, default = local[tied_slot.path], src.const(tied_slot.default, "D")
        src.emit(1, f"if {local[where]} is not {u}:")
        src.emit(2, f"if {member!r} not in {local[where]}: {mine} = {src.const(not tied_slot.default, 'D')}")
        src.emit(2, f"elif {mine} is {u}: {mine} = {default}")
    src.emit(1, f"return ({', '.join(local[p] for p in paths)},)")
    namespace = src.run("<disclosure_rules values reader>")
    inner = namespace["read_values"]

    def read(request: object) -> tuple[Any, ...] | None:
        try:
            values: tuple[Any, ...] | None = inner(request)
            return values
        except Exception:  # anything odd (a huge integer, an unhashable item): the full reader says what
            return None

    return read


def build_record_reader(
    vocabulary: Vocabulary, columns: Mapping[str, str], shared_set: Callable[[frozenset[Any]], frozenset[Any]]
) -> QuickRead:
    """The environment of a flat record (see :mod:`disclosure_rules.records`) in which nothing is out of the
    ordinary, or None: the quick path for rows, read by column without nesting them into a request first.

    A row means the request made by putting each column's value at its path, so its environment is the
    reader's environment of that request; this function builds it where :func:`build_quick_reader` would, and
    returns None wherever that would (a column the mapping does not name, a value of another type or outside
    its enumeration, a chain). ``columns`` must be a checked mapping: every required field has a column.
    """
    src = Source()
    shared = src.const(shared_set, "SHARED")
    src.emit(0, "def record_read(r):")
    src.emit(1, "if r.__class__ is not dict: return None")
    src.emit(1, f"if not {src.const(frozenset(columns), 'COLUMNS')}.issuperset(r): return None")
    src.emit(1, "env = {}")
    for column, path in columns.items():
        var = src.var()
        src.emit(1, f"{var} = r.get({column!r})")
        if path == REQUEST_ID:
            src.emit(1, f"if not {src.const(is_request_id, 'IS_ID')}({var}): return None")
            continue
        slot = vocabulary.slot(path)
        if slot is None:  # the chain: provenance reads it, which is the full reader's work
            src.emit(1, f"if {var} is not None: return None")
            continue
        _present(src, slot, var, path, shared, vocabulary)
    _complete(src, vocabulary)
    src.emit(1, "return env")
    return _guarded(src.run("<disclosure_rules record reader>"), "record_read")


Store = Callable[[str, str], str]
"""The statement that keeps a value read: ``store(path, expression)``."""


def _into_env(path: str, expression: str) -> str:
    return f"env[{path!r}] = {expression}"


def _request_guards(src: Source, vocabulary: Vocabulary) -> None:
    """What makes a request plainly not one to read quickly: not an object, an undeclared key, a chain (which
    provenance reads, the full reader's work), an id validation refuses."""
    src.emit(1, "if r.__class__ is not dict: return None")
    src.emit(1, f"if not {src.const(frozenset(request_keys(vocabulary)), 'TOP')}.issuperset(r): return None")
    src.emit(1, f"if {'chain'!r} in r and r[{'chain'!r}] is not None: return None")
    src.emit(1, f"if not {src.const(is_request_id, 'IS_ID')}(r.get({REQUEST_ID!r})): return None")


def _request_values(src: Source, vocabulary: Vocabulary, shared: str, store: Store = _into_env) -> None:
    """Each field, then each fact of the nested ``facts`` object, checked and kept by ``store``."""
    for name, slot in vocabulary.fields.items():
        var = src.var()
        src.emit(1, f"{var} = r.get({name!r})")
        _present(src, slot, var, name, shared, vocabulary, store)
    facts = src.var("g")
    src.emit(1, f"{facts} = r.get('facts')")
    src.emit(1, f"if {facts} is not None:")
    _group(src, fact_tree(vocabulary.facts), facts, 2, shared, vocabulary, store)


def _present(
    src: Source, slot: Slot, var: str, path: str, shared: str, vocabulary: Vocabulary, store: Store = _into_env
) -> None:
    """A top-level value read into ``var``: a required one must be there (a null is absent), an optional
    one is read if it is."""
    if slot.required:
        src.emit(1, f"if {var} is None: return None")
        emit_value(src, slot, var, 1, path, shared, vocabulary, store)
    else:
        src.emit(1, f"if {var} is not None:")
        emit_value(src, slot, var, 2, path, shared, vocabulary, store)


def _complete(src: Source, vocabulary: Vocabulary) -> None:
    """What the reader adds to every environment: the facts' defaults, and no chain. A request stating two
    facts that agree (see Slot.agrees_with) differently is the full reader's to refuse."""
    for slot in agreeing(vocabulary):
        mine, theirs = slot.path, slot.agrees_with
        src.emit(1, f"if {mine!r} in env and {theirs!r} in env and env[{mine!r}] != env[{theirs!r}]: return None")
    for path, slot in vocabulary.facts.items():
        if slot.default is not None and slot.default_when is None:
            src.emit(1, f"if {path!r} not in env: env[{path!r}] = {src.const(slot.default, 'D')}")
    for slot in vocabulary.tied_facts():  # see Slot.default_when
        assert slot.default_when is not None
        (where, member), path, w = slot.default_when, slot.path, src.var("w")
        src.emit(1, f"{w} = env.get({where!r})")
        src.emit(1, f"if {w} is not None:")
        src.emit(2, f"if {member!r} not in {w}: env[{path!r}] = {src.const(not slot.default, 'D')}")
        src.emit(2, f"elif {path!r} not in env: env[{path!r}] = {src.const(slot.default, 'D')}")
    for path in vocabulary.chain_projections:
        if path != RECEIVED_UNDER:
            src.emit(1, f"env[{path!r}] = {src.const(EMPTY, 'EMPTY')}")
    src.emit(1, f"env[{HOPS!r}] = ()")


def agreeing(vocabulary: Vocabulary) -> list[Slot]:
    """The facts that agree with another (see Slot.agrees_with)."""
    return [s for s in vocabulary.facts.values() if s.agrees_with is not None]


def _guarded(namespace: dict[str, Any], name: str) -> QuickRead:
    """The generated function ``name``, returning None where it raises."""
    inner: QuickRead = namespace[name]

    def read(request: object) -> dict[str, Any] | None:
        try:
            return inner(request)
        except Exception:  # anything odd (a huge integer, an unhashable item): the full reader says what
            return None

    read.__source__ = namespace["__source__"]  # type: ignore[attr-defined]  # for reading, when debugging
    return read


def _group(
    src: Source,
    tree: Mapping[str, Any],
    var: str,
    indent: int,
    shared: str,
    vocabulary: Vocabulary,
    store: Store = _into_env,
) -> None:
    """A nested ``facts`` object: a dict with declared keys only, each child read if it is not null."""
    src.emit(indent, f"if {var}.__class__ is not dict: return None")
    src.emit(indent, f"if not {src.const(frozenset(tree), 'KEYS')}.issuperset({var}): return None")
    for key, child in tree.items():
        item = src.var("g" if isinstance(child, dict) else "v")
        src.emit(indent, f"{item} = {var}.get({key!r})")
        src.emit(indent, f"if {item} is not None:")
        if isinstance(child, dict):
            _group(src, child, item, indent + 1, shared, vocabulary, store)
        else:
            emit_value(src, child, item, indent + 1, child.path, shared, vocabulary, store)


def emit_value(
    src: Source,
    slot: Slot,
    var: str,
    indent: int,
    path: str,
    shared: str,
    vocabulary: Vocabulary,
    store: Store = _into_env,
    fail: str = "return None",
) -> None:
    """Keep ``var`` at ``path`` (by ``store``: in ``env``, by default) if it is plainly a valid value of
    ``slot``; else run ``fail`` (return None, by default). Also what the row deciders check a column by (see
    :mod:`disclosure_rules.decisions.rows`)."""
    type_ = slot.type
    kind = type_.kind
    if kind == "enum":
        assert type_.enum is not None
        values = src.const(frozenset(vocabulary.enums[type_.enum].values), "VALUES")
        src.emit(indent, f"if {var}.__class__ is not str or {var} not in {values}: {fail}")
        src.emit(indent, store(path, var))
    elif kind == "set":
        assert type_.enum is not None
        values = src.const(frozenset(vocabulary.enums[type_.enum].values), "VALUES")
        items = src.var("items")
        src.emit(indent, f"if {var}.__class__ is str: {items} = ({var},)")
        src.emit(indent, f"elif {var}.__class__ is list: {items} = {var}")
        src.emit(indent, f"else: {fail}")
        smallest = 1 if slot.nonempty else 0
        src.emit(indent, f"if not {smallest} <= len({items}) <= {MAX_SET_ITEMS}: {fail}")
        src.emit(indent, f"for x in {items}:")
        src.emit(indent + 1, f"if x.__class__ is not str or x not in {values}: {fail}")
        src.emit(indent, store(path, f"{shared}(frozenset({items}))"))
    elif kind == "bool":
        src.emit(indent, f"if {var} is not True and {var} is not False: {fail}")
        src.emit(indent, store(path, var))
    elif kind == "number":
        finite = src.const(math.isfinite, "FINITE")
        src.emit(indent, f"if ({var}.__class__ is not int and {var}.__class__ is not float) or not {finite}({var}):")
        src.emit(indent + 1, fail)
        src.emit(indent, store(path, var))
    elif kind == "date":
        day = src.var("day")
        src.emit(indent, f"{day} = {src.const(parse_date, 'DATE')}({var})")
        src.emit(indent, f"if {day} is None: {fail}")
        src.emit(indent, store(path, day))
    elif kind == "text":
        src.emit(indent, f"if {var}.__class__ is not str or len({var}) > {MAX_TEXT_CHARS}: {fail}")
        src.emit(indent, store(path, var))
    else:  # a kind this module does not know: never the quick path
        src.emit(indent, fail)


__all__ = ["QuickRead", "build_quick_reader", "build_record_reader", "build_values_reader", "emit_value"]
