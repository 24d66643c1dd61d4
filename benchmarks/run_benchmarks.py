"""Measure disclosure-rules: check_many throughput, the CLI on a 1.2-million-line JSON Lines file, memory.

    python benchmarks/run_benchmarks.py [--peer-bench ../shared/bench] [--cli-lines 1200000] [--work DIR]

Prints a Markdown table. What is measured:

* ``check_many`` on the peer benchmark's 200,000 requests (``../shared/bench/gen_requests.py``, the same
  seed the peers use), parsed from JSON: through ``Rules.records`` (the flat peer dict read by a column
  mapping, as the peer harness does) and, for comparison, nested by a Python function first. The first
  pass on a fresh ``Rules`` (every distinct case is decided in full once: "cold") and the median of five
  later passes (every case already decided: "warm"). If zen-engine is installed in this Python, its
  ``compile_expression`` runs on the same requests in the same process, for the ratio.
* ``check_many`` on 200,000 IRS-to-ICE (i)(2) requests with the bundled law (few distinct cases).
* ``disclosure-rules check --jsonl`` on a file of 1.2 million such requests (the size of the list ICE
  matched), in a fresh process, against ``json.loads`` alone on the same file (the issue's yardstick): output
  to /dev/null and to a file; and the peak resident memory of the CLI process. Twice: on a batch file, whose lines
  repeat (the CLI decides each distinct line once), and on the same requests with the keys of every object
  shuffled so that almost no line repeats (every line parsed and checked).

The peers themselves are measured by ``../shared/bench/run.sh`` with ``benchmarks/engine_disclosure_rules.py``
plugged in (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import engine_disclosure_rules  # noqa: E402
import gen_mission_requests  # noqa: E402
import gen_new_cases  # noqa: E402

import disclosure_rules  # noqa: E402


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class Checker(Protocol):
    def check(self, request: Any) -> Any: ...
    def check_many(self, requests: Iterable[Any]) -> Iterator[Any]: ...


def throughput(checker: Checker, requests: list[Any], passes: int = 5) -> dict[str, float]:
    """Decisions per second of ``checker``: its first pass (cold), later passes (warm), and ``check``."""

    def one_pass() -> None:
        for _ in checker.check_many(requests):
            pass

    cold = timed(one_pass)
    warm = statistics.median(timed(one_pass) for _ in range(passes))
    single = statistics.median(timed(lambda: [checker.check(r) for r in requests]) for _ in range(3))
    n = len(requests)
    return {"n": n, "cold": n / cold, "warm": n / warm, "single": n / single}


class Nested:
    """The peer requests nested into this project's request shape by a Python function, then checked."""

    def __init__(self, rules: disclosure_rules.Rules) -> None:
        self.rules = rules

    @staticmethod
    def convert(r: dict[str, Any]) -> dict[str, Any]:
        facts = {k: r[k] for k in ("written_request_by_head", "court_order", "statute_is_tax", "taxpayer_consent")}
        return {k: r[k] for k in ("date", "element", "origin", "holder", "recipient", "purpose")} | {"facts": facts}

    def check(self, request: Any) -> Any:
        return self.rules.check(self.convert(request))

    def check_many(self, requests: Iterable[Any]) -> Iterator[Any]:
        return self.rules.check_many(map(self.convert, requests))


def against_zen(bench: Path, checker: Checker, requests: list[Any], passes: int = 7) -> tuple[float, float] | None:
    """Warm ``check_many`` and zen-engine's ``compile_expression`` on the same requests, passes interleaved
    (the machine's speed drifts), each the median pass; None if zen-engine is not installed here."""
    try:
        import engine_zen_compiled  # type: ignore[import-not-found]
    except ImportError:
        return None
    evaluate = engine_zen_compiled.load(str(bench / "policy"))
    ours, zen = [], []
    for _ in range(passes):
        ours.append(timed(lambda: [d.decision for d in checker.check_many(requests)]))
        zen.append(timed(lambda: [evaluate(r) for r in requests]))
    n = len(requests)
    return n / statistics.median(ours), n / statistics.median(zen)


def peer_requests(bench: Path, n: int) -> tuple[list[dict[str, Any]], str]:
    """The peers' requests, parsed from JSON lines as the harness parses them (orjson if installed)."""
    sys.path.insert(0, str(bench))
    import gen_requests  # type: ignore[import-not-found]

    try:
        import orjson  # type: ignore[import-not-found]

        loads, parser = orjson.loads, "orjson"
    except ImportError:
        loads, parser = json.loads, "json"
    return [loads(json.dumps(r)) for r in gen_requests.generate(n)], parser


def mission_requests(n: int) -> list[dict[str, Any]]:
    import datetime
    import random

    rnd = random.Random(20250807)
    first = datetime.date(2025, 8, 1)
    days = [first + datetime.timedelta(days=i) for i in range(300)]
    return [json.loads(json.dumps(gen_mission_requests.request(rnd, rnd.choice(days)))) for _ in range(n)]


def json_floor(path: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
    return time.perf_counter() - start


MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "with open(sys.argv[1], 'wb') as out:\n"
    "    code = subprocess.run(sys.argv[2:], stdout=out).returncode\n"
    "elapsed = time.perf_counter() - start\n"
    "print(code, elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def run_cli(args: list[str], output: str) -> tuple[int, float, float]:
    result = subprocess.run([sys.executable, "-c", MEASURE, output, *args], capture_output=True, text=True, check=True)
    code, elapsed, maxrss_kb = result.stdout.split()
    return int(code), float(elapsed), int(maxrss_kb) / 1024


def cli_rows(args: argparse.Namespace, rows: list[tuple[str, str]], distinct: bool) -> None:
    """The CLI on the 1.2-million-line file, against json.loads alone on the same file.

    With ``distinct``, the keys of every object are shuffled, so (almost) every line differs and none
    is decided from the line cache: the cost of parsing and checking every line.
    """
    kind = "distinct" if distinct else "batch"
    data = args.work / f"mission-{args.cli_lines}-{kind}.jsonl"
    if not data.exists():
        generate = [sys.executable, str(HERE / "gen_mission_requests.py"), str(data), "--n", str(args.cli_lines)]
        subprocess.run(generate + (["--distinct"] if distinct else []), check=True)
    with open(data, "rb") as f:
        lines = len(set(f))
    floor = min(json_floor(data) for _ in range(2))
    cli = [sys.executable, "-m", "disclosure_rules", "check", "--jsonl", str(data)]
    to_null, rss_null = min(run_cli(cli, os.devnull)[1:] for _ in range(2))
    out_file = str(args.work / "decisions.jsonl")
    _, to_file, rss_file = run_cli(cli, out_file)
    size = os.path.getsize(out_file) / 1e9
    os.remove(out_file)
    _, text_file, _ = run_cli([*cli, "--format", "text"], out_file)
    os.remove(out_file)
    what = f"{args.cli_lines:,} lines, {lines:,} distinct"
    rows.append((f"json.loads alone on the {kind} file ({what}): the yardstick", f"{floor:.1f} s"))
    rows.append(
        (f"CLI `check --jsonl`, {kind} file, JSON decisions to /dev/null", f"{to_null:.1f} s ({to_null / floor:.2f}×)")
    )
    rows.append(
        (
            f"CLI `check --jsonl`, {kind} file, JSON decisions to a file ({size:.1f} GB)",
            f"{to_file:.1f} s ({to_file / floor:.2f}×)",
        )
    )
    rows.append(
        (f"CLI `check --jsonl --format text`, {kind} file, to a file", f"{text_file:.1f} s ({text_file / floor:.2f}×)")
    )
    rows.append((f"CLI peak resident memory, {kind} file", f"{max(rss_null, rss_file):.0f} MB"))


def new_case_rows(args: argparse.Namespace, rows: list[tuple[str, str]], n: int = 100_000) -> None:
    """A stream where nearly every line is a new case: the slow path every time, and the memory bound."""

    rules = disclosure_rules.load()
    data = args.work / f"new-cases-{n}.jsonl"
    gen_new_cases.write_new_cases(data, n, 20251121, rules.vocabulary)
    cli = [sys.executable, "-m", "disclosure_rules", "check", "--jsonl", str(data)]
    _, elapsed, rss = run_cli(cli, os.devnull)
    rows.append(
        (
            f"CLI on {n:,} lines that are nearly all new cases (every line validated, decided, explained)",
            f"{n / elapsed:,.0f} lines/s",
        )
    )
    rows.append(("CLI peak resident memory on that stream (every cache full)", f"{rss:.0f} MB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-bench", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--peer-n", type=int, default=200_000)
    parser.add_argument("--cli-lines", type=int, default=1_200_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/disclosure-rules-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str]] = []

    if (args.peer_bench / "gen_requests.py").exists():
        requests, parsed_by = peer_requests(args.peer_bench, args.peer_n)
        gc.collect()
        gc.freeze()
        rules = disclosure_rules.load(HERE / "policy")
        records = rules.records(engine_disclosure_rules.COLUMNS)
        r = throughput(records, requests)
        rows.append(
            ("records `check_many`, peer policy, 200k peer requests, cold (first pass)", f"{r['cold']:,.0f} /s")
        )
        rows.append(("records `check_many`, peer policy, warm (median of 5 passes)", f"{r['warm']:,.0f} /s"))
        rows.append(("records `check`, peer policy, warm", f"{r['single']:,.0f} /s"))
        rows.append(("distinct cases among the peer requests", f"{len(rules._cache):,.0f}"))
        r = throughput(Nested(disclosure_rules.load(HERE / "policy")), requests)
        rows.append(("nested `check_many` (each request converted by a Python function), warm", f"{r['warm']:,.0f} /s"))
        compared = against_zen(args.peer_bench, records, requests)
        if compared is not None:
            ours, zen = compared
            rows.append(
                (
                    f"records `check_many`, warm, interleaved with zen (requests parsed by {parsed_by})",
                    f"{ours:,.0f} /s",
                )
            )
            rows.append(("zen-engine `compile_expression`, same requests, same process", f"{zen:,.0f} /s"))
            rows.append(("records `check_many` / zen", f"{ours / zen:.2f}×"))
        del requests
        gc.unfreeze()
        gc.collect()

    requests = mission_requests(200_000)
    gc.collect()
    gc.freeze()
    rules = disclosure_rules.load()
    r = throughput(rules, requests)
    rows.append(("check_many, bundled law, 200k (i)(2) requests, cold", f"{r['cold']:,.0f} /s"))
    rows.append(("check_many, bundled law, warm", f"{r['warm']:,.0f} /s"))
    rows.append(("distinct cases among them", f"{len(rules._cache):,.0f}"))
    del requests
    gc.unfreeze()
    gc.collect()

    cli_rows(args, rows, distinct=False)
    cli_rows(args, rows, distinct=True)
    new_case_rows(args, rows)

    print(f"Measured {time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| measurement | result |\n|---|---:|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
