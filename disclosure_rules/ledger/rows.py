"""The rows a batch of records adds to the ledger: the one part of it that runs once per decision.

A batch of a million requests holds a few thousand distinct lines and a few dozen decisions, so what records of
one request, decision and labels share (their canonical JSON around the decision id, time and seq, the
documents' hashes) is worked out once per :class:`~disclosure_rules.ledger.Entry` object and kept. What is
left per record is its id, its JSON, its SHA-256 and its row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from hashlib import sha256
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from ..decisions.decision import Decision
from .canonical import DecisionDoc, RequestDoc, decision_doc, record_template, time_field

if TYPE_CHECKING:
    from .ledger import Entry

CACHE_SIZE = 16_384
"""How many entries, decisions and stored documents a writer remembers (each cache starts over when full)."""


class _Template(NamedTuple):
    """What every record of one entry shares."""

    entry: Entry
    """Kept so that the entry's ``id()``, the cache's key, is not reused while it is cached."""
    head: str
    middle: str
    tail: str
    request: bytearray
    decision: bytearray
    labels: tuple[str | None, str | None] | None
    """(request id, subject), or None when both are absent."""


@attrs.define
class Rows:
    """A batch's records, values end to end (see :meth:`RecordRows.rows`), and the documents to store with them."""

    plain: list[Any]
    """Records without request id or subject: a value for each of ``ledger.PLAIN_COLUMNS``, record after record."""
    labelled: list[Any]
    """Records with a request id or subject: a value for each of ``ledger.LABELLED_COLUMNS``."""
    head: tuple[int, bytearray]
    """The last record's seq and hash."""
    requests: dict[bytes, RequestDoc]
    """Requests that may not be stored yet."""
    decisions: dict[bytes, DecisionDoc]


def request_id_of(entry: Entry) -> str | None:
    """The id recorded beside a decision: the envelope's, else the request's own ``id`` (which its decision
    echoes), numbers and true/false written as JSON."""
    if entry.request_id is not None:
        return entry.request_id
    echoed = entry.decision.id
    if echoed is None or isinstance(echoed, str):
        return echoed
    return json.dumps(echoed)


class RecordRows:
    """Makes the rows of batches of records for one writer, remembering what it has worked out and stored."""

    def __init__(self) -> None:
        self._templates: dict[int, _Template] = {}
        self._decisions: dict[int, tuple[Decision, DecisionDoc]] = {}
        self._stored_requests: set[bytes] = set()
        self._stored_decisions: set[bytes] = set()

    def rows(self, entries: Sequence[Entry], seq: int, prev: bytes, now: str, ids: Sequence[str]) -> Rows:
        """The records of ``entries`` chained onto the record (seq, prev), recorded at ``now`` with ``ids``.

        Hashes go to the database as bytearray: Python's sqlite3 binds bytes (and None) through an adapter
        lookup that costs as much as the rest of inserting the row.
        """
        batch = Rows([], [], (seq, bytearray(prev)), {}, {})
        plain, labelled, templates = batch.plain, batch.labelled, self._templates
        stamp = time_field(now)
        link = batch.head[1]
        for entry, decision_id in zip(entries, ids, strict=True):
            seq += 1
            found = templates.get(id(entry))
            if found is None or found.entry is not entry:
                found = self._template(entry, batch)
            _, head, middle, tail, request, decision, labels = found
            # canonical.fill_record and chain_hash, inlined: this line is most of what a record costs.
            digest = bytearray(sha256(link + f"{head}{decision_id}{stamp}{middle}{seq}{tail}".encode()).digest())
            if labels is None:
                plain.extend((seq, decision_id, now, request, decision, link, digest))
            else:
                labelled.extend((seq, decision_id, now, request, decision, *labels, link, digest))
            link = digest
        batch.head = (seq, link)
        return batch

    def committed(self, batch: Rows) -> None:
        """``batch`` is in the ledger: its documents need not be inserted again."""
        _remember(self._stored_requests, batch.requests)
        _remember(self._stored_decisions, batch.decisions)

    def rolled_back(self) -> None:
        """A batch was not written: the templates made for it assumed its documents would be stored."""
        self._templates.clear()

    def _template(self, entry: Entry, batch: Rows) -> _Template:
        request, decision = entry.request, self._decision_doc(entry.decision)
        if request.sha not in self._stored_requests:
            batch.requests[request.sha] = request
        if decision.sha not in self._stored_decisions:
            batch.decisions[decision.sha] = decision
        request_id, subject = request_id_of(entry), entry.subject
        head, middle, tail = record_template(
            request_hex=request.hex, decision_hex=decision.hex, request_id=request_id, subject=subject
        )
        labels = None if request_id is None and subject is None else (request_id, subject)
        if len(self._templates) >= CACHE_SIZE:
            self._templates.clear()  # start over: O(1), where evicting the oldest entry is not
        found = self._templates[id(entry)] = _Template(entry, head, middle, tail, request.blob, decision.blob, labels)
        return found

    def _decision_doc(self, decision: Decision) -> DecisionDoc:
        # Decisions are shared by every request of a case, so a batch holds few distinct ones.
        found = self._decisions.get(id(decision))
        if found is None:
            if len(self._decisions) >= CACHE_SIZE:
                self._decisions.clear()
            found = self._decisions[id(decision)] = (decision, decision_doc(decision))
        return found[1]


def _remember(known: set[bytes], new: dict[bytes, Any]) -> None:
    if len(known) + len(new) > CACHE_SIZE:
        known.clear()
    known.update(new)
