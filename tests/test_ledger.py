"""The accounting ledger: what a record holds, the chain, verify catching each kind of edit, reports, the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, cast

import pytest

from disclosure_rules import Rules
from disclosure_rules.cli import EXIT_BAD_INPUT, EXIT_LEDGER, EXIT_LEDGER_BROKEN, EXIT_PERMIT, EXIT_USAGE, main
from disclosure_rules.ledger import (
    Entry,
    Envelope,
    LedgerError,
    accounting,
    canonical_json,
    counts,
    open_ledger,
    request_doc,
    verify,
)
from disclosure_rules.ledger.canonical import Uuid7, record_body
from disclosure_rules.ledger.sqlite import SqliteStore
from disclosure_rules.ledger.store import latest_schema_version, migrations
from disclosure_rules.render.json import render_json

from .conftest import EXAMPLES, ROOT
from .ledger_helpers import fresh_target, postgres_role, sql

PERMIT = EXAMPLES / "irs-ice-address-request.json"
DENY = EXAMPLES / "irs-ice-address-request-signed-by-assistant-director.json"


def run(*argv: str, stdin: bytes = b"") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def request(name: Path = PERMIT) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(name.read_text()))


def fill(target: str, bundled: Rules, n: int = 6) -> None:
    with open_ledger(target) as ledger:
        items = [Envelope(request(PERMIT if i % 2 else DENY), f"r{i}", f"p{i % 3}") for i in range(n)]
        list(ledger.check_many(bundled, items, batch=4))


def test_record_body_is_canonical_json() -> None:
    for label in (None, "A-1", 'quote " back \\ slash', "é\u2028\x00"):
        fields: dict[str, Any] = dict(
            seq=12,
            decision_id="01234567-89ab-7def-8123-456789abcdef",
            recorded_at="2026-01-02T03:04:05.006Z",
            request_hex="ab" * 32,
            decision_hex="cd" * 32,
            request_id=label,
            subject=label,
        )
        document = {k: v for k, v in fields.items() if k not in ("request_hex", "decision_hex")}
        document.update(request=fields["request_hex"], decision=fields["decision_hex"], v=1)
        assert record_body(**fields) == canonical_json(document)


def test_decision_ids_are_uuid7_and_increase() -> None:
    make = Uuid7()
    ids = [make(1_700_000_000_000) for _ in range(1000)] + make.many(1_700_000_000_000, 500)
    ids += [make(1_700_000_000_001), *make.many(1_699_999_999_999, 3)]  # a clock going back keeps the order
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(i[14] == "7" and i[19] in "89ab" for i in ids)
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)
    assert {uuid.UUID(i).int >> 80 for i in ids[-4:]} == {1_700_000_000_001}


def test_decision_ids_count_across_the_variant_bits() -> None:
    # The counter's low 62 bits sit after the variant bits: a batch that carries out of them is formatted in
    # two runs, and still counts up by one.
    make = Uuid7()
    make(5)
    make._counter = (3 << 62) - 3
    ids = make.many(5, 6)
    counters = [(uuid.UUID(i).int >> 64 & 0xFFF) << 62 | (uuid.UUID(i).int & (1 << 62) - 1) for i in ids]
    assert counters == list(range((3 << 62) - 2, (3 << 62) + 4))
    assert ids == sorted(ids) and all(uuid.UUID(i).version == 7 and i[19] in "89ab" for i in ids)


def test_migrations_are_numbered_and_match() -> None:
    assert latest_schema_version("sqlite") == latest_schema_version("postgres") >= 1
    assert all(statements for _, statements in migrations("sqlite"))


def test_a_subject_never_decides(target: str, bundled: Rules) -> None:
    """The subject is what an accounting is looked up by; the same request about two people, or about nobody
    named, is decided alike."""
    with open_ledger(target) as ledger:
        decided = [render_json(ledger.check(bundled, request(), subject=s)) for s in ("person-1", "person-2", None)]
    assert decided[0] == decided[1] == decided[2]


def test_a_checked_request_is_recorded_with_everything_the_issue_lists(target: str, bundled: Rules) -> None:
    with open_ledger(target) as ledger:
        decision = ledger.check(bundled, request(), request_id="A-1", subject="person-1")
    assert decision.decision == "permit"
    (row,) = sql(target, "SELECT seq, decision_id, recorded_at, request_id, subject, prev_hash, hash FROM records")
    assert row[0] == 1 and row[1][14] == "7" and row[2].endswith("Z") and row[3:5] == ("A-1", "person-1")
    assert bytes(row[5]) == bytes(32) and len(bytes(row[6])) == 32
    (body,) = sql(target, "SELECT body FROM requests")
    assert body[0] == canonical_json(request())
    (doc,) = sql(target, "SELECT body, status, rule, ruleset_hash FROM decisions")
    stored = json.loads(doc[0])
    assert doc[1:] == ("permitted", "irc-6103-i-2", decision.ruleset.hash if decision.ruleset else None)
    assert stored["obligations"] and stored["citations"] and "trace" not in stored
    assert verify(open_ledger(target, readonly=True)).intact


def test_a_batch_that_failed_is_written_whole_the_next_time(
    target: str, bundled: Rules, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A writer remembers what records of one entry share, and which documents it stored: a batch rolled back
    # must not leave it believing that the documents of that batch are in the ledger.
    entries = [Entry(request_doc(request(name)), bundled.check(request(name))) for name in (PERMIT, DENY)]
    with open_ledger(target) as ledger:
        insert = ledger.store.insert

        def fail(*args: Any) -> None:
            insert(*args)
            raise LedgerError("the disk is full")

        monkeypatch.setattr(ledger.store, "insert", fail)
        with pytest.raises(LedgerError):
            ledger.append(entries)
        monkeypatch.undo()
        ledger.append(entries)
        ledger.append(entries[::-1])
        assert verify(ledger).records == 4 and verify(ledger).intact
    assert sql(target, "SELECT COUNT(*) FROM requests")[0][0] == 2


def test_an_older_sqlite_with_fewer_parameters_still_appends(tmp_path: Path, bundled: Rules) -> None:
    # Before SQLite 3.32, a statement took at most 999 parameters: 111 records, not the 256 the ledger prefers.
    with open_ledger(tmp_path / "l.db") as ledger:
        store = ledger.store
        assert isinstance(store, SqliteStore)
        store._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        items = [Envelope(request(), subject="s" if i % 3 else None) for i in range(700)]
        assert len(list(ledger.check_many(bundled, items, batch=700))) == 700
        assert verify(ledger).records == 700 and verify(ledger).intact


def test_a_new_ledger_file_is_private(tmp_path: Path, bundled: Rules) -> None:
    umask = os.umask(0o022)
    try:
        with open_ledger(tmp_path / "new.db") as ledger:
            ledger.check(bundled, request())
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    finally:
        os.umask(umask)
    assert modes == {"new.db": 0o600, "new.db-wal": 0o600, "new.db-shm": 0o600}
    # A file made beforehand (say 0640, for a group of readers) keeps its mode.
    made = tmp_path / "made.db"
    made.touch(mode=0o640)
    made.chmod(0o640)
    with open_ledger(made) as ledger:
        ledger.check(bundled, request())
    assert stat.S_IMODE(made.stat().st_mode) == 0o640
    code, out, _ = run("ledger", "init", str(tmp_path / "init.db"))
    assert code == EXIT_PERMIT and out.endswith(
        f": ready: schema version {latest_schema_version('sqlite')}, 0 records\n"
    )
    assert stat.S_IMODE((tmp_path / "init.db").stat().st_mode) == 0o600 & ~umask
    assert run("ledger", "init", str(made))[1].endswith(" 1 records\n")


def test_documents_are_stored_once(target: str, bundled: Rules) -> None:
    fill(target, bundled, n=10)
    assert sql(target, "SELECT COUNT(*) FROM records")[0][0] == 10
    assert sql(target, "SELECT COUNT(*) FROM requests")[0][0] == 2
    assert sql(target, "SELECT COUNT(*) FROM decisions")[0][0] == 2


TAMPERING = {
    "a changed decision": ("UPDATE decisions SET status = 'permitted', decision = 'permit'", 1),
    "a changed decision text": ("UPDATE decisions SET body = replace(body, 'deny', 'permit')", 1),
    "a changed request": ("UPDATE requests SET body = replace(body, 'ICE', 'DOJ')", 1),
    "a changed subject": ("UPDATE records SET subject = 'someone else' WHERE seq = 3", 3),
    "a deleted row": ("DELETE FROM records WHERE seq = 3", 4),
    "a deleted tail": ("DELETE FROM records WHERE seq = 6", None),
    "a deleted request": ("DELETE FROM requests", 1),
    "an inserted row": ("UPDATE records SET seq = seq + 10 WHERE seq > 4", 15),
    "a swapped pair": (
        "UPDATE records SET seq = CASE seq WHEN 2 THEN 3 WHEN 3 THEN 2 END WHERE seq IN (2, 3)",
        2,
    ),
}


@pytest.mark.parametrize("edit", sorted(TAMPERING))
def test_verify_catches_each_edit(target: str, bundled: Rules, edit: str) -> None:
    fill(target, bundled)
    code, out, _ = run("ledger", "verify", target)
    assert code == EXIT_PERMIT and "intact: 6 records" in out
    statement, first_bad = TAMPERING[edit]
    if edit == "a swapped pair":  # through a free number: the seq column is a primary key
        sql(target, "UPDATE records SET seq = 100 WHERE seq = 2")
        sql(target, "UPDATE records SET seq = 2 WHERE seq = 3")
        sql(target, "UPDATE records SET seq = 3 WHERE seq = 100")
    else:
        sql(target, statement)
    code, out, _ = run("ledger", "verify", target, "--format", "json")
    result = json.loads(out)
    assert code == EXIT_LEDGER_BROKEN and not result["intact"], result
    assert result["problem"]["seq"] == first_bad, result
    code, out, _ = run("ledger", "verify", target)
    assert "NOT INTACT" in out


def test_verify_checks_an_anchor(target: str, bundled: Rules) -> None:
    fill(target, bundled)
    with open_ledger(target, readonly=True) as ledger:
        result = verify(ledger)
    assert run("ledger", "verify", target, "--anchor", f"6:{result.last_hash}")[0] == EXIT_PERMIT
    assert run("ledger", "verify", target, "--anchor", f"6:{'0' * 64}")[0] == EXIT_LEDGER_BROKEN
    assert run("ledger", "verify", target, "--anchor", f"7:{result.last_hash}")[0] == EXIT_LEDGER_BROKEN
    assert run("ledger", "verify", target, "--anchor", "6:xyz")[0] == EXIT_USAGE


def test_reports(target: str, bundled: Rules) -> None:
    fill(target, bundled)
    with open_ledger(target, readonly=True) as ledger:
        rows = list(accounting(ledger, "p1"))
        everything = list(accounting(ledger, "p1", include_denials=True))
        by_route = counts(ledger, "route")
        none = counts(ledger, "recipient", since="2026-01-01")
    assert [r.request_id for r in rows] == ["r1"] and len(everything) == 2
    assert rows[0].recipient == "ICE" and rows[0].rule == "irc-6103-i-2" and "6103(i)(2)" in rows[0].citations
    assert {c.key: (c.permitted, c.denied) for c in by_route} == {"irc-6103-a": (0, 3), "irc-6103-i-2": (3, 0)}
    assert none == []
    code, out, _ = run("ledger", "report", target, "--subject", "p1", "--format", "csv")
    assert code == 0 and next(iter(csv.DictReader(io.StringIO(out))))["purpose"] == "nontax_criminal_investigation"
    code, out, _ = run("ledger", "report", target, "--by", "recipient", "--since", "2025-01-01", "--format", "json")
    assert json.loads(out)["counts"] == [{"recipient": "ICE", "permitted": 3, "denied": 3, "total": 6}]
    code, out, _ = run("ledger", "report", target, "--by", "holder")
    assert out.splitlines()[-1].split() == ["total", "3", "3", "6"]
    assert run("ledger", "report", target, "--by", "holder", "--since", "June")[0] == EXIT_USAGE


def test_cli_records_single_requests_and_jsonl_with_envelopes(tmp_path: Path) -> None:
    db = str(tmp_path / "l.db")
    code, out, _ = run("check", str(PERMIT), "--ledger", db, "--subject", "s1", "--request-id", "q1")
    assert code == EXIT_PERMIT and out.startswith("PERMIT")
    lines = [
        json.dumps({"request": request(), "id": "q2", "subject": "s1"}),
        json.dumps(request(DENY)),
        "not json",
        json.dumps({"request": request(), "subject": 7}),
        json.dumps({"request": request(), "extra": 1}),
    ]
    code, out, err = run("check", "--jsonl", "-", "--ledger", db, stdin="\n".join(lines).encode() + b"\n")
    assert code == EXIT_BAD_INPUT and len(out.splitlines()) == 5
    assert "bad_envelope" in err
    with open_ledger(db, readonly=True) as ledger:
        assert verify(ledger).records == 6
        assert [r.request_id for r in accounting(ledger, "s1")] == ["q1", "q2"]
    (raw,) = sql(db, "SELECT q.body FROM records r JOIN requests q ON q.sha = r.request_sha WHERE r.seq = 4")
    assert json.loads(raw[0]) == "not json"


def test_cli_usage_errors(tmp_path: Path) -> None:
    assert run("check", str(PERMIT), "--subject", "s")[0] == EXIT_USAGE
    db = str(tmp_path / "l.db")
    assert run("check", "--jsonl", "-", "--ledger", db, "--subject", "s")[0] == EXIT_USAGE
    assert run("ledger")[0] == EXIT_USAGE
    assert run("ledger", "report", db)[0] == EXIT_USAGE


def test_a_missing_or_foreign_ledger_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = run("ledger", "verify", str(tmp_path / "none.db"))
    assert code == EXIT_LEDGER and "does not exist" in err
    other = tmp_path / "other.db"
    sql(str(other), "CREATE TABLE t (x)")
    code, _, err = run("check", str(PERMIT), "--ledger", str(other))
    assert code == EXIT_LEDGER and "not a disclosure-rules ledger" in err
    (tmp_path / "text.db").write_text("hello, this is not a database at all" * 100)
    code, out, err = run("check", str(PERMIT), "--ledger", str(tmp_path / "text.db"))
    assert code == EXIT_LEDGER and out == "" and "Traceback" not in err


def test_a_newer_schema_is_refused(tmp_path: Path, bundled: Rules) -> None:
    db = str(tmp_path / "l.db")
    fill(db, bundled, 1)
    sql(db, "UPDATE ledger_meta SET value = '999'")
    with pytest.raises(LedgerError, match="schema version 999"):
        open_ledger(db)


def test_grants_sql_names_roles_as_postgresql_reads_them() -> None:
    code, out, _ = run("ledger", "grants", "--writer", "ledger_writer", "--reader", 'Audit "R"', "--schema", "led")
    assert code == EXIT_PERMIT and out.startswith("-- ") and out.endswith("COMMIT;\n")
    assert "GRANT INSERT ON led.records TO ledger_writer;" in out
    assert 'TO "Audit ""R""";' in out and "UPDATE (seq, hash)" in out
    assert not any(word in out for word in ("UPDATE ON", "DELETE ON", "TRUNCATE ON"))
    assert "ledger_writer" not in run("ledger", "grants", "--reader", "r")[1]
    assert run("ledger", "grants")[0] == EXIT_USAGE


def test_the_docs_show_the_grants_as_printed() -> None:
    page = (ROOT / "docs" / "ledger.md").read_text()
    shown = page.split("`ledger grants` prints", 1)[1].split("```sql\n", 1)[1].split("```", 1)[0]
    assert shown == run("ledger", "grants", "--writer", "ledger_writer", "--reader", "ledger_reader")[1]


def test_an_append_only_writer_appends_and_a_reader_verifies(tmp_path: Path) -> None:
    url = fresh_target("postgres", tmp_path)
    import psycopg

    assert run("ledger", "init", url)[0] == EXIT_PERMIT  # as the owner
    with postgres_role(url, "ledger_writer") as writer, postgres_role(url, "ledger_reader") as reader:
        roles = [urllib.parse.urlsplit(u).username or "" for u in (writer, reader)]
        code, grants, _ = run("ledger", "grants", "--writer", roles[0], "--reader", roles[1])
        sql(url, grants)
        code, out, err = run("check", str(PERMIT), "--ledger", writer, "--subject", "s1")
        assert code == EXIT_PERMIT, err
        lines = (json.dumps(request(name)) for name in (PERMIT, DENY) * 3)
        code, out, err = run("check", "--jsonl", "-", "--ledger", writer, stdin="\n".join(lines).encode())
        assert code == 2 and len(out.splitlines()) == 6, err
        code, out, _ = run("ledger", "verify", reader)
        assert code == EXIT_PERMIT and "intact: 7 records" in out
        assert run("ledger", "report", reader, "--subject", "s1")[0] == EXIT_PERMIT
        for statement in (
            "UPDATE records SET subject = 'someone else'",
            "DELETE FROM records",
            "TRUNCATE records",
            "UPDATE decisions SET status = 'permitted'",
            "DELETE FROM requests",
            "SELECT body FROM requests",
            "DROP TABLE records",
        ):
            with pytest.raises(psycopg.Error, match=r"permission denied|must be owner"):
                sql(writer, statement)
        for statement in ("INSERT INTO ledger_meta VALUES ('x', 'y')", "UPDATE ledger_head SET seq = 0"):
            with pytest.raises(psycopg.Error, match="permission denied"):
                sql(reader, statement)
        code, _, err = run("check", str(PERMIT), "--ledger", reader)
        assert code == EXIT_LEDGER and "permission denied" in err
    assert run("ledger", "verify", url)[0] == EXIT_PERMIT
