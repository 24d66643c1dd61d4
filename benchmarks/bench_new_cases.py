"""Bundled law, every request a new case: decisions per second through ``check_many`` on a fresh ``Rules``.

    python benchmarks/bench_new_cases.py [--n 50000] [--passes 3]

Each request varies the fields and facts the rules read (element, recipient, purpose, date, signer, what
the request sets forth, flags), and duplicates are dropped, so no request meets a cached case. A fresh
``Rules`` per pass (loading is not timed), with the batch frozen out of the garbage collector as the peer
harness freezes its requests, and again without. Then reads every decision's ``missing``/``trace`` of a sample,
to show the full decision is there on access, and times that separately.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import disclosure_rules  # noqa: E402


def requests(n: int, seed: int = 20251121) -> list[dict[str, Any]]:
    rules = disclosure_rules.load()
    vocabulary = rules.vocabulary
    values = {name: list(vocabulary.enums[name].values) for name in ("element", "agency", "purpose", "official")}
    forth = ["taxpayer_name", "taxpayer_address", "taxable_periods", "statutory_authority", "specific_reasons"]
    base = json.loads((ROOT / "examples" / "irs-ice-address-request.json").read_text())
    rnd = random.Random(seed)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    while len(out) < n:
        request = json.loads(json.dumps(base))
        request.update(
            element=rnd.choice(values["element"]),
            recipient=rnd.choice(values["agency"]),
            purpose=rnd.choice(values["purpose"]),
            date=f"{rnd.choice((2024, 2025, 2026))}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
        )
        facts = request["facts"]
        facts["request"]["signed_by"] = rnd.choice(values["official"])
        facts["request"]["sets_forth"] = [f for f in forth if rnd.random() < 0.8]
        facts["request"]["in_writing"] = rnd.random() < 0.9
        facts["matter"]["specific_statute"] = rnd.random() < 0.9
        facts["use"]["solely_for_matter"] = rnd.random() < 0.9
        text = json.dumps(request, sort_keys=True)
        if text not in seen:
            seen.add(text)
            out.append(request)
    return out


def _rate(batch: list[dict[str, Any]], keep: list[Any] | None = None) -> float:
    """Decisions per second through ``check_many`` on a fresh ``Rules`` (loading not timed)."""
    rules = disclosure_rules.load()
    start = time.perf_counter()
    decisions = list(rules.check_many(batch))
    rate = len(batch) / (time.perf_counter() - start)
    if keep is not None:
        keep[:] = decisions
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    batch = requests(args.n)
    # Timed twice: with the batch in the garbage collector's view, then frozen out of it, as the peer harness
    # (../shared/bench) freezes its loaded requests. The batch is the caller's; with a stream (check --jsonl)
    # it is never all in memory, and every full collection would otherwise walk it.
    unfrozen = [_rate(batch) for _ in range(args.passes)]
    gc.collect()
    gc.freeze()
    rates = [_rate(batch) for _ in range(args.passes)]
    # The decisions of one more pass, untimed, for reading their explanations: a pass's decisions kept while
    # the next is timed would be more for the collector to walk.
    decisions: list[Any] = []
    _rate(batch, decisions)
    distinct = len({id(d) for d in decisions})
    start = time.perf_counter()
    for d in decisions[:5_000]:
        d.missing, d.trace, d.chain  # noqa: B018 - the lazy parts, read
    explain = 5_000 / (time.perf_counter() - start)
    print(f"bundled law, {len(batch):,} requests ({distinct:,} distinct decisions), check_many on a fresh Rules:")
    print("  decisions/s per pass: " + ", ".join(f"{r:,.0f}" for r in rates) + f" (best {max(rates):,.0f})")
    print(
        "  the same, the batch not frozen out of the garbage collector: "
        + ", ".join(f"{r:,.0f}" for r in unfrozen)
        + f" (best {max(unfrozen):,.0f})"
    )
    print(f"  reading missing/trace/chain afterwards: {explain:,.0f} decisions/s")


if __name__ == "__main__":
    main()
