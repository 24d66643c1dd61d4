"""The evaluator, used as a black box on partial requests.

The analysis never re-implements the semantics: it asks :func:`~disclosure_rules.evaluator.decide` and
reads the verdict and each rule's state. What it adds is bookkeeping: which paths each rule reads (from the
compiler), and whether a rule whose state is unknown is unknown only because the search has not chosen
some path yet (then the search splits) or because the request itself leaves a fact out (then the state is
the answer).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..checker import Rules
from ..evaluator import Verdict, decide
from ..model import Rule
from .domain import ABSENT, Assignment, Space

Outcome = tuple[str, str, str | None, tuple[str, ...]]
"""What a diff compares: decision, status, controlling rule, and the obligations that come with it."""


@attrs.frozen
class EvaluationFailed(Exception):
    """The evaluator raised on a request: a never-errors finding, with the assignment that caused it."""

    assignment: Mapping[str, Any]
    error: str


class Oracle:
    """One rule book's evaluator, with what each rule reads."""

    def __init__(self, rules: Rules, space: Space | None = None) -> None:
        self.rules = rules
        self.compiled = rules.compiled
        self.book = rules.book
        self.space = space or Space(rules)
        self.reads: dict[str, tuple[str, ...]] = {
            rid: tuple(sorted(compiled.reads.paths | {"date"})) for rid, compiled in self.compiled.rules.items()
        }
        self.exceptions = self.compiled.exceptions

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.book.rules)

    def rule(self, rid: str) -> Rule:
        return self.book.rules[rid]

    # -- evaluation ------------------------------------------------------------------------

    def verdict(self, assignment: Assignment, day: datetime.date | None = None) -> Verdict:
        env = env_of(assignment)
        when = day if day is not None else assignment["date"]
        env["date"] = when
        try:
            return decide(self.compiled, env, when)
        except Exception as exc:
            raise EvaluationFailed(dict(assignment), f"{type(exc).__name__}: {exc}") from exc

    def outcome(self, verdict: Verdict) -> Outcome:
        obligations = self.rule(verdict.rule).obligations if verdict.rule and verdict.decision == "permit" else ()
        return (verdict.decision, verdict.status, verdict.rule, tuple(obligations))

    # -- bookkeeping -----------------------------------------------------------------------

    def closure(self, rid: str) -> tuple[str, ...]:
        """``rid`` and every rule that is an exception to it, to an exception of it, and so on."""
        out: list[str] = []
        pending = [rid]
        while pending:
            current = pending.pop()
            if current in out:
                continue
            out.append(current)
            pending.extend(self.exceptions.get(current, ()))
        return tuple(out)

    def related(self, a: str, b: str) -> bool:
        """Whether one rule is an exception (at any depth) to the other."""
        return b in self.closure(a) or a in self.closure(b)

    def open_rules(self, verdict: Verdict, assignment: Assignment, among: Iterable[str]) -> list[str]:
        """The rules of ``among`` whose state the search has yet to settle: unknown, and reading a path
        not yet chosen. (A rule unknown only because the request leaves a fact out is settled.)"""
        out = []
        for rid in among:
            if verdict.states[rid].holds is None and any(p not in assignment for p in self.reads[rid]):
                out.append(rid)
        return out

    def paths_of(self, rule_ids: Iterable[str]) -> list[str]:
        """The paths ``rule_ids`` read, one entry per rule that reads each (so a count says how many)."""
        return [p for rid in rule_ids for p in self.reads[rid]]

    def settled(self, verdict: Verdict, assignment: Assignment) -> bool:
        return not self.open_rules(verdict, assignment, self.ids)


def env_of(assignment: Assignment) -> dict[str, Any]:
    """The environment the evaluator reads: every chosen path but those left out."""
    return {p: v for p, v in assignment.items() if v is not ABSENT}
