"""Shared by the ledger tests: a fresh ledger on each backend, and raw SQL to tamper with it.

PostgreSQL tests run when ``DISCLOSURE_RULES_TEST_POSTGRES`` names a database (``.ci/run`` starts a server and
sets it); they are skipped otherwise, except under CI (``CI=true``), where a missing server fails the run.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

POSTGRES_ENV = "DISCLOSURE_RULES_TEST_POSTGRES"
TABLES = ("records", "requests", "decisions", "ledger_head", "ledger_meta")


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {POSTGRES_ENV} is not set: the PostgreSQL ledger tests must run in CI")
        pytest.skip(f"set {POSTGRES_ENV}=postgresql://... to run the PostgreSQL ledger tests")
    return url


def fresh_target(backend: str, tmp_path: Path) -> str:
    """A ledger location with nothing in it yet."""
    if backend == "sqlite":
        return str(tmp_path / "ledger.db")
    url = postgres_url()
    sql(url, f"DROP TABLE IF EXISTS {', '.join(TABLES)}")
    return url


def sql(target: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the ledger's database directly, as someone editing it by hand would."""
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            cursor = conn.execute(statement.replace("?", "%s").encode(), params)
            return list(cursor.fetchall()) if cursor.description else []
    db = sqlite3.connect(target, isolation_level=None)
    try:
        return db.execute(statement, params).fetchall()
    finally:
        db.close()


@contextmanager
def postgres_role(url: str, prefix: str) -> Iterator[str]:
    """A new login role on the test server; yields ``url`` logging in as it. The role and its privileges are
    dropped afterwards."""
    role = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)  # in case the server asks for one
    sql(url, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    try:
        yield urllib.parse.urlunsplit(parts._replace(netloc=f"{role}:{password}@{host}"))
    finally:
        sql(url, f"DROP OWNED BY {role}")
        sql(url, f"DROP ROLE {role}")
