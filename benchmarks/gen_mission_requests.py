"""Write a JSON Lines file of IRS-to-ICE address requests shaped like the 2025 batch.

    python benchmarks/gen_mission_requests.py OUT.jsonl [--n 1200000] [--seed 20250807]
        [--ids] [--zip-only 42695]

About 1.2 million people with final removal orders were matched against IRS records. Each line is one
(i)(2) request for one person, with the variation a real batch has: dates across 2025 and 2026 (before and
after the court orders), some requests signed by an assistant director, some setting forth only a ZIP
code, a few with a fact left out. Request lines differ (the date varies) but fall into few cases.

With ``--ids`` each line carries its own ``id`` (a person's number), so no two lines are the same text; with
``--zip-only N`` exactly N lines, chosen at random, set forth a ZIP code and no address, as the D.D.C. found
of 42,695 disclosures (Feb. 26, 2026), and every other line sets forth the address.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random

COMPLETE = ["taxpayer_name", "taxpayer_address", "taxable_periods", "statutory_authority", "specific_reasons"]
ZIP_ONLY = ["taxpayer_name", "zip_code_only", "taxable_periods", "statutory_authority", "specific_reasons"]


def request(rnd: random.Random, day: datetime.date, zip_only: bool | None = None) -> dict[str, object]:
    """One request; ``zip_only`` says whether it sets forth a ZIP code rather than the address (None: one
    request in ten does)."""
    facts: dict[str, object] = {
        "request": {
            "in_writing": True,
            "signed_by": rnd.choices(["agency_head", "assistant_director"], [0.8, 0.2])[0],
            "sets_forth": ZIP_ONLY if (rnd.random() >= 0.9 if zip_only is None else zip_only) else COMPLETE,
        },
        "matter": {"specific_statute": True, "involves_tax_administration": False, "statute": "8 U.S.C. § 1253(a)(1)"},
        "recipients": {"personally_engaged": True},
        "use": {"solely_for_matter": True},
    }
    if rnd.random() < 0.02:
        del facts["recipients"]
    return {
        "date": day.isoformat(),
        "element": "address",
        "holder": "IRS",
        "origin": ["irs_records"],
        "recipient": "ICE",
        "purpose": rnd.choices(["nontax_criminal_investigation", "civil_immigration_enforcement"], [0.9, 0.1])[0],
        "facts": facts,
    }


def shuffled(rnd: random.Random, value: object) -> object:
    """The same request with the keys of every object in random order: the same case, a different line."""
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: shuffled(rnd, v) for k, v in items}
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--n", type=int, default=1_200_000)
    parser.add_argument("--seed", type=int, default=20250807)
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="shuffle the order of keys in every object, so that (almost) every line is distinct",
    )
    parser.add_argument("--ids", action="store_true", help="give each line its own id")
    parser.add_argument("--zip-only", type=int, metavar="N", help="exactly N lines set forth a ZIP code, no address")
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    first = datetime.date(2025, 8, 1)
    days = [first + datetime.timedelta(days=i) for i in range(300)]
    zip_lines = set(rnd.sample(range(args.n), args.zip_only)) if args.zip_only is not None else None
    with open(args.out, "w", encoding="utf-8") as out:
        for number in range(args.n):
            zip_only = None if zip_lines is None else number in zip_lines
            # object, not dict: shuffled() may hand back any JSON value
            value: object = request(rnd, rnd.choice(days), zip_only)
            if args.ids:
                value = {"id": f"person-{number + 1:07d}", **value}  # type: ignore[dict-item]
            if args.distinct:
                value = shuffled(rnd, value)
            out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
