"""A cold `check` of one request: the wall-clock time of a fresh `disclosure-rules check` process.

    python benchmarks/bench_cold_start.py [--runs 20] [--request examples/irs-ice-address-request.json]

The first run fills the user cache (the rule book and its generated code, see `persist.py`) and Python's
bytecode cache; it is reported apart. The figure that matters is the median of the runs after it: what a
user sees on the second and every later call. Bytecode is written for this measurement even where the
environment says not to (`PYTHONDONTWRITEBYTECODE`), as an installed package has its bytecode.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _command(request: str) -> list[str]:
    script = shutil.which("disclosure-rules", path=str(Path(sys.executable).parent))
    return [script, "check", request] if script else [sys.executable, "-m", "disclosure_rules", "check", request]


def _once(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 0 permit, 1 deny
        raise SystemExit(f"check failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--request", default=str(ROOT / "examples" / "irs-ice-address-request.json"))
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = _command(args.request)
    first = _once(command, env)
    times = sorted(_once(command, env) for _ in range(args.runs))
    print(f"cold `check` of one request ({' '.join(Path(c).name for c in command[:2])} ...), {args.runs} runs:")
    print(f"  first run (fills the caches): {first * 1000:.0f} ms")
    print(
        f"  later runs: median {statistics.median(times) * 1000:.0f} ms, "
        f"best {times[0] * 1000:.0f} ms, worst {times[-1] * 1000:.0f} ms"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    print(f"  (the interpreter alone: {(time.perf_counter() - started) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
