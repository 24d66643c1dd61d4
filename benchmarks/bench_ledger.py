"""What the ledger costs: ``check --jsonl`` on the mission batch with and without ``--ledger``.

    python benchmarks/bench_ledger.py [--n 1280000] [--runs 2] [--output file|null]

Generates the batch once with ``gen_mission_requests.py`` (into ``/tmp/disclosure-rules-bench/``), then times,
in fresh processes, the CLI writing JSON decisions to a file (``--output file``, the default) or to /dev/null,
without a ledger and with a new SQLite ledger, and ``ledger verify`` on the result. Prints a Markdown table:
the times (best of ``--runs``), the ratio, and the ledger's size per record.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_DIR = Path(tempfile.gettempdir()) / "disclosure-rules-bench"


def mission_batch(n: int) -> Path:
    path = BENCH_DIR / f"mission-{n}.jsonl"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        subprocess.run([sys.executable, str(HERE / "gen_mission_requests.py"), str(partial), "--n", str(n)], check=True)
        partial.rename(path)
    return path


def timed(argv: list[str], output: Path) -> float:
    with output.open("wb") as out:
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "disclosure_rules", *argv], stdout=out)
        elapsed = time.perf_counter() - start
    if result.returncode not in (0, 2):
        raise SystemExit(f"{argv} exited with {result.returncode}")
    return elapsed


def ledger_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_280_000, help="lines in the batch (default: 1,280,000)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each measurement; the best is reported")
    parser.add_argument("--output", choices=("file", "null"), default="file", help="where the decisions go")
    args = parser.parse_args()
    batch = mission_batch(args.n)
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-", dir=BENCH_DIR))
    output = work / "out.jsonl" if args.output == "file" else Path("/dev/null")
    plain, recorded, verified = [], [], []
    size = 0
    for run in range(args.runs):
        plain.append(timed(["check", "--jsonl", str(batch)], output))
        db = work / f"ledger-{run}.db"
        recorded.append(timed(["check", "--jsonl", str(batch), "--ledger", str(db)], output))
        size = ledger_bytes(db)
        verified.append(timed(["ledger", "verify", str(db)], work / "verify.txt"))
        for path in work.glob(db.name + "*"):
            path.unlink()
    best_plain, best_recorded = min(plain), min(recorded)
    where = "a file" if args.output == "file" else "/dev/null"
    print(f"| measurement ({args.n:,} lines, decisions to {where}) | result |")
    print("|---|---:|")
    print(f"| `check --jsonl` without a ledger | {best_plain:.2f} s |")
    print(f"| `check --jsonl --ledger file.db` (new SQLite ledger) | {best_recorded:.2f} s |")
    print(f"| ratio | **{best_recorded / best_plain:.2f}×** |")
    print(f"| ledger size | {size / 1e6:.1f} MB, {size / args.n:.0f} bytes per record |")
    print(f"| `ledger verify` | {min(verified):.2f} s |")
    print(f"(runs: without {', '.join(f'{t:.2f}' for t in plain)}; with {', '.join(f'{t:.2f}' for t in recorded)})")


if __name__ == "__main__":
    main()
