"""The ledger: append decisions to a hash chain, check through it, and read it back.

Each record holds a time-ordered decision id (UUIDv7), the time, the SHA-256 of the canonical request and of
the decision document (each stored once, in their own tables), the request's ``id`` and the ``subject`` if
given, and two hashes: the previous record's, and its own, ``sha256(prev_hash || canonical record)``. See
``docs/ledger.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import attrs

from ..checker import Rules
from ..decision import Decision
from .canonical import (
    DecisionDoc,
    RequestDoc,
    Uuid7,
    chain_hash,
    decision_doc,
    record_body,
    request_doc,
    utc_now,
)
from .postgres import PostgresStore, is_postgres_url
from .sqlite import SqliteStore
from .store import LedgerError, Store

BATCH = 512
"""Records appended in one transaction by :meth:`Ledger.check_many` (and by ``check --jsonl`` reading a file)."""
KNOWN_CACHE_SIZE = 16_384
"""How many request and decision hashes a writer remembers as already stored, to skip inserting them again."""


class Entry(NamedTuple):
    """One decision to record: the request as the ledger stores it, the decision, and the optional labels."""

    request: RequestDoc
    decision: Decision
    request_id: str | None = None
    subject: str | None = None


def _request_id(entry: Entry) -> str | None:
    """The id recorded beside a decision: the envelope's, else the request's own ``id`` (which its decision
    echoes), numbers and true/false written as JSON."""
    if entry.request_id is not None:
        return entry.request_id
    echoed = entry.decision.id
    if echoed is None or isinstance(echoed, str):
        return echoed
    return json.dumps(echoed)


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
        self._decisions: dict[int, tuple[Decision, DecisionDoc]] = {}
        self._known_requests: set[bytes] = set()
        self._known_decisions: set[bytes] = set()

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
        documents = [(e.request, self._decision_doc(e.decision)) for e in entries]
        new_requests = {r.sha: r for r, _ in documents if r.sha not in self._known_requests}
        new_decisions = {d.sha: d for _, d in documents if d.sha not in self._known_decisions}
        with self.store.writing() as (seq, prev):
            ms, now = utc_now()
            self._insert_documents(new_requests, new_decisions)
            rows = []
            for entry, (req, dec) in zip(entries, documents, strict=True):
                seq += 1
                decision_id = self._uuid(ms)
                body = record_body(
                    seq=seq,
                    decision_id=decision_id,
                    recorded_at=now,
                    request_hex=req.hex,
                    decision_hex=dec.hex,
                    request_id=_request_id(entry),
                    subject=entry.subject,
                )
                digest = chain_hash(prev, body)
                rows.append((seq, decision_id, now, req.sha, dec.sha, _request_id(entry), entry.subject, prev, digest))
                prev = digest
            self.store.execute_many(
                "INSERT INTO records (seq, decision_id, recorded_at, request_sha, decision_sha, request_id, subject, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.store.execute_many("UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1", [(seq, prev)])
        # Only once committed: a rolled-back transaction stored none of these.
        self._remember(self._known_requests, new_requests)
        self._remember(self._known_decisions, new_decisions)

    def _decision_doc(self, decision: Decision) -> DecisionDoc:
        # Decisions are shared by every request of a case, so a batch holds few distinct ones.
        found = self._decisions.get(id(decision))
        if found is None:
            if len(self._decisions) >= KNOWN_CACHE_SIZE:
                self._decisions.clear()
            found = self._decisions[id(decision)] = (decision, decision_doc(decision))
        return found[1]

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

    @staticmethod
    def _remember(known: set[bytes], new: dict[bytes, Any]) -> None:
        if len(known) + len(new) > KNOWN_CACHE_SIZE:
            known.clear()
        known.update(new)


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
