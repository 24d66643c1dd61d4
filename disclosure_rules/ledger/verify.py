"""Recompute a ledger's chain and every stored document's hash, and name the first record that is wrong."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from .canonical import GENESIS, chain_hash, decision_columns, record_body, request_columns
from .ledger import Ledger
from .store import LedgerError


@attrs.frozen
class Problem:
    """The first thing wrong: the record it concerns (None for the ledger as a whole) and what is wrong with it."""

    seq: int | None
    decision_id: str | None
    what: str


@attrs.frozen
class Verification:
    records: int
    """How many records were read (up to the first problem)."""
    last_seq: int
    last_hash: str
    """The last record's hash (hex): publish or keep it elsewhere, and a later rewrite of the chain shows."""
    problem: Problem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


_RECORDS = (
    "SELECT r.seq, r.decision_id, r.recorded_at, r.request_sha, r.decision_sha, r.request_id, r.subject, "
    "r.prev_hash, r.hash, q.sha IS NOT NULL, d.sha IS NOT NULL "
    "FROM records r LEFT JOIN requests q ON q.sha = r.request_sha LEFT JOIN decisions d ON d.sha = r.decision_sha "
    "ORDER BY r.seq"
)


def verify(ledger: Ledger, *, anchor: tuple[int, str] | None = None) -> Verification:
    """Check every document against its hash, then walk the chain from the first record to the head.

    ``anchor`` (a record's seq and hex hash, kept from an earlier run) must still be in the chain: a chain
    rewritten from that record on, hashes and all, passes every other check.
    """
    store = ledger.store
    bad = (
        _bad_documents(
            store.query("SELECT sha, body, disclosed_on, element, holder, recipient, purpose FROM requests"),
            request_columns,
        ),
        _bad_documents(
            store.query("SELECT sha, body, decision, status, rule, citations, ruleset_hash FROM decisions"),
            decision_columns,
        ),
    )
    expected, prev, count = 1, GENESIS, 0
    for row in store.query(_RECORDS):
        seq, decision_id = int(row[0]), str(row[1])
        problem = _record_problem(row, expected, prev, bad, anchor)
        if problem is not None:
            return Verification(count, expected - 1, prev.hex(), Problem(seq, decision_id, problem))
        prev, expected, count = _bytes(row[8]), seq + 1, count + 1
    problem = _head_problem(ledger, count, prev, anchor)
    return Verification(count, count, prev.hex(), Problem(None, None, problem) if problem else None)


def _bad_documents(
    rows: Iterable[tuple[Any, ...]], columns: Callable[[str], tuple[str | None, ...]]
) -> dict[bytes, str]:
    """The stored documents whose text does not hash to their key, or whose columns do not match their text."""
    bad: dict[bytes, str] = {}
    for sha, body, *stored in rows:
        key = _bytes(sha)
        if hashlib.sha256(str(body).encode()).digest() != key:
            bad[key] = "its text no longer matches its hash: it was changed"
            continue
        try:
            derived = columns(str(body))
        except (ValueError, KeyError, TypeError, AttributeError):
            bad[key] = "its text is not the document it should be"
            continue
        if derived != tuple(stored):
            bad[key] = "its columns no longer match its text: they were changed"
    return bad


def _bytes(value: object) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray | memoryview) else b""


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _record_problem(
    row: tuple[Any, ...],
    expected: int,
    prev: bytes,
    bad: tuple[dict[bytes, str], dict[bytes, str]],
    anchor: tuple[int, str] | None,
) -> str | None:
    seq = int(row[0])
    request_sha, decision_sha, prev_hash, digest = _bytes(row[3]), _bytes(row[4]), _bytes(row[7]), _bytes(row[8])
    if seq != expected:
        missing = f"record {expected} is" if seq == expected + 1 else f"records {expected} to {seq - 1} are"
        return f"{missing} missing before it: removed from the chain"
    body = record_body(
        seq=seq,
        decision_id=str(row[1]),
        recorded_at=str(row[2]),
        request_hex=request_sha.hex(),
        decision_hex=decision_sha.hex(),
        request_id=_optional(row[5]),
        subject=_optional(row[6]),
    )
    if chain_hash(prev_hash, body) != digest:
        return "its contents do not match its hash: the record was changed (or moved here from another place)"
    if prev_hash != prev:
        before = f"record {seq - 1}" if seq > 1 else "the start of the ledger"
        return f"its prev_hash is not the hash of {before}: a record was inserted, removed or moved here"
    for present, sha, bad_ones, kind in (
        (row[9], request_sha, bad[0], "request"),
        (row[10], decision_sha, bad[1], "decision"),
    ):
        if not present:
            return f"the {kind} it names ({sha.hex()[:16]}...) is missing from the ledger"
        reason = bad_ones.get(sha)
        if reason is not None:
            return f"the {kind} it names ({sha.hex()[:16]}...): {reason}"
    if anchor is not None and anchor[0] == seq and digest.hex() != anchor[1].lower():
        return f"its hash is not the anchor's {anchor[1]}: the chain was rewritten from here or before"
    return None


def _head_problem(ledger: Ledger, count: int, last: bytes, anchor: tuple[int, str] | None) -> str | None:
    rows = list(ledger.store.query("SELECT seq, hash FROM ledger_head WHERE id = 1"))
    if len(rows) != 1:
        return "the ledger's head row is missing"
    head_seq, head_hash = int(rows[0][0]), bytes(rows[0][1])
    if head_seq != count or head_hash != last:
        return (
            f"the head says the ledger holds {head_seq} records ending in {head_hash.hex()[:16]}..., but the chain "
            f"ends at record {count}: records at the end were removed, or the head was changed"
        )
    if anchor is not None and anchor[0] > count:
        return f"the anchor names record {anchor[0]}, but the ledger holds only {count}: records were removed"
    return None


__all__ = ["LedgerError", "Problem", "Verification", "verify"]
