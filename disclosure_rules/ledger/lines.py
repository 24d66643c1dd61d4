"""The ledger's side of ``check --jsonl``: what each line records, and the envelope that labels a request.

A line is a request, or an envelope around one::

    {"request": {...}, "id": "A-2025-000123", "subject": "person-7f3a..."}

``id`` is the request's own identifier and ``subject`` an opaque reference to the individual; both are
recorded beside the decision and neither is read by the rules. No request has a top-level ``request`` key,
so the two forms cannot be confused.
"""

from __future__ import annotations

from collections.abc import Callable

from ..decisions.decision import Decision
from ..diagnostics import Diagnostic
from ..reading.jsontext import JsonInputError, loads_strict
from .canonical import RequestDoc, request_doc, unparsed_request_doc
from .ledger import Entry, Ledger

ENVELOPE_KEYS = ("request", "id", "subject")
LINE_CACHE_SIZE = 8_192


class _Line:
    """What one line says: the value to decide (or the problem that stops it), and what to record."""

    __slots__ = ("doc", "entry", "problem", "request", "request_id", "subject")

    def __init__(
        self,
        doc: RequestDoc,
        request: object = None,
        problem: Diagnostic | None = None,
        request_id: str | None = None,
        subject: str | None = None,
    ) -> None:
        self.doc, self.request, self.problem = doc, request, problem
        self.request_id, self.subject = request_id, subject
        self.entry: Entry | None = None
        """What the line last recorded: a repeated line usually gets the same (shared) decision again."""


def read_line(line: bytes) -> _Line:
    """Parse a line strictly, and unwrap an envelope."""
    try:
        value = loads_strict(line)
    except JsonInputError as exc:
        return _Line(unparsed_request_doc(line.rstrip(b"\r\n")), problem=exc.diagnostic)
    if not (isinstance(value, dict) and "request" in value):
        return _Line(request_doc(value), request=value)
    for key in value:
        if key not in ENVELOPE_KEYS:
            return _Line(request_doc(value), problem=_envelope_problem(f"$.{key}", f"an envelope has no key `{key}`"))
    labels = {}
    for key in ("id", "subject"):
        label = value.get(key)
        if label is not None and not isinstance(label, str):
            return _Line(request_doc(value), problem=_envelope_problem(f"$.{key}", f"`{key}` must be a string"))
        labels[key] = label
    return _Line(request_doc(value["request"]), value["request"], None, labels["id"], labels["subject"])


def _envelope_problem(path: str, message: str) -> Diagnostic:
    return Diagnostic(
        "bad_envelope", message + ' (an envelope is {"request": ..., "id": ..., "subject": ...})', path=path
    )


class LineRecorder:
    """Decides JSON Lines for the CLI and keeps, until :meth:`commit`, the entries to record.

    ``check_line`` replaces the CLI's line checker: it unwraps envelopes and remembers, per distinct line, the
    canonical request (a batch repeats its lines, so each is parsed once). ``add`` queues a line's decision;
    ``commit`` appends the queue in one transaction. The CLI prints a batch only after ``commit`` returns.
    """

    def __init__(
        self,
        ledger: Ledger,
        check_object: Callable[[object], Decision],
        invalid: Callable[[list[Diagnostic]], Decision],
    ) -> None:
        self.ledger = ledger
        self._check_object = check_object
        self._invalid = invalid
        self._lines: dict[bytes, _Line] = {}
        self._pending: list[Entry] = []

    def _read(self, line: bytes) -> _Line:
        found = self._lines.get(line)
        if found is None:
            if len(self._lines) >= LINE_CACHE_SIZE:
                self._lines.clear()
            found = self._lines[line] = read_line(line)
        return found

    def check_line(self, line: bytes) -> Decision:
        read = self._read(line)
        if read.problem is not None:
            return self._invalid([read.problem])
        return self._check_object(read.request)

    def add(self, line: bytes | None, decision: Decision) -> None:
        """Queue the record of ``decision`` for ``line`` (None: a line too long to be read)."""
        if line is None:
            self._pending.append(Entry(unparsed_request_doc(None), decision))
            return
        read = self._lines.get(line) or self._read(line)
        entry = read.entry
        if entry is None or entry.decision is not decision:
            entry = read.entry = Entry(read.doc, decision, read.request_id, read.subject)
        self._pending.append(entry)

    def commit(self) -> None:
        """Record every queued decision, in one transaction. Raises :class:`LedgerError` if it cannot."""
        if self._pending:
            self.ledger.append(self._pending)
            self._pending = []
