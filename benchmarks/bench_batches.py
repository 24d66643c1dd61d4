"""Batches beyond one core (issue 11): `check --jsonl --jobs 2` against one job, and Dask on two local worker
processes against one process, both on requests that are nearly all new cases (the slow path on every line).

    python benchmarks/bench_batches.py [--lines 40000] [--rows 1280000] [--repeat 2]

Needs the `dask` extra for the Dask half. Runs alternate (one job, two jobs, one job, ...) so that other work on
a shared machine weighs on both alike; each figure is the best of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def cli_jobs(lines: int, repeat: int) -> None:
    data = Path(tempfile.gettempdir()) / f"disclosure-rules-new-cases-{lines}.jsonl"
    if not data.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_new_cases.py"), str(data), "--n", str(lines)])
    best: dict[int, float] = {}
    for _ in range(repeat):
        for jobs in (1, 2):
            start = time.perf_counter()
            with open(os.devnull, "wb") as sink:
                subprocess.run(
                    [sys.executable, "-m", "disclosure_rules", "check", "--jsonl", str(data), "--jobs", str(jobs)],
                    stdout=sink,
                )
            elapsed = time.perf_counter() - start
            best[jobs] = min(best.get(jobs, elapsed), elapsed)
            print(f"--jobs {jobs}: {elapsed:.1f} s ({lines / elapsed:,.0f} lines/s)", flush=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"best: 1 job {best[1]:.1f} s, 2 jobs {best[2]:.1f} s: {best[1] / best[2]:.2f}x; peak RSS {peak:.0f} MB")


def frame(rows: int) -> Any:
    import pandas as pd

    import disclosure_rules

    vocabulary = disclosure_rules.load().vocabulary
    values = {name: list(vocabulary.enums[name].values) for name in ("element", "agency", "purpose", "official")}
    rnd = random.Random(20251121)
    return pd.DataFrame(
        {
            "disclosed_on": [f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}" for _ in range(rows)],
            "element": [rnd.choice(values["element"]) for _ in range(rows)],
            "holder": "IRS",
            "origin": "irs_records",
            "recipient": [rnd.choice(values["agency"]) for _ in range(rows)],
            "purpose": [rnd.choice(values["purpose"]) for _ in range(rows)],
            "request_in_writing": True,
            "request_signed_by": [rnd.choice(values["official"]) for _ in range(rows)],
            "statute": "8 U.S.C. § 1253(a)(1)",
            "specific_statute": True,
            "involves_tax_administration": False,
            "personally_engaged": True,
            "solely_for_matter": True,
        }
    )


def dask_workers(rows: int, repeat: int) -> None:
    """Dask on two local worker processes against one process, as a batch that outgrows one machine runs:
    each reads its rows from Parquet files (16 of them), decides them, and writes the decided rows to Parquet,
    so that no rows pass through the client. Both start cold (no case is cached)."""
    import shutil

    import dask.dataframe as dd
    import distributed
    import pandas as pd

    import disclosure_rules
    from disclosure_rules.dask import decide

    columns = json.loads((ROOT / "examples" / "flat" / "columns.json").read_text())
    columns.pop("request_sets_forth")
    folder = Path(tempfile.gettempdir()) / f"disclosure-rules-frame-{rows}"
    source = folder / "rows"
    if not source.exists():
        df = frame(rows)
        source.mkdir(parents=True)
        step = -(-rows // 16)
        for part, first in enumerate(range(0, rows, step)):
            df.iloc[first : first + step].to_parquet(source / f"part-{part:02d}.parquet", index=False)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c,
        distributed.Client(c) as client,
    ):
        for _ in range(repeat):
            for out in (folder / "one", folder / "two"):
                shutil.rmtree(out, ignore_errors=True)
            rules = disclosure_rules.load(cache_size=0)  # every run starts cold, as a new batch would
            start = time.perf_counter()
            one = rules.records(columns).decide_frame(pd.read_parquet(source))
            one.to_parquet(folder / "one", index=False)
            single = time.perf_counter() - start
            client.run(lambda: __import__("disclosure_rules.checker").checker._UNPICKLED.clear())
            client.run(lambda: __import__("disclosure_rules.integrations.dask").integrations.dask._CHECKERS.clear())
            start = time.perf_counter()
            decided = decide(dd.read_parquet(source), disclosure_rules.load(cache_size=0), columns)
            decided.to_parquet(folder / "two", name_function=lambda i: f"part-{i:02d}.parquet")
            spread = time.perf_counter() - start
            two = pd.read_parquet(folder / "two")
            for column in ("decision", "status", "rule", "reason"):
                assert list(two[column].astype(object).fillna("-")) == list(one[column].fillna("-")), column
            print(
                f"{rows:,} rows of new cases, Parquet in and out: one process {single:.1f} s, "
                f"Dask on 2 workers {spread:.1f} s: {single / spread:.2f}x (decisions checked equal)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=40_000)
    parser.add_argument("--rows", type=int, default=1_280_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()
    if not args.skip_cli:
        cli_jobs(args.lines, args.repeat)
    if not args.skip_dask:
        dask_workers(args.rows, args.repeat)


if __name__ == "__main__":
    main()
