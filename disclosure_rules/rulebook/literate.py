"""Literate law: each rule beside the clauses of the law it encodes, and the check that the two match.

A rule's ``statute:`` quotes the operative text it encodes, clause by clause. Each clause names the parts
of the condition that carry it (``encodes``) or says why it is not modelled (``not_modelled``). A *unit* of a
condition is one of its top-level conjuncts: each item of a ``when`` list, or each operand of a top-level
``and``; a definition used as a whole is one unit. :func:`check` finds the two kinds of gap that let a wrong
permit through unseen: a clause of the law that nothing in the condition carries and no note explains, and a
part of the condition that no clause of the law stands behind.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from ..diagnostics import Position
from ..language.ast import And, Expr
from ..language.unparse import unparse
from .model import Clause, Rulebook


def units(condition: Expr) -> tuple[Expr, ...]:
    """The top-level conjuncts of a condition, in order; a definition is not opened (it is one unit)."""
    if isinstance(condition, And):
        return tuple(u for operand in condition.operands for u in units(operand))
    return (condition,)


def unit_texts(condition: Expr) -> tuple[str, ...]:
    """Each unit as canonical condition text: what a clause's ``encodes`` entries are matched against."""
    return tuple(unparse(u) for u in units(condition))


@attrs.frozen
class Finding:
    """A gap between the law and a rule: a clause nothing encodes, or condition with no law behind it."""

    code: str
    """``no_statute``, ``unmapped_clause`` or ``unmapped_condition``."""
    subject: str
    """The rule id, or ``definition <name>``."""
    message: str
    position: Position | None = None

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position else ""
        return f"{where}{self.code}: {self.subject}: {self.message}"


def _check_one(
    subject: str, condition: Expr, statute: tuple[Clause, ...], position: Position | None, required: bool
) -> list[Finding]:
    found: list[Finding] = []
    if not statute:
        if required:
            found.append(
                Finding(
                    "no_statute",
                    subject,
                    "quotes no law: give `statute:` with the clauses it encodes",
                    position,
                )
            )
        return found
    for clause in statute:
        if not clause.encodes and clause.not_modelled is None:
            found.append(
                Finding(
                    "unmapped_clause",
                    subject,
                    f"the clause of {clause.cite} “{_short(clause.text)}” is encoded by no part of the condition "
                    "and has no `not_modelled` note",
                    clause.position or position,
                )
            )
    encoded = {text for clause in statute for text in clause.encodes}
    for text in unit_texts(condition):
        if text not in encoded:
            found.append(
                Finding(
                    "unmapped_condition",
                    subject,
                    f"the condition part `{text}` encodes no clause of the law: "
                    "name it in a clause's `encodes`, or remove it",
                    position,
                )
            )
    return found


def _short(text: str, limit: int = 80) -> str:
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def check(book: Rulebook) -> list[Finding]:
    """Every gap between the rules and the law they quote, rules first (in declaration order), then definitions.

    Every rule must quote its law; a definition may (its clauses are then checked the same way), and a
    definition without a ``statute:`` is covered by the clauses of the rules that use it.
    """
    found: list[Finding] = []
    for rid, rule in book.rules.items():
        found += _check_one(rid, rule.condition, rule.statute, rule.position, required=True)
    for name, definition in book.definitions.items():
        found += _check_one(
            f"definition {name}", definition.condition, definition.statute, definition.position, required=False
        )
    return found


def clauses_encoding(statute: tuple[Clause, ...]) -> Mapping[str, tuple[int, ...]]:
    """For each unit text, the indexes of the clauses that encode it."""
    out: dict[str, list[int]] = {}
    for i, clause in enumerate(statute):
        for text in clause.encodes:
            out.setdefault(text, []).append(i)
    return {k: tuple(v) for k, v in out.items()}


__all__ = ["Finding", "check", "clauses_encoding", "unit_texts", "units"]
