"""Rule sets as frozen values: what the loader produces and everything else reads.

A :class:`Rulebook` is the loaded whole: one vocabulary, the rule sets, and
indexes across them (rules by id, the exceptions each rule has). Conditions
in it are already parsed and type-checked (:mod:`~disclosure_rules.language.ast`
checked nodes). Positions are kept for messages and docs but never take part
in equality.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Literal

import attrs

from ..diagnostics import Position
from ..language.ast import Expr
from ..language.template import Template
from .vocabulary import Vocabulary

Kind = Literal["permit", "forbid"]
Confidence = Literal["high", "medium", "low"]
CONFIDENCE_LEVELS: tuple[str, ...] = ("high", "medium", "low")


def _pos() -> Position | None:
    return attrs.field(default=None, eq=False, repr=False)  # type: ignore[no-any-return]


@attrs.frozen
class Note:
    text: str
    source: str | None = None
    confidence: Confidence | None = None


@attrs.frozen
class Clause:
    """One clause of the law a rule encodes, quoted with its pinpoint citation (literate law, issue 14).

    ``encodes`` names the parts of the rule's condition that carry the clause (each the canonical text of a
    top-level ``when`` item, a definition name among them); ``not_modelled`` says why the clause, or the part of
    it the condition does not carry, is left out and what the rules do instead. A clause with neither is a gap
    that ``disclosure-rules validate`` reports.
    """

    cite: str
    text: str
    encodes: tuple[str, ...] = ()
    not_modelled: str | None = None
    confidence: Confidence | None = None
    position: Position | None = _pos()


@attrs.frozen
class Effective:
    """The window in which a rule is in force; both ends are inclusive, ``None`` is open."""

    start: datetime.date | None = None
    end: datetime.date | None = None

    def covers(self, day: datetime.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    @property
    def always(self) -> bool:
        return self.start is None and self.end is None

    def describe(self) -> str:
        """The window in words: "from 2025-11-21", "from A through B", "through B" or "always"."""
        if self.start and self.end:
            return f"from {self.start} through {self.end}"
        if self.start:
            return f"from {self.start}"
        if self.end:
            return f"through {self.end}"
        return "always"


@attrs.frozen
class Obligation:
    """A duty that comes with a permit (an accounting, safeguards, a use limit...)."""

    id: str
    text: str
    citation: str
    ruleset: str
    position: Position | None = _pos()


@attrs.frozen
class Definition:
    """A named derived condition, usable by name in rules and other definitions."""

    name: str
    label: str
    condition: Expr
    source: str
    ruleset: str
    must: str | None = None
    negated: str | None = None
    citation: str | None = None
    notes: tuple[Note, ...] = ()
    position: Position | None = _pos()
    statute: tuple[Clause, ...] = ()


# -- analysis: declared intended findings (docs/analysis.md) ----------------------------------
ANALYSIS_CHECKS: tuple[str, ...] = ("reach", "conflict", "vacuous", "unknowns", "errors")


@attrs.frozen
class Intended:
    """A finding of ``disclosure-rules analyze`` that the rule's author declares intended, and why."""

    check: str
    why: str
    others: tuple[str, ...] = ()
    """For a conflict: the other rules, any one of which the finding may name (``with:`` in the rule file:
    one rule or a list); none: any other rule."""
    path: str | None = None
    """For ``vacuous`` or ``unknowns``: the path concerned; for ``reach``: a condition part, as written."""


# -- end analysis ---------------------------------------------------------------------------


@attrs.frozen
class Rule:
    id: str
    title: str
    kind: Kind
    citation: str
    condition: Expr
    source: str
    ruleset: str
    reason: Template
    exception_to: tuple[str, ...] = ()
    effective: Effective = Effective()
    obligations: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    position: Position | None = _pos()
    grants: str | None = None
    """For a permit, the legal route (a value of the chain hop's ``route``) a disclosure it permits is made
    under: how a later hop of the data is told to have been lawful (see :mod:`~disclosure_rules.engine.provenance`)."""
    statute: tuple[Clause, ...] = ()
    """The law the rule encodes, clause by clause, each mapped to the parts of the condition that carry it."""
    intended: tuple[Intended, ...] = ()


@attrs.frozen
class RuleSet:
    name: str
    title: str
    source: str
    file: str
    rules: tuple[str, ...]
    definitions: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()
    description: str | None = None
    url: str | None = None


@attrs.frozen
class RulebookInfo:
    """Which rule files decided: their rule-set names and one content hash over all files."""

    names: tuple[str, ...]
    hash: str


@attrs.frozen(eq=False)
class Rulebook:
    vocabulary: Vocabulary
    rulesets: tuple[RuleSet, ...]
    rules: Mapping[str, Rule]
    definitions: Mapping[str, Definition]
    obligations: Mapping[str, Obligation]
    info: RulebookInfo

    def exceptions_of(self, rule_id: str) -> tuple[str, ...]:
        """The rules that are exceptions to ``rule_id`` (that override it when they apply)."""
        return tuple(r.id for r in self.rules.values() if rule_id in r.exception_to)
