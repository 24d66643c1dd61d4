"""The ledger in a PostgreSQL database, for an agency that already runs one (``pip install
'disclosure-rules[postgres]'``, which brings psycopg 3).

One writer at a time: each append runs in a transaction that first locks the head row
(``SELECT ... FOR UPDATE``), so two processes appending to one database produce one chain. Migrations take
a transaction-level advisory lock, so two processes opening a new database do not both create the tables.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .store import SCHEMA_VERSION_KEY, LedgerError, check_schema_version, migrations

MIGRATION_LOCK = 0x6C656467  # "ledg": the advisory lock key that serializes migrations
_PLACEHOLDER = re.compile(r"\?")


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class PostgresStore:
    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.name = redact(url)
        try:
            import psycopg
        except ImportError:
            raise LedgerError(
                f"{self.name}: a PostgreSQL ledger needs psycopg: pip install 'disclosure-rules[postgres]'"
            ) from None
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        try:
            self._conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise self._error("cannot open the ledger", exc) from None
        if readonly:
            self._check_version(self._version())
        else:
            self._migrate()

    def _error(self, what: str, exc: BaseException) -> LedgerError:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return LedgerError(f"{self.name}: {what}: {message}")

    def _version(self) -> int:
        try:
            row = self._conn.execute("SELECT to_regclass('ledger_meta') IS NOT NULL").fetchone()
            if not row or not row[0]:
                return 0
            found = self._conn.execute("SELECT value FROM ledger_meta WHERE key = %s", (SCHEMA_VERSION_KEY,)).fetchone()
            return int(found[0]) if found else 0
        except self._errors as exc:
            raise self._error("cannot read the ledger", exc) from None

    def _check_version(self, version: int) -> None:
        check_schema_version(self.name, "postgres", version, "this database holds no disclosure-rules ledger")

    def _migrate(self) -> None:
        try:
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                version = self._version()
                if version:
                    self._check_version(version)
                for number, statements in migrations("postgres"):
                    if number > version:
                        for statement in statements:
                            self._conn.execute(statement.encode())
                        self._conn.execute(
                            "INSERT INTO ledger_meta (key, value) VALUES (%s, %s) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (SCHEMA_VERSION_KEY, str(number)),
                        )
        except self._errors as exc:
            raise self._error("cannot prepare the ledger", exc) from None

    @contextmanager
    def writing(self) -> Iterator[tuple[int, bytes]]:
        try:
            transaction = self._conn.transaction()
            transaction.__enter__()
        except self._errors as exc:
            raise self._error("cannot write to the ledger", exc) from None
        try:
            row = self._conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE").fetchone()
            assert row is not None, "the ledger has no head row"
            yield int(row[0]), bytes(row[1])
        except BaseException as exc:
            self._end(transaction, exc)
            if isinstance(exc, self._errors):
                raise self._error("cannot write to the ledger", exc) from None
            raise
        try:
            transaction.__exit__(None, None, None)
        except self._errors as exc:
            raise self._error("cannot write to the ledger", exc) from None

    def _end(self, transaction: Any, exc: BaseException) -> None:
        # If the rollback fails too, the connection is gone, and the first error is the one to report.
        with contextlib.suppress(*self._errors):
            transaction.__exit__(type(exc), exc, exc.__traceback__)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(_PLACEHOLDER.sub("%s", sql).encode(), rows)
        except self._errors as exc:
            raise self._error("cannot write to the ledger", exc) from None

    def insert(self, table: str, columns: Sequence[str], values: Sequence[Any]) -> None:
        # COPY: an INSERT of many rows at once is parsed anew by psycopg each time, and one row per statement
        # is a round trip each.
        width = len(columns)
        try:
            with self._conn.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for start in range(0, len(values), width):
                    copy.write_row(values[start : start + width])
        except self._errors as exc:
            raise self._error("cannot write to the ledger", exc) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            # A named (server-side) cursor streams a large result instead of loading it whole; it needs a
            # transaction, which ends when the rows do.
            with self._conn.transaction(), self._conn.cursor(name="ledger_read") as cursor:
                cursor.itersize = 2048
                cursor.execute(_PLACEHOLDER.sub("%s", sql).encode(), params)
                yield from cursor
        except self._errors as exc:
            raise self._error("cannot read the ledger", exc) from None

    def close(self) -> None:
        self._conn.close()
