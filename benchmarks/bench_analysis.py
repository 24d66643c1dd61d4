"""How long ``disclosure-rules analyze`` (each check) and ``diff --on`` take on the bundled law.

    python benchmarks/bench_analysis.py [--timeout 600] [--check reach ...] [--skip-diff] [--jobs 2]

Each check runs in a process of its own (as a user runs it: cold, through the command line), with a time
limit; a check that does not finish within it is reported as such, never as a time. Then every check
together, as one ``analyze`` (with ``--jobs``, shared by that many processes). The issue's budget is 60 s
for every check together and 10 s for a ``diff --on`` of two dates, on a 2-core machine. The load
average before and after is printed beside the figures, since the machine these run on is often shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("reach", "conflict", "vacuous", "unknowns", "errors")
DIFFS = (("2025-11-20", "2025-11-22"), ("2026-02-04", "2026-02-06"))


def timed(argv: list[str], limit: float) -> tuple[str, float, int | None]:
    """The outcome ("done" or "over the limit"), the seconds it took and the exit code."""
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        return "over the limit", time.perf_counter() - started, None
    return "done", time.perf_counter() - started, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds allowed for each run")
    parser.add_argument("--check", action="append", choices=CHECKS, help="only this check (repeatable)")
    parser.add_argument("--skip-diff", action="store_true", help="do not time `diff --on`")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the run of every check together")
    args = parser.parse_args()
    command = [sys.executable, "-m", "disclosure_rules"]
    print(f"load before: {os.getloadavg()[0]:.2f}")
    total = 0.0
    for check in args.check or CHECKS:
        outcome, seconds, code = timed([*command, "analyze", "--check", check], args.timeout)
        total += seconds
        print(f"analyze --check {check:<9} {outcome:>15}  {seconds:7.1f} s  exit {code}")
    print(f"the checks one by one, summed {'':>11}  {total:7.1f} s")
    if not args.check:
        argv = [*command, "analyze", "--jobs", str(args.jobs)]
        outcome, seconds, code = timed(argv, args.timeout)
        print(f"analyze --jobs {args.jobs}, every check {outcome:>10}  {seconds:7.1f} s  exit {code}  (budget 60 s)")
    if not args.skip_diff:
        for before, after in DIFFS:
            argv = [*command, "diff", "--on", before, "--on", after]
            outcome, seconds, code = timed(argv, args.timeout)
            print(f"diff --on {before} --on {after} {outcome:>15}  {seconds:7.1f} s  exit {code}  (budget 10 s)")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
