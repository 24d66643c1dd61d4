"""The decision: a frozen value that says permit or deny, why, and under which law.

A :class:`Decision` never holds request-specific data beyond what the rules
read, so one decision can be shared by every request of the same case.
Rendering it (text, JSON) lives in :mod:`disclosure_rules.render`.
"""

from __future__ import annotations

from typing import Literal

import attrs

from .diagnostics import Diagnostic
from .model import Obligation, RulebookInfo

Outcome = Literal["permit", "deny"]
Status = Literal["permitted", "prohibited", "no_authority", "indeterminate", "error"]
STATUSES: tuple[str, ...] = ("permitted", "prohibited", "no_authority", "indeterminate", "error")


@attrs.frozen
class Link:
    """One step of the exception path from the general rule down to the controlling rule."""

    rule: str
    kind: str
    citation: str
    title: str


@attrs.frozen
class Failure:
    """A requirement of a rule that the request does not meet (or does not show)."""

    condition: str
    requirement: str
    observed: str

    @property
    def text(self) -> str:
        return f"{self.requirement}; {self.observed}" if self.observed else self.requirement


@attrs.frozen
class Missing:
    """A route that nearly authorized the disclosure, and what it lacked."""

    rule: str
    title: str
    citation: str
    failed: tuple[Failure, ...]


@attrs.frozen
class HopCheck:
    """One earlier disclosure of the data, decided as a disclosure on its own date (see ``provenance``)."""

    holder: str
    recipient: str
    route: str
    date: str
    decision: Outcome
    status: Status
    rule: str | None
    reason: str


TraceResult = Literal["applies", "not_met", "overridden", "not_in_force", "unknown"]


@attrs.frozen
class TraceEntry:
    """What happened to one rule: it applied, or why not."""

    rule: str
    kind: str
    citation: str
    result: TraceResult
    detail: str


@attrs.frozen
class Decision:
    decision: Outcome
    status: Status
    reason: str
    rule: str | None
    citations: tuple[str, ...]
    chain: tuple[Link, ...]
    obligations: tuple[Obligation, ...]
    missing: tuple[Missing, ...]
    unknown_facts: tuple[str, ...]
    conflicts: tuple[str, ...]
    trace: tuple[TraceEntry, ...]
    ruleset: RulebookInfo | None
    errors: tuple[Diagnostic, ...] = ()
    provenance: tuple[HopCheck, ...] = ()
    """How the holder received the data: the hop into it, decided by the rules, then the hops before it."""

    @property
    def permitted(self) -> bool:
        return self.decision == "permit"

    def __bool__(self) -> bool:
        # A decision is truthy only when it permits, so `if rules.check(r):` fails closed.
        return self.decision == "permit"
