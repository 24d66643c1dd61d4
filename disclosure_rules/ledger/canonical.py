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
import time
from typing import Any

import attrs

from ..decision import Decision
from ..render.json import decision_document

RECORD_VERSION = 1
GENESIS = bytes(32)
"""The ``prev_hash`` of the first record: there is no record before it."""


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@attrs.frozen
class RequestDoc:
    """A request as the ledger stores it: its canonical JSON, that text's SHA-256, and the fields reports use."""

    sha: bytes
    body: str
    disclosed_on: str | None
    element: str | None
    holder: str | None
    recipient: str | None
    purpose: str | None

    @property
    def hex(self) -> str:
        return self.sha.hex()


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
class DecisionDoc:
    """A decision as the ledger stores it: the decision document without its trace, and the fields reports use."""

    sha: bytes
    body: str
    decision: str
    status: str
    rule: str | None
    citations: str
    ruleset_hash: str | None

    @property
    def hex(self) -> str:
        return self.sha.hex()


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
    """The canonical JSON of a record, written out by hand: this runs once per record, and ``json.dumps`` of a
    dict costs more than the rest of writing it. ``tests/test_ledger.py`` checks it equals :func:`canonical_json`.
    Every value but ``request_id`` and ``subject`` is hexadecimal, an integer or an ISO time: nothing to escape.
    """
    return (
        f'{{"decision":"{decision_hex}","decision_id":"{decision_id}","recorded_at":"{recorded_at}",'
        f'"request":"{request_hex}","request_id":{_optional(request_id)},"seq":{seq},'
        f'"subject":{_optional(subject)},"v":{RECORD_VERSION}}}'
    )


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
        if ms > self._ms:
            self._ms = ms
            # Leave headroom so that counting up within one millisecond cannot overflow into the timestamp.
            self._counter = int.from_bytes(os.urandom(10)) >> (80 - self._RANDOM_BITS + 1)
        else:
            self._counter += 1
        # Formatted from its parts: version 7 in the third group, the variant bits 10 in the fourth.
        ms, rand_a, rand_b = self._ms, self._counter >> 62, self._counter & ((1 << 62) - 1)
        low = rand_b & 0xFFFFFFFFFFFF
        return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-7{rand_a:03x}-{0x8000 | (rand_b >> 48):04x}-{low:012x}"
