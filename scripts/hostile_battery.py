"""The hostile-input battery of issue 9 at scale: the generators of ``tests/hostile.py``, run from a seed.

    nice python scripts/hostile_battery.py                       # 10^6 requests, 10^4 rule-file mutations
    python scripts/hostile_battery.py --requests 20000 --mutations 200 --streams 20 --seed 7   # a quick run

Each test counts what it tried, how many failed, and the outcome of each try; the table at the end is the
result, and the exit code is 1 if anything failed. The tests:

requests      each fuzzed request through ``check`` (cached, after its neighbours), ``check_many``,
              ``check_json`` on a JSON line made from it (sometimes a bad one) and the uncached path; a
              failure is any disagreement, an exception, or an invalid request permitted
streams       JSON Lines streams of those lines through the command line (in process, over the same rules):
              one record per line, in order, each the decision of its line; the documented exit code
soundness     three-valued logic: a permit (or a prohibition) with a fact unknown stays one for every value
mutations     rule directories with one file mutated: each loads or fails with a LoadError whose every error
              is positioned, within 1 s of processor time (every 50th under tracemalloc, within 200 MB);
              no YAML payload runs
threads       8 threads share one ``Rules`` (with a small cache) and decide as one thread does
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import random
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import disclosure_rules
from disclosure_rules import Decision, LoadError, Rules
from disclosure_rules.cli import EXIT_BAD_INPUT, EXIT_DENY, EXIT_PERMIT, _placed_in_file
from disclosure_rules.cli import main as cli_main
from disclosure_rules.reading.jsontext import JsonInputError, loads_strict
from disclosure_rules.render.json import render_json
from tests import hostile


class Tally:
    """Tries, failures (the first few kept) and outcome counts of one test."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tried = 0
        self.failures = 0
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.examples: list[str] = []
        self.seconds = 0.0

    def fail(self, what: str) -> None:
        self.failures += 1
        if len(self.examples) < 5:
            self.examples.append(what[:500])


def strict(rules: Rules, line: bytes) -> Decision:
    try:
        return rules.decide_uncached(loads_strict(line))
    except JsonInputError as exc:
        return rules.invalid([exc.diagnostic])


def outcome(decision: Decision) -> str:
    return decision.status if decision.status != "error" else f"error:{decision.errors[0].code}"


def run_requests(
    rules: Rules, count: int, rnd: random.Random, tally: Tally, stream_lines: list[bytes], stream_limit: int
) -> None:
    chunk: list[Any] = []
    expected: list[Decision] = []
    for _ in range(count):
        request = hostile.fuzz_request(rules.vocabulary, rnd)
        tally.tried += 1
        try:
            want = rules.decide_uncached(request)
            got = rules.check(request)
            tally.outcomes[outcome(want)] += 1
            if got != want:
                tally.fail(f"check differs from the uncached path: {request!r:.300}")
            if got.decision == "permit" and (want.status == "error" or got.status != "permitted"):
                tally.fail(f"WRONG PERMIT: {request!r:.300}")
            line = hostile.json_line(request, rnd)
            if rules.check_json(line) != strict(rules, line):
                tally.fail(f"check_json differs: {line!r:.300}")
            if len(stream_lines) < stream_limit:
                stream_lines.append(line)
        except Exception as exc:  # an exception escaping the library is a failure, never a crash of the battery
            tally.fail(f"{type(exc).__name__}: {exc} on {request!r:.300}")
            continue
        chunk.append(request)
        expected.append(want)
        if len(chunk) == 1_000:
            if list(rules.check_many(chunk)) != expected:
                tally.fail("check_many differs from the uncached path in a chunk of 1,000")
            chunk.clear()
            expected.clear()


def run_streams(rules: Rules, lines: list[bytes], per_stream: int, tally: Tally) -> None:
    for start in range(0, len(lines), per_stream):
        part = lines[start : start + per_stream]
        decisions = [strict(rules, line) for line in part]
        out, err = io.StringIO(), io.StringIO()
        with mock.patch("disclosure_rules.cli.load", return_value=rules):
            code = cli_main(
                ["check", "--jsonl", "-"], stdin=io.BytesIO(b"\n".join(part) + b"\n"), stdout=out, stderr=err
            )
        tally.tried += 1
        records = [json.loads(line) for line in out.getvalue().splitlines()]
        wanted = []
        for number, decision in enumerate(decisions, start=1):
            # A syntax error is placed in the stream as the command places it: at its line and column there.
            decision = _placed_in_file(rules, decision, number, "<stdin>")
            doc = json.loads(render_json(decision, trace=False, indent=None))
            wanted.append({"line": number, **doc} if decision.status == "error" else doc)
        documented = (
            EXIT_BAD_INPUT
            if any(d.status == "error" for d in decisions)
            else EXIT_DENY
            if any(d.decision != "permit" for d in decisions)
            else EXIT_PERMIT
        )
        tally.outcomes[f"exit {code}"] += 1
        tally.outcomes["lines"] += len(part)
        if records != wanted:
            tally.fail(f"stream at line {start + 1}: records differ from the lines' decisions")
        if code != documented:
            tally.fail(f"stream at line {start + 1}: exit {code}, documented {documented}")
        if "internal error" in err.getvalue():
            tally.fail(f"stream at line {start + 1}: {err.getvalue()[:300]}")


def run_soundness(rules: Rules, count: int, rnd: random.Random, tally: Tally) -> None:
    for _ in range(count):
        probe = hostile.three_valued_probe(rules, rnd)
        if probe is None:
            tally.outcomes["no valid request drawn"] += 1
            continue
        request, path, values = probe
        before = rules.check(request)
        tally.tried += 1
        tally.outcomes[before.status] += 1
        if before.status not in ("permitted", "prohibited"):
            continue
        for value in values:
            after = rules.check(hostile.with_fact(request, path, value))
            if after.status not in (before.status, "error"):
                tally.fail(f"{before.status} with {path} unknown, {after.status} with {value!r}: {request!r:.300}")


def run_mutations(count: int, rnd: random.Random, tally: Tally) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "rules"
        for i in range(count):
            name = hostile.mutated_rule_directory(directory, rnd)
            measure = i % 50 == 0
            tally.tried += 1
            if measure:
                tracemalloc.start()
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                rules = disclosure_rules.load(directory)
                for seed in hostile.SEEDS:
                    rules.check(seed)
                tally.outcomes["loaded"] += 1
            except LoadError as exc:
                codes = sorted({d.code for d in exc.diagnostics})
                tally.outcomes["load_error:" + codes[0]] += 1
                loose = [
                    d for d in exc.diagnostics if d.position is None and d.code not in ("no_rules", "no_vocabulary")
                ]
                if loose:
                    tally.fail(f"unpositioned error mutating {name}: {loose[0]}")
            except Exception as exc:
                tally.fail(f"{type(exc).__name__}: {exc} mutating {name}: {(directory / name).read_bytes()[:300]!r}")
            # The limit is on processor time: on a shared machine a niced run waits for the processor, and
            # that wait is not the load's. Ten seconds of waiting still fails (a load that blocks).
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            peak = tracemalloc.get_traced_memory()[1] if measure else 0
            if measure:
                tracemalloc.stop()
            tally.outcomes["slowest load, ms of processor time"] = max(
                tally.outcomes["slowest load, ms of processor time"], round(cpu * 1000)
            )
            if cpu > (4.0 if measure else 1.0) or elapsed > 10:
                tally.fail(f"{cpu:.2f} s of processor time ({elapsed:.2f} s) mutating {name}")
            if peak > 200 * 2**20:
                tally.fail(f"{peak / 2**20:.0f} MB mutating {name}")
            if Path(hostile.PWNED).exists():
                tally.fail(f"a YAML payload ran, mutating {name}")


def run_threads(rounds: int, rnd: random.Random, tally: Tally) -> None:
    for _ in range(rounds):
        rules = disclosure_rules.load(cache_size=50)
        requests = [hostile.fuzz_request(rules.vocabulary, rnd) for _ in range(300)]
        expected = [rules.decide_uncached(r) for r in requests]
        wrong: list[int] = []  # list.extend is atomic: the threads may share it

        def work(
            seed: float,
            rules: Rules = rules,
            requests: list[Any] = requests,
            expected: list[Decision] = expected,
            wrong: list[int] = wrong,
        ) -> None:
            order = list(range(len(requests)))
            random.Random(seed).shuffle(order)
            wrong.extend(i for i in order if rules.check(requests[i]) != expected[i])

        threads = [threading.Thread(target=work, args=(rnd.random(),)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tally.tried += 1
        tally.outcomes["decisions"] += 8 * len(requests)
        if wrong:
            tally.fail(f"{len(wrong)} decisions differ under threads")


def timed(tally: Tally, run: Callable[[], None]) -> Tally:
    started = time.perf_counter()
    run()
    tally.seconds = time.perf_counter() - started
    print(f"{tally.name}: {tally.tried:,} tried, {tally.failures:,} failed ({tally.seconds:.0f} s)", flush=True)
    return tally


def report(tallies: list[Tally]) -> None:
    print(f"\n{'test':<10} {'tried':>11} {'failures':>9} {'seconds':>8}  outcomes")
    for t in tallies:
        outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(t.outcomes.items(), key=lambda kv: -kv[1]))
        print(f"{t.name:<10} {t.tried:>11,} {t.failures:>9,} {t.seconds:>8.0f}  {outcomes}")
        for example in t.examples:
            print(f"    {example}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of the whole run: {peak:.0f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1_000_000, help="fuzzed requests (default 10^6)")
    parser.add_argument("--mutations", type=int, default=10_000, help="mutated rule directories (default 10^4)")
    parser.add_argument("--soundness", type=int, default=100_000, help="three-valued probes (default 10^5)")
    parser.add_argument("--stream-lines", type=int, default=10_000, help="lines per JSON Lines stream")
    parser.add_argument(
        "--streams", type=int, default=50, help="JSON Lines streams, of the requests' lines (default 50)"
    )
    parser.add_argument("--thread-rounds", type=int, default=20, help="rounds of 8 threads sharing one Rules")
    parser.add_argument("--seed", type=int, default=9, help="the seed of every generator")
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    rules = disclosure_rules.load(cache_size=10_000)
    for seed in hostile.SEEDS:
        rules.check(seed)  # every example's case cached: a fuzzed neighbour must not meet it
    lines: list[bytes] = []
    requests, streams, soundness, mutations, threads = (
        Tally(name) for name in ("requests", "streams", "soundness", "mutations", "threads")
    )
    tallies = [
        timed(
            requests,
            lambda: run_requests(rules, args.requests, rnd, requests, lines, args.streams * args.stream_lines),
        ),
        timed(
            streams, lambda: run_streams(rules, lines[: args.streams * args.stream_lines], args.stream_lines, streams)
        ),
        timed(soundness, lambda: run_soundness(rules, args.soundness, rnd, soundness)),
        timed(mutations, lambda: run_mutations(args.mutations, rnd, mutations)),
        timed(threads, lambda: run_threads(args.thread_rounds, rnd, threads)),
    ]
    report(tallies)
    return 1 if any(t.failures for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
