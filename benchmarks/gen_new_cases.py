"""Write a JSON Lines file of requests that are nearly all new cases (the slow path on every line), as
``run_benchmarks.py`` makes them: the IRS-to-ICE example with its element, recipient, purpose, date and signing
official drawn at random.

    python benchmarks/gen_new_cases.py OUT.jsonl [--n 100000] [--seed 20251121]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import disclosure_rules
from disclosure_rules.rulebook.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parent.parent


def write_new_cases(path: Path, n: int, seed: int, vocabulary: Vocabulary) -> None:
    """``n`` requests, nearly all new cases, one JSON object a line."""
    values = {name: list(vocabulary.enums[name].values) for name in ("element", "agency", "purpose", "official")}
    base = json.loads((ROOT / "examples" / "irs-ice-address-request.json").read_text())
    rnd = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(n):
            request = json.loads(json.dumps(base))
            request.update(
                element=rnd.choice(values["element"]),
                recipient=rnd.choice(values["agency"]),
                purpose=rnd.choice(values["purpose"]),
                date=f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            )
            request["facts"]["request"]["signed_by"] = rnd.choice(values["official"])
            out.write(json.dumps(request) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20251121)
    args = parser.parse_args()
    write_new_cases(args.out, args.n, args.seed, disclosure_rules.load().vocabulary)


if __name__ == "__main__":
    main()
