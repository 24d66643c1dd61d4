"""The one small interface the ledger needs from a database, and the versioned schema migrations.

A store knows how to open its database, take the single writer's lock, run SQL and report its errors as
:class:`LedgerError`; everything else (hashing, the chain, verifying, reporting) is written once, above it, in
SQL both SQLite and PostgreSQL run. SQL is written with ``?`` placeholders; a store translates them.
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..diagnostics import DisclosureRulesError


class LedgerError(DisclosureRulesError):
    """The ledger could not be opened, read or written; the message says which ledger and why."""


class LedgerFormatError(LedgerError):
    """The database is not a ledger this version can use (not a ledger, or written by a newer version)."""


SCHEMA_VERSION_KEY = "schema_version"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations(backend: str) -> list[tuple[int, list[str]]]:
    """The schema migrations shipped for ``backend`` (``sqlite`` or ``postgres``), in order: each a version
    and its SQL statements. Migration ``n`` takes a ledger from schema version ``n - 1`` to ``n``."""
    folder = importlib.resources.files("disclosure_rules.ledger") / "migrations" / backend
    found = []
    for item in folder.iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match:
            found.append((int(match.group(1)), _statements(item.read_text(encoding="utf-8"))))
    found.sort()
    assert [v for v, _ in found] == list(range(1, len(found) + 1)), f"{backend} migrations are not numbered 1..n"
    return found


def latest_schema_version(backend: str) -> int:
    return len(migrations(backend))


def check_schema_version(name: str, backend: str, version: int, empty: str) -> None:
    """Refuse a database that holds no ledger (``empty`` says how), or one a newer version wrote."""
    latest = len(migrations(backend))
    if version == 0:
        raise LedgerFormatError(f"{name}: {empty}")
    if version > latest:
        raise LedgerFormatError(
            f"{name}: the ledger has schema version {version}; this disclosure-rules knows up to "
            f"{latest}: upgrade disclosure-rules to use it"
        )


def _statements(script: str) -> list[str]:
    # The migration files hold no `;` inside literals, so a statement ends at each `;`.
    lines = [line for line in script.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class Store(Protocol):
    """A ledger database. Every method raises :class:`LedgerError` on a database error."""

    name: str
    """The ledger's name for messages (its path, or the URL without a password)."""

    def writing(self) -> AbstractContextManager[tuple[int, bytes]]:
        """A write transaction holding the ledger's only writer lock; yields the head (last seq, its hash).
        Commits when the block ends without an exception, and rolls back otherwise."""
        ...

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row, inside :meth:`writing`."""
        ...

    def insert(self, table: str, columns: Sequence[str], values: Sequence[Any]) -> None:
        """Insert rows into ``table``, inside :meth:`writing`: ``values`` holds them end to end, one value per
        column each. The bulk path, for records: each store inserts many rows its fastest way."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, streamed (inside or outside :meth:`writing`)."""
        ...

    def close(self) -> None: ...
