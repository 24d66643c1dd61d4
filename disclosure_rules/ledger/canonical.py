"""The bytes the ledger hashes: canonical requests, decision documents and records.

Everything hashed is canonical JSON (sorted keys, no whitespace, UTF-8, ``ensure_ascii=False``), so that
``verify`` can recompute every hash from what the tables hold, on any machine, with any JSON library
that writes that form.

A record does not repeat its request and decision: it holds their SHA-256 (the request and the decision
documents are stored once each, keyed by that hash). The chain therefore covers them too: changing a stored
request changes its hash, which no longer matches the records that name it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import struct
import time
from typing import Any

import attrs

from ..decisions.decision import Decision
from ..render.json import decision_document

RECORD_VERSION = 1
GENESIS = bytes(32)
"""The ``prev_hash`` of the first record: there is no record before it."""


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@attrs.frozen
class StoredDoc:
    """A document as the ledger stores it once: its canonical JSON and that text's SHA-256."""

    sha: bytes
    body: str
    hex: str = attrs.field(init=False, eq=False)
    """The SHA-256 in hexadecimal, as records name it: computed once, as every record of a batch names it."""
    blob: bytearray = attrs.field(init=False, eq=False, repr=False)
    """The SHA-256 as a record row holds it (see ``Ledger._records``); never changed."""

    @hex.default
    def _hex(self) -> str:
        return self.sha.hex()

    @blob.default
    def _blob(self) -> bytearray:
        return bytearray(self.sha)


@attrs.frozen
class RequestDoc(StoredDoc):
    """A request as the ledger stores it, with the fields reports use."""

    disclosed_on: str | None
    element: str | None
    holder: str | None
    recipient: str | None
    purpose: str | None


def request_doc(request: object) -> RequestDoc:
    """The ledger's form of a parsed request (any JSON value: a bad request is recorded as it was given)."""
    body = canonical_json(request)
    fields: dict[str, Any] = request if isinstance(request, dict) else {}
    return RequestDoc(
        sha=hashlib.sha256(body.encode()).digest(),
        body=body,
        disclosed_on=_text(fields.get("date")),
        element=_text(fields.get("element")),
        holder=_text(fields.get("holder")),
        recipient=_text(fields.get("recipient")),
        purpose=_text(fields.get("purpose")),
    )


def unparsed_request_doc(raw: bytes | None) -> RequestDoc:
    """Input that is not JSON at all is recorded as a JSON string of its text (or ``null`` if it was not read)."""
    return request_doc(None if raw is None else raw.decode("utf-8", errors="replace"))


@attrs.frozen
class DecisionDoc(StoredDoc):
    """A decision as the ledger stores it: the decision document without its trace, and the fields reports use."""

    decision: str
    status: str
    rule: str | None
    citations: str
    ruleset_hash: str | None


def decision_doc(decision: Decision) -> DecisionDoc:
    # The trace is left out: it lists every rule considered, which is what the rule set's hash already
    # pins down, and it would make every stored decision ten times larger.
    body = canonical_json(decision_document(decision, trace=False))
    return DecisionDoc(
        sha=hashlib.sha256(body.encode()).digest(),
        body=body,
        decision=decision.decision,
        status=decision.status,
        rule=decision.rule,
        citations="; ".join(decision.citations),
        ruleset_hash=decision.ruleset.hash if decision.ruleset else None,
    )


def request_columns(body: str) -> tuple[str | None, ...]:
    """What :func:`request_doc` derives from a stored body, for ``verify`` to compare with the stored columns."""
    doc = request_doc(json.loads(body))
    return (doc.disclosed_on, doc.element, doc.holder, doc.recipient, doc.purpose)


def decision_columns(body: str) -> tuple[str | None, ...]:
    doc = json.loads(body)
    ruleset = doc.get("ruleset") or {}
    return (doc["decision"], doc["status"], doc["rule"], "; ".join(doc["citations"]), ruleset.get("hash"))


def _optional(value: str | None) -> str:
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def record_template(
    *, request_hex: str, decision_hex: str, request_id: str | None, subject: str | None
) -> tuple[str, str, str]:
    """A record's canonical JSON around its decision id, time and seq, which :func:`fill_record` fills in:
    every record of one request, decision and labels shares it. Written out by hand, as ``json.dumps`` of a
    dict costs more than the rest of writing a record; ``tests/test_ledger.py`` checks it is canonical JSON.
    Every value but ``request_id`` and ``subject`` is hexadecimal, an integer or an ISO time: nothing to escape.
    """
    return (
        f'{{"decision":"{decision_hex}","decision_id":"',
        f'","request":"{request_hex}","request_id":{_optional(request_id)},"seq":',
        f',"subject":{_optional(subject)},"v":{RECORD_VERSION}}}',
    )


def time_field(recorded_at: str) -> str:
    """What :func:`fill_record` puts between a record's decision id and the rest: a batch shares its time."""
    return f'","recorded_at":"{recorded_at}'


def fill_record(template: tuple[str, str, str], *, seq: int, decision_id: str, stamp: str) -> str:
    """A record's canonical JSON from its template and what is its own (``stamp`` from :func:`time_field`).
    ``Ledger`` inlines this f-string in its loop over records."""
    head, middle, tail = template
    return f"{head}{decision_id}{stamp}{middle}{seq}{tail}"


def record_body(
    *,
    seq: int,
    decision_id: str,
    recorded_at: str,
    request_hex: str,
    decision_hex: str,
    request_id: str | None,
    subject: str | None,
) -> str:
    """The canonical JSON of a record: what its hash covers after the previous record's hash."""
    template = record_template(
        request_hex=request_hex, decision_hex=decision_hex, request_id=request_id, subject=subject
    )
    return fill_record(template, seq=seq, decision_id=decision_id, stamp=time_field(recorded_at))


def chain_hash(prev_hash: bytes, body: str) -> bytes:
    return hashlib.sha256(prev_hash + body.encode()).digest()


def utc_now() -> tuple[int, str]:
    """The time in milliseconds since the epoch, and as ISO 8601 UTC with milliseconds."""
    ms = time.time_ns() // 1_000_000
    stamp = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return ms, stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class Uuid7:
    """Time-ordered decision ids (RFC 9562 UUIDv7), increasing within a process even within a millisecond.

    The 74 bits after the timestamp start at a random value each millisecond and count up (RFC 9562,
    section 6.2, method 2), so ids sort in the order they were made.
    """

    _RANDOM_BITS = 74

    def __init__(self) -> None:
        self._ms = -1
        self._counter = 0

    def __call__(self, ms: int) -> str:
        return self.many(ms, 1)[0]

    def many(self, ms: int, n: int) -> list[str]:
        """``n`` consecutive ids for the millisecond ``ms``: a batch of records shares its time."""
        if ms > self._ms:
            self._ms = ms
            # Leave headroom so that counting up within one millisecond cannot overflow into the timestamp.
            start = int.from_bytes(os.urandom(10)) >> (80 - self._RANDOM_BITS + 1)
        else:
            start = self._counter + 1
        self._counter = start + n - 1
        return _uuid7_texts(self._ms, start, n)


_RAND_B = (1 << 62) - 1
_VARIANT = 1 << 63


def _uuid7_texts(ms: int, start: int, n: int) -> list[str]:
    # The counter's top 12 bits (rand_a) sit before the variant bits and change once in 2**62 ids: format them
    # once per run of ids, and the 64 bits after them (variant and rand_b) for the whole run in one hex().
    texts: list[str] = []
    counter, end = start, start + n
    while counter < end:
        stop = min(end, (counter | _RAND_B) + 1)
        prefix = f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7{counter >> 62:03x}-"
        low = _VARIANT | (counter & _RAND_B)
        digits = struct.pack(f">{stop - counter}Q", *range(low, low + stop - counter)).hex()
        texts.extend(f"{prefix}{digits[i : i + 4]}-{digits[i + 4 : i + 16]}" for i in range(0, len(digits), 16))
        counter = stop
    return texts
