"""Condition trees: frozen data, no behaviour.

The grammar builds the *parsed* nodes (:class:`Name`, :class:`Literal`,
:class:`ListLiteral` and the operators); the type checker replaces names and
literals with *checked* nodes that know their type and what they refer to
(:class:`Path`, :class:`Group`, :class:`Ref`, :class:`Value`, :class:`ValueSet`).
The compiler, the English phraser and the documentation only ever see checked
trees. Every node keeps its ``span`` (start and end offsets in the condition
text) for error messages; spans do not take part in equality, so tests can
compare trees built by hand with parsed ones.
"""

from __future__ import annotations

import datetime

import attrs

from .valuetypes import Type

Span = tuple[int, int]
LiteralValue = str | int | bool | datetime.date

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
MEMBERSHIP = ("in", "not in")
SET_TESTS = ("overlaps", "within", "includes")
OPERATORS = COMPARISONS + MEMBERSHIP + SET_TESTS


def _span() -> Span:
    return attrs.field(default=(0, 0), eq=False, repr=False)  # type: ignore[no-any-return]


# -- parsed -------------------------------------------------------------------------------


@attrs.frozen
class Name:
    """A name or dotted path as written: ``holder``, ``facts.request.signed_by``, ``tax_sources``."""

    parts: tuple[str, ...]
    span: Span = _span()

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@attrs.frozen
class Literal:
    """A literal as written; a string's type is decided by what it is compared with."""

    value: LiteralValue
    span: Span = _span()


@attrs.frozen
class ListLiteral:
    items: tuple[Literal, ...]
    span: Span = _span()


# -- checked ------------------------------------------------------------------------------


@attrs.frozen
class Path:
    """A value read from the request: a field, a fact, or a projection of the chain."""

    path: str
    type: Type
    span: Span = _span()


@attrs.frozen
class Group:
    """A named group of enumeration values declared in the vocabulary, e.g. ``tax_sources``."""

    name: str
    values: frozenset[str]
    type: Type
    span: Span = _span()


@attrs.frozen
class Ref:
    """A reference to a named definition (a derived condition)."""

    name: str
    span: Span = _span()


@attrs.frozen
class Value:
    value: LiteralValue
    type: Type
    span: Span = _span()


@attrs.frozen
class ValueSet:
    values: frozenset[str]
    type: Type
    span: Span = _span()


# -- operators (shared by parsed and checked trees) ---------------------------------------


@attrs.frozen
class Compare:
    """A binary test: one of :data:`OPERATORS`."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class And:
    operands: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen
class Or:
    operands: tuple[Expr, ...]
    span: Span = _span()


Expr = Name | Literal | ListLiteral | Path | Group | Ref | Value | ValueSet | Compare | Not | And | Or
