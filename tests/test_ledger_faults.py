"""The faults the ledger must survive: a SIGKILL mid-batch, two writers at once, a full disk, a read-only ledger."""

from __future__ import annotations

import io
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from disclosure_rules.cli import EXIT_LEDGER, main
from disclosure_rules.ledger import canonical_json, open_ledger, verify
from disclosure_rules.ledger import sqlite as ledger_sqlite

from .conftest import ROOT
from .ledger_helpers import sql

GENERATOR = ROOT / "benchmarks" / "gen_mission_requests.py"


def batch(path: Path, n: int, *, subject: str | None = None, seed: int = 1) -> Path:
    subprocess.run([sys.executable, str(GENERATOR), str(path), "--n", str(n), "--seed", str(seed)], check=True)
    if subject is not None:
        lines = path.read_text().splitlines()
        path.write_text("".join(f'{{"request":{line},"subject":"{subject}"}}\n' for line in lines))
    return path


def cli(*argv: str) -> list[str]:
    return [sys.executable, "-m", "disclosure_rules", *argv]


def recorded(target: str) -> list[tuple[Any, ...]]:
    """(seq, request body, status, subject) of every record, in order."""
    return sql(
        target,
        "SELECT r.seq, q.body, d.status, r.subject FROM records r JOIN requests q ON q.sha = r.request_sha "
        "JOIN decisions d ON d.sha = r.decision_sha ORDER BY r.seq",
    )


def assert_intact(target: str) -> int:
    with open_ledger(target, readonly=True) as ledger:
        result = verify(ledger)
    assert result.intact, result.problem
    return result.records


def test_sigkill_mid_batch_loses_nothing_that_was_printed(target: str, tmp_path: Path) -> None:
    source = batch(tmp_path / "batch.jsonl", 100_000)
    output = tmp_path / "out.jsonl"
    with output.open("wb") as out:
        process = subprocess.Popen(cli("check", "--jsonl", str(source), "--ledger", target), stdout=out)
        deadline = time.monotonic() + 120
        while output.stat().st_size < 20_000_000 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the batch ended before it could be killed: make it longer"
    printed = [json.loads(line) for line in output.read_bytes().split(b"\n") if line.endswith(b"}")]
    count = assert_intact(target)
    assert 0 < len(printed) <= count < 100_000
    records = recorded(target)
    inputs = source.read_text().splitlines()
    for i, decision in enumerate(printed):
        seq, body, status, _ = records[i]
        assert seq == i + 1 and status == decision["status"]
        assert body == canonical_json(json.loads(inputs[i]))


def test_two_writers_make_one_chain(target: str, tmp_path: Path) -> None:
    sources = [batch(tmp_path / f"{s}.jsonl", 40_000, subject=s, seed=i) for i, s in enumerate("AB")]
    sent = sources[0].read_bytes()[:2_000_000]
    lines = sent[: sent.rindex(b"\n") + 1].splitlines(keepends=True)
    # A commits a line at a time (standard input), B a batch at a time (16,384 lines from a file). A writes
    # before B starts, while B writes, and (its last lines, held back until B is done) after: so the chain
    # must interleave them, and either could break it.
    a = subprocess.Popen(
        cli("check", "--jsonl", "-", "--ledger", target), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert a.stdin is not None
    first, during, last = lines[:500], lines[500:-200], lines[-200:]
    a.stdin.write(b"".join(first))
    a.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _has_records(target):
        time.sleep(0.05)
    b = subprocess.Popen(cli("check", "--jsonl", str(sources[1]), "--ledger", target), stdout=subprocess.DEVNULL)
    for start in range(0, len(during), 20):
        a.stdin.write(b"".join(during[start : start + 20]))
        a.stdin.flush()
        time.sleep(0.002)
    b.wait(timeout=300)
    a.stdin.write(b"".join(last))
    a.stdin.close()
    a.wait(timeout=300)
    assert (a.returncode, b.returncode) == (2, 2)
    assert assert_intact(target) == len(lines) + 40_000
    subjects = [r[3] for r in recorded(target)]
    assert subjects.count("A") == len(lines) and subjects.count("B") == 40_000
    changes = sum(1 for x, y in itertools.pairwise(subjects) if x != y)
    assert changes >= 2, "the two writers never interleaved: the test proves nothing"


def _has_records(target: str) -> bool:
    try:
        return bool(sql(target, "SELECT COUNT(*) FROM records")[0][0])
    except Exception:  # the first writer has not created the tables yet
        return False


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(b""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_a_full_disk_stops_before_printing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "l.db")
    source = batch(tmp_path / "batch.jsonl", 12_000)
    assert run("check", "--jsonl", str(source), "--ledger", db)[0] in (0, 2)
    pages = sql(db, "PRAGMA page_count")[0][0]
    connect = ledger_sqlite.SqliteStore._connect

    def full(self: ledger_sqlite.SqliteStore, path: Path, readonly: bool) -> sqlite3.Connection:
        conn = connect(self, path, readonly)
        conn.execute(f"PRAGMA max_page_count = {pages + 4}")  # SQLite's own "database or disk is full"
        return conn

    monkeypatch.setattr(ledger_sqlite.SqliteStore, "_connect", full)
    code, out, err = run("check", "--jsonl", str(source), "--ledger", db)
    assert code == EXIT_LEDGER and "full" in err and "Traceback" not in err
    monkeypatch.undo()
    count = assert_intact(db)
    assert count - 12_000 >= len(out.splitlines())
    # Once there is room again, the ledger goes on from where it was.
    code, out, err = run("check", str(ROOT / "examples" / "irs-ice-address-request.json"), "--ledger", db)
    assert code == 0 and assert_intact(db) == count + 1


def test_a_read_only_ledger_is_a_clear_error(target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = str(ROOT / "examples" / "irs-ice-address-request.json")
    assert run("check", example, "--ledger", target)[0] == 0
    if target.startswith("postgresql://"):
        read_only = target + "&options=" + urllib.parse.quote("-c default_transaction_read_only=on")
    else:
        read_only = target
        os.chmod(target, 0o444)
        if os.geteuid() == 0:  # root writes through file modes: open it as SQLite opens a file it may not write
            real = sqlite3.connect
            monkeypatch.setattr(sqlite3, "connect", lambda p, **kw: real(f"file:{p}?mode=ro", uri=True, **kw))
    for argv in (("check", example), ("check", "--jsonl", str(batch(tmp_path / "b.jsonl", 100)))):
        code, out, err = run(*argv, "--ledger", read_only)
        assert (code, out) == (EXIT_LEDGER, ""), err
        assert "read" in err.lower() and "Traceback" not in err
    monkeypatch.undo()
    assert assert_intact(target) == 1
