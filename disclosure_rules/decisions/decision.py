"""The decision: a frozen value that says permit or deny, why, and under which law.

A :class:`Decision` never holds request-specific data beyond what the rules
read, so one decision can be shared by every request of the same case (the
request's own ``id`` is attached per request, on a copy that shares the rest).
Rendering it (text, JSON) lives in :mod:`disclosure_rules.render`.

Decide first, explain on demand: the outcome, status, controlling rule, reason,
citations and obligations are computed when the request is decided; the
exception ``chain``, the near-miss routes (``missing``), the ``trace`` and the
``provenance`` are built from the verdict already reached the first time any of
them is read, and then kept. A reader cannot tell the difference: equality,
``repr`` and every renderer see the same values either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Literal

import attrs

from ..diagnostics import Diagnostic
from ..rulebook.model import Obligation, RulebookInfo

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


RequestId = str | int | float | bool | None
"""A request's own identifier, as the caller gave it: any JSON scalar. It is echoed, never decided on."""


class Explanation:
    """The parts of a decision that are built only when read. The trace, which says of every rule why it
    did or did not apply, is built only when it is read itself: a decision document without a trace (the
    default) never pays for it."""

    __slots__ = ("_make_trace", "_trace", "chain", "missing", "provenance")

    def __init__(
        self,
        chain: tuple[Link, ...] = (),
        missing: tuple[Missing, ...] = (),
        trace: tuple[TraceEntry, ...] | Callable[[], tuple[TraceEntry, ...]] = (),
        provenance: tuple[HopCheck, ...] = (),
    ) -> None:
        self.chain = chain
        self.missing = missing
        self.provenance = provenance
        """How the holder received the data: the hop into it, decided by the rules, then the hops before it."""
        self._trace: tuple[TraceEntry, ...] | None = trace if isinstance(trace, tuple) else None
        self._make_trace = None if isinstance(trace, tuple) else trace

    @property
    def trace(self) -> tuple[TraceEntry, ...]:
        trace = self._trace
        if trace is None:
            make = self._make_trace
            assert make is not None
            # Two threads may both build it; they build equal values, and either may be kept.
            trace = self._trace = make()
            self._make_trace = None
        return trace

    def _values(self) -> tuple[object, ...]:
        return (self.chain, self.missing, self.trace, self.provenance)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Explanation):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return (
            f"Explanation(chain={self.chain!r}, missing={self.missing!r}, trace={self.trace!r}, "
            f"provenance={self.provenance!r})"
        )


_BUILDING = threading.RLock()
"""Held while a :class:`Deferred` explanation is built and what built it is dropped."""


class Deferred:
    """An :class:`Explanation`, built by ``make`` on first use and kept; ``make`` (and what it holds: the
    verdict and the request's environment) is dropped once it has run."""

    __slots__ = ("_make", "_value")

    def __init__(self, make: Callable[[], Explanation] | Explanation) -> None:
        self._make: Callable[[], Explanation] | None = None
        self._value: Explanation | None = None
        if isinstance(make, Explanation):
            self._value = make
        else:
            self._make = make

    def get(self) -> Explanation:
        value = self._value
        if value is None:
            # One thread builds it: building reads what releasing drops, so a second thread that found no value
            # could otherwise build from a half-dropped state (or none). Built values are read without the lock.
            with _BUILDING:
                value = self._value
                if value is None:
                    value = self._value = self._build()
                    self._release()
        return value

    def _build(self) -> Explanation:
        make = self._make
        assert make is not None
        return make()

    def _release(self) -> None:
        """Drop what building needed, once built."""
        self._make = None

    @property
    def built(self) -> bool:
        return self._value is not None


_NOTHING = Deferred(Explanation())


@attrs.frozen(eq=False)
class Decision:
    decision: Outcome
    status: Status
    reason: str
    rule: str | None
    citations: tuple[str, ...]
    obligations: tuple[Obligation, ...]
    unknown_facts: tuple[str, ...]
    conflicts: tuple[str, ...]
    ruleset: RulebookInfo | None
    errors: tuple[Diagnostic, ...] = ()
    explanation: Deferred = attrs.field(default=_NOTHING, repr=False)
    """The lazily built chain, missing, trace and provenance; read them through the properties."""
    id: RequestId = None
    """The request's ``id``, if it gave one (see :meth:`with_id`)."""

    @property
    def chain(self) -> tuple[Link, ...]:
        """The exception path from the general rule down to the controlling rule."""
        return self.explanation.get().chain

    @property
    def missing(self) -> tuple[Missing, ...]:
        """The routes that nearly authorized a denied disclosure, and what each lacked."""
        return self.explanation.get().missing

    @property
    def trace(self) -> tuple[TraceEntry, ...]:
        """What happened to every rule."""
        return self.explanation.get().trace

    @property
    def provenance(self) -> tuple[HopCheck, ...]:
        """How the holder received the data: the hop into it, decided by the rules, then the hops before it."""
        return self.explanation.get().provenance

    def with_id(self, request_id: RequestId) -> Decision:
        """This decision for the request whose ``id`` is ``request_id``: a copy sharing everything else,
        including the explanation (built once for all copies)."""
        if request_id is None and self.id is None:
            return self
        # Every field by position: a batch with an id per line makes one copy per line, and attrs.evolve,
        # which looks the fields up by name, cost five times as much.
        return Decision(
            self.decision,
            self.status,
            self.reason,
            self.rule,
            self.citations,
            self.obligations,
            self.unknown_facts,
            self.conflicts,
            self.ruleset,
            self.errors,
            self.explanation,
            request_id,
        )

    def _values(self) -> tuple[object, ...]:
        return (
            self.decision,
            self.status,
            self.reason,
            self.rule,
            self.citations,
            self.obligations,
            self.unknown_facts,
            self.conflicts,
            self.ruleset,
            self.errors,
            self.id,
            self.explanation.get(),
        )

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Decision):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    @property
    def permitted(self) -> bool:
        return self.decision == "permit"

    def __bool__(self) -> bool:
        # A decision is truthy only when it permits, so `if rules.check(r):` fails closed.
        return self.decision == "permit"
