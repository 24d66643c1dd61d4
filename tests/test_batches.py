"""Issue 11: batches beyond one core: pickled rules, `check --jobs`, data frames, Dask, CSV and Parquet."""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import disclosure_rules
from disclosure_rules import checker
from disclosure_rules.cli import main
from disclosure_rules.diagnostics import LoadError
from disclosure_rules.integrations.parallel import chunked, ordered_map

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
FLAT = ROOT / "examples" / "flat"
COLUMNS = json.loads((FLAT / "columns.json").read_text())


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.BytesIO(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# -- pickling ---------------------------------------------------------------------------------------------------


def test_rules_pickle_by_content_and_decide_the_same(tmp_path: Path) -> None:
    rules = disclosure_rules.load(ROOT / "rules")
    data = pickle.dumps(rules)
    checker._UNPICKLED.clear()
    again = pickle.loads(data)
    assert again.info.hash == rules.info.hash
    request = json.loads((ROOT / "examples" / "irs-ice-address-request.json").read_text())
    assert again.check(request) == rules.check(request)
    assert pickle.loads(data) is again  # loaded once per process


def test_bundled_rules_pickle_as_their_hash() -> None:
    rules = disclosure_rules.load()
    assert len(pickle.dumps(rules)) < 1_000
    checker._UNPICKLED.clear()
    assert pickle.loads(pickle.dumps(rules)).info.hash == rules.info.hash


def test_a_differing_hash_fails_loudly() -> None:
    checker._UNPICKLED.clear()
    with pytest.raises(LoadError, match="content hash"):
        checker._unpickle_rules(None, "sha256:" + "0" * 64, disclosure_rules.__version__, 10)
    with pytest.raises(LoadError, match=r"pickled by disclosure-rules 0\.0\.0"):
        checker._unpickle_rules(None, "sha256:" + "0" * 64, "0.0.0", 10)


def test_rules_built_without_load_refuse_to_pickle() -> None:
    rules = disclosure_rules.load()
    bare = disclosure_rules.Rules(rules.book)
    with pytest.raises(TypeError, match="load"):
        pickle.dumps(bare)


# -- --jobs -------------------------------------------------------------------------------------------------------


def _mission(tmp_path: Path, n: int) -> Path:
    path = tmp_path / "m.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gen_mission_requests.py"), str(path), "--n", str(n)],
        check=True,
        capture_output=True,
    )
    with open(path, "ab") as f:  # an invalid line and an over-long number of keys: errors keep their numbers
        f.write(b'{"date": 1}\n')
        f.write(b"not json\n")
    return path


def _timeless(result: tuple[int, str, str]) -> tuple[int, str, str]:
    """The batch summary says how long the run took, which differs from run to run."""
    code, out, err = result
    return code, out, re.sub(r" in [0-9.]+ s: ", " in T s: ", err)


@pytest.mark.parametrize("extra", [[], ["--format", "text"], ["--trace"]])
def test_jobs_give_the_same_output_messages_and_exit_code(tmp_path: Path, extra: list[str]) -> None:
    path = _mission(tmp_path, 5_000)
    one = _timeless(run("check", "--jsonl", str(path), *extra))
    two = _timeless(run("check", "--jsonl", str(path), "--jobs", "3", *extra))
    assert one == two
    assert "disclosure-rules: 5,002 requests in T s: " in one[2]
    assert one[0] == 1 and f"{path}:5001:" in one[2]


def test_jobs_with_columns(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_bytes((FLAT / "rows.jsonl").read_bytes() * 2_000)
    one = _timeless(run("check", "--jsonl", str(rows), "--columns", str(FLAT / "columns.json")))
    two = _timeless(run("check", "--jsonl", str(rows), "--columns", str(FLAT / "columns.json"), "--jobs", "2"))
    assert one == two and one[0] == 1


def test_jobs_usage() -> None:
    assert run("check", "--jsonl", "x", "--jobs", "0")[0] == 4
    assert run("check", "x.json", "--jobs", "2")[0] == 4
    code, _, err = run("check", "--jsonl", "x", "--jobs", "2", "--ledger", "l.db")
    assert code == 4 and "--ledger" in err


def _slow(_: None) -> Callable[[tuple[int, list[int]]], int]:
    def work(chunk: tuple[int, list[int]]) -> int:
        time.sleep(0.05)
        return sum(chunk[1])

    return work


def test_ordered_map_keeps_order_and_bounds_memory() -> None:
    produced = []

    def items() -> Iterator[int]:
        for i in range(200):
            produced.append(i)
            yield i

    results = []
    for got in ordered_map(chunked(items(), 10), _slow, None, jobs=2, in_flight=3):
        results.append(got)
        assert len(produced) <= 10 * (len(results) + 3)  # the reader never runs far ahead of the writer
    assert results == [sum(range(i, i + 10)) for i in range(0, 200, 10)]


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: no pgrep needed)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker processes through /proc")
def test_a_killed_worker_is_reported_never_a_missing_line(tmp_path: Path) -> None:
    """Kill a worker mid-run: the run says so, exits 71, and every line it wrote is in order with none missing."""
    path = _mission(tmp_path, 60_000)
    process = subprocess.Popen(
        [sys.executable, "-m", "disclosure_rules", "check", "--jsonl", str(path), "--jobs", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    children: list[int] = []

    def kill_a_worker() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not children:
            children.extend(_children(process.pid))
            time.sleep(0.05)
        if children:
            os.kill(children[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    out, err = process.communicate(timeout=300)
    killer.join()
    assert children, "no worker process was found to kill"
    assert process.returncode == 71, err.decode()
    assert b"died (killed by signal 9)" in err
    lines = out.splitlines()
    expected = subprocess.run(
        [sys.executable, "-m", "disclosure_rules", "check", "--jsonl", str(path)], capture_output=True
    ).stdout.splitlines()
    assert lines == expected[: len(lines)] and len(lines) < len(expected)
    assert f"first {len(lines):,} lines".encode() in err


# -- tables: CSV and Parquet ----------------------------------------------------------------------------------------


def _csv(tmp_path: Path) -> Path:
    rows = [json.loads(line) for line in (FLAT / "rows.jsonl").read_text().splitlines()][:4]
    header = list(COLUMNS)
    lines = [",".join(header)]
    for row in rows:
        cells = []
        for name in header:
            value = row[name]
            if isinstance(value, list):
                value = ";".join(value)
            elif isinstance(value, bool):
                value = str(value).lower()
            cells.append(f'"{value}"')
        lines.append(",".join(cells))
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_in_and_out_names_the_row_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    code, out, err = run("check", "--columns", str(FLAT / "columns.json"), "--input", str(path))
    assert code == 1
    assert f"{path}: row 4: $.request_signed_by: error[unknown_value]" in err
    lines = out.splitlines()
    assert lines[0].endswith(",decision,status,rule,reason")
    assert ",permit,permitted,irc-6103-i-2," in lines[1]
    assert ",deny,error,," in lines[4]


def test_a_missing_column_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("element\naddress\n")
    code, _, err = run("check", "--columns", str(FLAT / "columns.json"), "--input", str(path))
    assert code == 4 and "no column `disclosed_on`" in err


def test_parquet_in_and_out(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    rows = [json.loads(line) for line in (FLAT / "rows.jsonl").read_text().splitlines()][:4]
    pd.DataFrame(rows).to_parquet(tmp_path / "rows.parquet")
    code, _, err = run(
        "check",
        "--columns",
        str(FLAT / "columns.json"),
        "--input",
        str(tmp_path / "rows.parquet"),
        "--output",
        str(tmp_path / "out.parquet"),
    )
    assert code == 1 and "row 4: $.request_signed_by" in err
    got = pd.read_parquet(tmp_path / "out.parquet")
    assert list(got["decision"]) == ["permit", "deny", "deny", "deny"]
    assert list(got["status"]) == ["permitted", "prohibited", "prohibited", "error"]
    assert list(got["request_sets_forth"].map(list)) == [r["request_sets_forth"] for r in rows]


# -- pandas and Dask ------------------------------------------------------------------------------------------------


def _frame(n: int = 1) -> pd.DataFrame:
    pytest.importorskip("pandas")
    import pandas as pd

    rows = [json.loads(line) for line in (FLAT / "rows.jsonl").read_text().splitlines()][:4]
    frame = pd.DataFrame(rows * n).astype({"personally_engaged": object})
    frame.loc[1, "personally_engaged"] = None  # absent
    frame.index = frame.index * 7 + 3
    return frame


def test_decide_frame_matches_row_by_row() -> None:
    frame = _frame(5)
    rules = disclosure_rules.load()
    decided = rules.records(COLUMNS).decide_frame(frame, missing=True)
    assert list(decided.index) == list(frame.index)
    one = rules.records(COLUMNS)
    for index, row in zip(frame.index, frame.to_dict("records"), strict=True):
        row = {k: v for k, v in row.items() if v is not None}
        decision = one.check(row)
        got = decided.loc[index]
        assert (got["decision"], got["status"], got["rule"]) == (decision.decision, decision.status, decision.rule)
        assert got["reason"].startswith(decision.reason)
    assert "personally_engaged" in decided.loc[10, "missing"] or decided.loc[10, "missing"]


def test_decide_frame_refuses_a_missing_column() -> None:
    frame = _frame()
    with pytest.raises(disclosure_rules.ColumnsError, match="no column `statute`"):
        disclosure_rules.load().records(COLUMNS).decide_frame(frame.drop(columns=["statute"]))


def test_dask_on_two_worker_processes_matches_one_process(tmp_path: Path) -> None:
    pytest.importorskip("dask.dataframe")
    pytest.importorskip("pyarrow")
    import pandas as pd

    distributed = pytest.importorskip("distributed")
    import dask
    import dask.dataframe as dd

    from disclosure_rules.dask import decide

    frame = _frame(50)
    rules = disclosure_rules.load(ROOT / "rules")  # pickled by content, not as the bundled hash
    want = rules.records(COLUMNS).decide_frame(frame)
    added = ["decision", "status", "rule", "reason"]
    # Dask turns object columns into strings by default, and a list (a set of values) into its repr.
    with (
        dask.config.set({"dataframe.convert-string": False}),
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        decided = decide(dd.from_pandas(frame, npartitions=4), rules, COLUMNS)
        got = decided.compute()
        # The added columns are typed, so Parquet can hold them (Dask cannot type the frame's own object columns).
        decided[added].to_parquet(tmp_path / "decided")
    assert list(got.index) == list(want.index)
    assert got[added].equals(want[added].astype("string"))
    assert list(pd.read_parquet(tmp_path / "decided")["rule"].astype(object).fillna("-")) == list(
        want["rule"].fillna("-")
    )
