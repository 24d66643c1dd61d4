"""What the ledger costs: ``check --jsonl`` on the mission batch with and without ``--ledger``.

    python benchmarks/bench_ledger.py [--n 1280000] [--runs 1] [--output file|null] [--ledger-url postgresql://...]

Generates the batch once with ``gen_mission_requests.py`` (into ``/tmp/disclosure-rules-bench/``), then times,
in fresh processes, the CLI writing JSON decisions to a file (``--output file``, the default) or to /dev/null,
without a ledger and with a new ledger, and ``ledger verify`` on the result. The ledger is a new SQLite file, or
with ``--ledger-url`` a PostgreSQL database: each run gets a schema of its own there (dropped afterwards), so
nothing else in that database is touched. Prints a Markdown table: the times (best of ``--runs``), the ratio,
the ledger's size per record, and the machine's load before and after (``uptime``). Everything it writes is
removed at the end, but the batch.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_DIR = Path(tempfile.gettempdir()) / "disclosure-rules-bench"
POSTGRES_TABLES = ("records", "requests", "decisions", "ledger_head", "ledger_meta")


def mission_batch(n: int) -> Path:
    path = BENCH_DIR / f"mission-{n}.jsonl"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        subprocess.run([sys.executable, str(HERE / "gen_mission_requests.py"), str(partial), "--n", str(n)], check=True)
        partial.rename(path)
    return path


def timed(argv: list[str], output: Path) -> tuple[float, float]:
    """The wall-clock time of the CLI run with ``argv``, and its processor time (user and system): on a
    shared machine the second varies less. A PostgreSQL server's own time is in neither."""
    with output.open("wb") as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "disclosure_rules", *argv], stdout=out)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 2):
        raise SystemExit(f"{argv} exited with {result.returncode}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def sqlite_size(target: str) -> int:
    db = Path(target)
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def with_search_path(url: str, schema: str) -> str:
    """``url`` with its tables looked up, and created, in ``schema`` (libpq's ``options``)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query.append(("options", f"-c search_path={schema}"))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, quote_via=urllib.parse.quote)))


def postgres(url: str, statement: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement.encode())
        return list(cursor.fetchall()) if cursor.description else []


def postgres_size(url: str, schema: str) -> int:
    names = ", ".join(f"'{schema}.{table}'" for table in POSTGRES_TABLES)
    rows = postgres(url, f"SELECT sum(pg_total_relation_size(t::regclass)) FROM unnest(ARRAY[{names}]) AS t")
    return int(str(rows[0][0]))


def measure(args: argparse.Namespace, batch: Path, work: Path, output: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in ("plain", "plain_cpu", "recorded", "recorded_cpu", "verified")}
    times["size"] = []
    for run in range(args.runs):
        wall, cpu = timed(["check", "--jsonl", str(batch)], output)
        times["plain"].append(wall)
        times["plain_cpu"].append(cpu)
        if args.ledger_url:
            schema = f"disclosure_rules_bench_{os.getpid()}_{run}"
            postgres(args.ledger_url, f"CREATE SCHEMA {schema}")
            target = with_search_path(args.ledger_url, schema)
        else:
            target = str(work / f"ledger-{run}.db")
        try:
            wall, cpu = timed(["check", "--jsonl", str(batch), "--ledger", target], output)
            times["recorded"].append(wall)
            times["recorded_cpu"].append(cpu)
            times["verified"].append(timed(["ledger", "verify", target], work / "verify.txt")[0])
            times["size"].append(postgres_size(args.ledger_url, schema) if args.ledger_url else sqlite_size(target))
        finally:
            if args.ledger_url:
                postgres(args.ledger_url, f"DROP SCHEMA {schema} CASCADE")
            else:
                for path in work.glob(Path(target).name + "*"):
                    path.unlink()
    return times


def report(args: argparse.Namespace, times: dict[str, list[float]], before: str, after: str) -> None:
    plain, recorded = min(times["plain"]), min(times["recorded"])
    plain_cpu, recorded_cpu = min(times["plain_cpu"]), min(times["recorded_cpu"])
    size = times["size"][-1]
    where = "a file" if args.output == "file" else "/dev/null"
    kind = "PostgreSQL (new schema)" if args.ledger_url else "new SQLite file"
    print(f"| measurement ({args.n:,} lines, decisions to {where}) | result |")
    print("|---|---:|")
    print(f"| `check --jsonl` without a ledger: wall clock (processor) | {plain:.2f} s ({plain_cpu:.2f} s) |")
    print(f"| `check --jsonl --ledger` ({kind}) | {recorded:.2f} s ({recorded_cpu:.2f} s) |")
    print(f"| ratio | **{recorded / plain:.2f}×** ({recorded_cpu / plain_cpu:.2f}×) |")
    print(f"| ledger size | {size / 1e6:.1f} MB, {size / args.n:.0f} bytes per record |")
    print(f"| `ledger verify` | {min(times['verified']):.2f} s |")
    print()
    runs = {k: ", ".join(f"{t:.2f}" for t in v) for k, v in times.items() if k != "size"}
    print(f"runs, wall clock: without {runs['plain']}; with {runs['recorded']}")
    print(f"runs, processor: without {runs['plain_cpu']}; with {runs['recorded_cpu']}")
    print(f"load before: {before}")
    print(f"load after:  {after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_280_000, help="lines in the batch (default: 1,280,000)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each measurement; the best is reported")
    parser.add_argument("--output", choices=("file", "null"), default="file", help="where the decisions go")
    parser.add_argument("--ledger-url", metavar="URL", help="a postgresql:// database to record in instead of SQLite")
    args = parser.parse_args()
    batch = mission_batch(args.n)
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-", dir=BENCH_DIR))
    output = work / "out.jsonl" if args.output == "file" else Path("/dev/null")
    try:
        before = load()
        times = measure(args, batch, work, output)
        after = load()
    finally:
        shutil.rmtree(work)  # the decisions alone are 1.8 KB a line: 2.3 GB for the full batch
    report(args, times, before, after)


if __name__ == "__main__":
    main()
