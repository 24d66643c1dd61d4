"""The ledger: append decisions to a hash chain, check through it, and read it back.

Each record holds a time-ordered decision id (UUIDv7), the time, the SHA-256 of the canonical request and of
the decision document (each stored once, in their own tables), the request's ``id`` and the ``subject`` if
given, and two hashes: the previous record's, and its own, ``sha256(prev_hash || canonical record)``. See
``docs/ledger.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

import attrs

from ..checker import Rules
from ..decisions.decision import Decision
from .canonical import DecisionDoc, RequestDoc, Uuid7, request_doc, utc_now
from .postgres import PostgresStore, is_postgres_url
from .rows import RecordRows
from .sqlite import SqliteStore
from .store import LedgerError, Store

BATCH = 512
"""Records appended in one transaction by :meth:`Ledger.check_many` (``check --jsonl`` reading a file appends
``cli.LEDGER_BATCH_LINES`` at a time)."""
LABELLED_COLUMNS = (
    "seq",
    "decision_id",
    "recorded_at",
    "request_sha",
    "decision_sha",
    "request_id",
    "subject",
    "prev_hash",
    "hash",
)
PLAIN_COLUMNS = tuple(c for c in LABELLED_COLUMNS if c not in ("request_id", "subject"))
"""A record without request id and subject leaves them out (NULL): Python's sqlite3 binds None through a slow
adapter lookup."""


class Entry(NamedTuple):
    """One decision to record: the request as the ledger stores it, the decision, and the optional labels."""

    request: RequestDoc
    decision: Decision
    request_id: str | None = None
    subject: str | None = None


@attrs.frozen
class Envelope:
    """A request with the labels the ledger records beside it (for :meth:`Ledger.check_many`).

    ``request_id`` is the request's own identifier (the caller's, e.g. a case number); ``subject`` an opaque
    reference to the individual the data is about. Neither is read by the rules: they never decide anything.
    """

    request: object
    request_id: str | None = None
    subject: str | None = None


class Ledger:
    """A ledger of decisions. Open one with :func:`open_ledger`; use it as a context manager to close it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._uuid = Uuid7()
        self._rows = RecordRows()

    @property
    def name(self) -> str:
        return self.store.name

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.store.close()

    # -- writing -------------------------------------------------------------------------------------------------

    def check(
        self, rules: Rules, request: object, *, request_id: str | None = None, subject: str | None = None
    ) -> Decision:
        """Decide ``request`` and record the decision; it is returned only once it is committed.

        Raises :class:`LedgerError` if the ledger cannot be written: then no decision is returned at all.
        """
        decision = rules.check(request)
        self.append([Entry(request_doc(request), decision, request_id, subject)])
        return decision

    def check_many(self, rules: Rules, items: Iterable[object], *, batch: int = BATCH) -> Iterator[Decision]:
        """Decide each request (or :class:`Envelope`) in turn, yielding decisions in order, each batch only
        after it is committed to the ledger. Raises :class:`LedgerError` if a batch cannot be written."""
        pending: list[Entry] = []
        for item in items:
            if isinstance(item, Envelope):
                request, request_id, subject = item.request, item.request_id, item.subject
            else:
                request, request_id, subject = item, None, None
            pending.append(Entry(request_doc(request), rules.check(request), request_id, subject))
            if len(pending) >= batch:
                self.append(pending)
                yield from (e.decision for e in pending)
                pending = []
        if pending:
            self.append(pending)
            yield from (e.decision for e in pending)

    def record(
        self, request: object, decision: Decision, *, request_id: str | None = None, subject: str | None = None
    ) -> None:
        """Record a decision made elsewhere (by ``rules.check(request)``)."""
        self.append([Entry(request_doc(request), decision, request_id, subject)])

    def append(self, entries: Sequence[Entry]) -> None:
        """Append ``entries`` as consecutive records, in one transaction: all of them are recorded, or none."""
        if not entries:
            return
        try:
            with self.store.writing() as (seq, prev):
                ms, now = utc_now()
                batch = self._rows.rows(entries, seq, prev, now, self._uuid.many(ms, len(entries)))
                self._insert_documents(batch.requests, batch.decisions)
                self.store.insert("records", PLAIN_COLUMNS, batch.plain)
                self.store.insert("records", LABELLED_COLUMNS, batch.labelled)
                self.store.execute_many("UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1", [batch.head])
        except BaseException:
            self._rows.rolled_back()
            raise
        self._rows.committed(batch)

    def _insert_documents(self, requests: dict[bytes, RequestDoc], decisions: dict[bytes, DecisionDoc]) -> None:
        if requests:
            self.store.execute_many(
                "INSERT INTO requests (sha, body, disclosed_on, element, holder, recipient, purpose) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha) DO NOTHING",
                [
                    (r.sha, r.body, r.disclosed_on, r.element, r.holder, r.recipient, r.purpose)
                    for r in requests.values()
                ],
            )
        if decisions:
            self.store.execute_many(
                "INSERT INTO decisions (sha, body, decision, status, rule, citations, ruleset_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sha) DO NOTHING",
                [
                    (d.sha, d.body, d.decision, d.status, d.rule, d.citations, d.ruleset_hash)
                    for d in decisions.values()
                ],
            )


def open_ledger(target: str | Path, *, readonly: bool = False) -> Ledger:
    """Open the ledger at ``target``: an SQLite file path (created if missing, unless ``readonly``), or a
    ``postgresql://`` URL. A new ledger gets the current schema; an older one is migrated (not when ``readonly``).

    Raises :class:`LedgerError` if it cannot be opened, is not a ledger, or was written by a newer version.
    """
    text = str(target)
    store: Store = (
        PostgresStore(text, readonly=readonly) if is_postgres_url(text) else SqliteStore(text, readonly=readonly)
    )
    return Ledger(store)


__all__ = ["BATCH", "Entry", "Envelope", "Ledger", "LedgerError", "open_ledger"]
