"""The ledger in an SQLite file: embedded, nothing to install.

The file is in WAL mode (readers never block the writer) with ``synchronous=FULL``: a transaction that
returned from COMMIT survives a power cut, which is what "written before printed" needs. One writer at a
time: each append runs in ``BEGIN IMMEDIATE``, which takes the write lock before reading the head, so two
processes appending to one file produce one chain, one after the other.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .store import SCHEMA_VERSION_KEY, LedgerError, LedgerFormatError, check_schema_version, migrations

BUSY_TIMEOUT_SECONDS = 120.0
"""How long a writer waits for another writer's transaction: a batch takes milliseconds, a migration less."""


PAGE_SIZE = 16_384
WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024
NEW_FILE_MODE = 0o600
"""A new ledger file's mode, less the umask: the ledger holds requests about people (see docs/ledger.md).
SQLite gives its -wal and -shm files the mode of the database file."""


ROWS_PER_INSERT = 256
"""Rows inserted by one statement, at most: fewer if this SQLite allows fewer parameters (999 before 3.32)."""


@functools.cache
def _insert_rows(table: str, columns: tuple[str, ...], count: int) -> str:
    row = "(" + ", ".join("?" * len(columns)) + ")"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([row] * count)


def _create_private(path: Path) -> None:
    """Create ``path`` empty with :data:`NEW_FILE_MODE` if it does not exist (SQLite would make it 0644).

    An existing file keeps its mode and group, so an agency can create the file itself as it needs (0640 for a
    group of readers, say). An empty file is an empty SQLite database.
    """
    # FileExistsError: there already, or another process has just made it; either way, open what is there.
    # Any other error (no such directory, say): sqlite3.connect fails on it too, with the message to show.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE))


class SqliteStore:
    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.name = str(path)
        self._conn = self._connect(Path(path), readonly)
        if readonly:
            self._check_version(self._version())
        else:
            self._migrate()

    def _connect(self, path: Path, readonly: bool) -> sqlite3.Connection:
        try:
            if readonly:
                if not path.is_file():
                    raise LedgerError(f"{self.name}: no ledger here (the file does not exist)")
                uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
            else:
                _create_private(path)
                conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
                # A new file only: records are appended, and larger pages mean fewer of them to write and
                # checkpoint (about 15% less time per record than 4 KB pages).
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
                # Switching to WAL writes the file header, so a read-only or unwritable file fails here, before
                # anything is decided.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                # Checkpoint every 64 MB of WAL rather than the default 4 MB: each checkpoint waits for the
                # disk twice.
                page_size = conn.execute("PRAGMA page_size").fetchone()[0]
                conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_BYTES // page_size}")
            conn.execute("PRAGMA foreign_keys=OFF")
            return conn
        except sqlite3.Error as exc:
            raise self._error("cannot open the ledger", exc) from None

    @functools.cached_property
    def _max_parameters(self) -> int:
        return self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)

    def _error(self, what: str, exc: BaseException) -> LedgerError:
        return LedgerError(f"{self.name}: {what}: {exc}")

    def _version(self) -> int:
        try:
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "ledger_meta" not in tables:
                if tables:
                    raise LedgerFormatError(f"{self.name}: this database is not a disclosure-rules ledger")
                return 0
            row = self._conn.execute("SELECT value FROM ledger_meta WHERE key = ?", (SCHEMA_VERSION_KEY,)).fetchone()
            return int(row[0]) if row else 0
        except sqlite3.DatabaseError as exc:
            raise self._error("cannot read the ledger", exc) from None

    def _check_version(self, version: int) -> None:
        check_schema_version(self.name, "sqlite", version, "this is not a disclosure-rules ledger (it is empty)")

    def _migrate(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                version = self._version()
                if version:
                    self._check_version(version)
                for number, statements in migrations("sqlite"):
                    if number > version:
                        for statement in statements:
                            self._conn.execute(statement)
                        self._conn.execute(
                            "INSERT INTO ledger_meta (key, value) VALUES (?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (SCHEMA_VERSION_KEY, str(number)),
                        )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._error("cannot prepare the ledger", exc) from None

    @contextmanager
    def writing(self) -> Iterator[tuple[int, bytes]]:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error("cannot write to the ledger", exc) from None
        try:
            seq, head = conn.execute("SELECT seq, hash FROM ledger_head WHERE id = 1").fetchone()
            yield int(seq), bytes(head)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise self._error("cannot write to the ledger", exc) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the transaction is gone either way; the error that brought us here is the one to report

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._error("cannot write to the ledger", exc) from None

    def insert(self, table: str, columns: Sequence[str], values: Sequence[Any]) -> None:
        # Several rows per statement: a statement's own cost is as much as a small row's.
        width = len(columns)
        step = min(ROWS_PER_INSERT, self._max_parameters // width) * width
        for start in range(0, len(values), step):
            chunk = values[start : start + step]
            self.execute_many(_insert_rows(table, tuple(columns), len(chunk) // width), [chunk])

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            cursor = self._conn.execute(sql, params)
            while rows := cursor.fetchmany(1024):
                yield from rows
        except sqlite3.Error as exc:
            raise self._error("cannot read the ledger", exc) from None

    def close(self) -> None:
        self._conn.close()
