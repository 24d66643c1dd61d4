"""The mission's batch through the CLI: 1.28 million IRS-to-ICE address requests, each line with its own `id`,
42,695 of them setting forth a ZIP code and no address (as the D.D.C. found), against `json.loads` alone.

    python benchmarks/bench_mission_batch.py [--n 1280000] [--zip-only 42695] [--verify 20000]

Writes the file once to the temporary directory. Times, each in a fresh process: `json.loads` of every line
(the yardstick), `disclosure-rules check --jsonl FILE` with its output to /dev/null, and to a file. Then
verifies the decisions written to the file: one line per request, in order, each with its request's id;
every line that set forth only a ZIP code denied; and a sample of lines decided again, one at a time and
without any cache (`Rules.decide_uncached`), giving the same document.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import json,sys\nwith open(sys.argv[1],'rb') as f:\n    for line in f: json.loads(line)\n"


def _timed(command: list[str], stdout: object) -> float:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    done = subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, env=env, check=False)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1, 2):
        raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def _verify(data: Path, output: Path, sample: int) -> str:
    sys.path.insert(0, str(ROOT))
    import disclosure_rules
    from disclosure_rules.render.json import render_json

    rules = disclosure_rules.load(cache_size=0)
    chosen = set(random.Random(7).sample(range(sum(1 for _ in data.open("rb"))), sample))
    lines = zip_only = redecided = 0
    with data.open("rb") as requests, output.open("rb") as decisions:
        for number, (request_line, decision_line) in enumerate(zip(requests, decisions, strict=True)):
            request, decision = json.loads(request_line), json.loads(decision_line)
            assert decision["id"] == request["id"], f"line {number + 1}: the id is not echoed"
            if "zip_code_only" in request["facts"]["request"]["sets_forth"]:
                zip_only += 1
                assert decision["decision"] == "deny", f"line {number + 1}: a ZIP code is not an address"
            if number in chosen:
                alone = render_json(rules.decide_uncached(request), trace=False, indent=None)
                assert json.loads(alone) == decision, f"line {number + 1}: differs when decided alone"
                redecided += 1
            lines += 1
    return (
        f"{lines:,} lines, ids in order; {zip_only:,} ZIP-only requests all denied; {redecided:,} decided again alike"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_280_000)
    parser.add_argument("--zip-only", type=int, default=42_695)
    parser.add_argument("--verify", type=int, default=20_000, help="how many lines to decide again alone")
    args = parser.parse_args()
    folder = Path(tempfile.gettempdir()) / "disclosure-rules-bench"
    folder.mkdir(exist_ok=True)
    data = folder / f"mission-ids-{args.n}-{args.zip_only}.jsonl"
    if not data.exists():
        generator = ROOT / "benchmarks" / "gen_mission_requests.py"
        subprocess.run(
            [sys.executable, str(generator), str(data), "--n", str(args.n), "--ids", "--zip-only", str(args.zip_only)],
            check=True,
        )
    size = data.stat().st_size / 2**20
    floor = _timed([sys.executable, "-c", FLOOR, str(data)], subprocess.DEVNULL)
    cli = [sys.executable, "-m", "disclosure_rules", "check", "--jsonl", str(data)]
    to_null = _timed(cli, subprocess.DEVNULL)
    output = folder / "mission-ids-decisions.jsonl"
    with output.open("wb") as sink:
        to_file = _timed(cli, sink)
    print(f"{args.n:,} lines ({size:,.0f} MB), an id per line, {args.zip_only:,} setting forth only a ZIP code:")
    print(f"  json.loads of every line (the yardstick): {floor:.2f} s")
    print(f"  check --jsonl, output to /dev/null: {to_null:.2f} s ({to_null / floor:.2f}x json.loads)")
    out_size = output.stat().st_size / 2**20
    print(f"  check --jsonl, output to a file ({out_size:,.0f} MB): {to_file:.2f} s ({to_file / floor:.2f}x)")
    print(f"  verified: {_verify(data, output, args.verify)}")
    output.unlink()


if __name__ == "__main__":
    main()
