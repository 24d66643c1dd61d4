"""Who may do what to a ledger in PostgreSQL: the SQL that makes a writer append-only and a reader read-only.

``disclosure-rules ledger grants --writer ROLE --reader ROLE`` prints it; docs/ledger.md explains it. The
writer gets exactly what appending needs (``Ledger.append`` and opening a ledger of the current schema), so a
process that records decisions can neither change nor remove a record, nor read the ledger back.
"""

from __future__ import annotations

import re

from .store import latest_schema_version

TABLES = ("ledger_meta", "ledger_head", "requests", "decisions", "records")
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_$]{0,62}$")


def identifier(name: str) -> str:
    """A role or schema name as SQL: as written if PostgreSQL would read it unchanged, else double-quoted."""
    return name if _PLAIN_NAME.match(name) else '"' + name.replace('"', '""') + '"'


def grants_sql(*, writer: str | None, reader: str | None, schema: str = "public") -> str:
    """The GRANT and REVOKE statements for a ledger's tables in ``schema``, in one transaction.

    Re-running them resets the two roles' privileges to these. Run them as the tables' owner: an owner keeps
    every privilege whatever is granted, so the owner should be a role no application logs in as.
    """
    if writer is None and reader is None:
        raise ValueError("name a writer role, a reader role, or both")
    roles = [identifier(r) for r in (writer, reader) if r is not None]
    space = identifier(schema)
    every = ", ".join(f"{space}.{t}" for t in TABLES)
    lines = [
        f"-- Privileges on a disclosure-rules ledger (schema version {latest_schema_version('postgres')}) "
        f"in schema {space}.",
        "-- Run as the owner of its tables (the role that ran `disclosure-rules ledger init`), e.g.",
        "--   psql -v ON_ERROR_STOP=1 -d DATABASE -f grants.sql",
        f"-- The roles must exist first: {' '.join(f'CREATE ROLE {r} LOGIN;' for r in roles)}",
        "BEGIN;",
        "-- Nobody but the owner keeps any other privilege: no UPDATE, DELETE or TRUNCATE for anyone.",
        f"REVOKE ALL ON {every} FROM PUBLIC, {', '.join(roles)};",
        f"GRANT USAGE ON SCHEMA {space} TO {', '.join(roles)};",
    ]
    if writer is not None:
        lines += _writer(identifier(writer), space)
    if reader is not None:
        lines += [
            f"-- {identifier(reader)} verifies and reports: it reads every table and writes none.",
            f"GRANT SELECT ON {every} TO {identifier(reader)};",
        ]
    return "\n".join([*lines, "COMMIT;"]) + "\n"


def _writer(role: str, space: str) -> list[str]:
    return [
        f"-- {role} appends: it reads the schema version and the head, inserts records and the documents they",
        "-- name (SELECT on sha alone, which INSERT ... ON CONFLICT (sha) DO NOTHING needs), and moves the head.",
        "-- It can neither change nor remove a record, nor read the ledger back.",
        f"GRANT SELECT ON {space}.ledger_meta TO {role};",
        f"GRANT SELECT, UPDATE (seq, hash) ON {space}.ledger_head TO {role};",
        f"GRANT SELECT (sha), INSERT ON {space}.requests, {space}.decisions TO {role};",
        f"GRANT INSERT ON {space}.records TO {role};",
    ]
