"""The request reader's quick path: the reader's own environment for a plainly valid request, else None."""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules.intake.request import RequestReader
from disclosure_rules.intake.requestgen import build_quick_reader, build_record_reader

from .hostile import SEEDS, fuzz_request, mutate
from .test_properties import requests

RULES = disclosure_rules.load()
READER = RequestReader(RULES.vocabulary)
QUICK = build_quick_reader(RULES.vocabulary, READER.shared_set)


def _agrees(request: Any) -> bool:
    """The quick path gives None or exactly what the full reader gives a request it finds no fault in; and
    it leaves the request as it was."""
    before = copy.deepcopy(request)
    quick = QUICK(request)
    assert request == before or request != request  # NaN is never equal to itself
    if quick is None:
        return False
    env, errors = READER.read(request)
    assert errors == [], f"the quick path read a request the reader refuses: {errors}"
    assert quick == env
    assert {p: type(v) for p, v in quick.items()} == {p: type(v) for p, v in env.items()}
    return True


def test_every_example_without_a_chain_takes_the_quick_path() -> None:
    plain = [seed for seed in SEEDS if "chain" not in seed and not READER.read(seed)[1]]
    assert plain, "the examples hold valid requests without a chain"
    assert all(_agrees(seed) for seed in plain)


def test_a_request_with_a_chain_takes_the_full_path() -> None:
    chained = [seed for seed in SEEDS if seed.get("chain")]
    assert chained
    assert all(QUICK(seed) is None for seed in chained)


@given(requests)
def test_the_quick_path_agrees_with_the_reader_on_generated_requests(request: Any) -> None:
    _agrees(request)


@given(st.randoms(use_true_random=False))
def test_the_quick_path_agrees_with_the_reader_on_hostile_requests(rnd: random.Random) -> None:
    _agrees(fuzz_request(RULES.vocabulary, rnd))
    for seed in SEEDS:
        _agrees(mutate(copy.deepcopy(seed), RULES.vocabulary, rnd))


def test_the_quick_path_refuses_what_the_reader_refuses() -> None:
    base = next(seed for seed in SEEDS if "chain" not in seed and not READER.read(seed)[1])
    fact_group = next(k for k, v in base["facts"].items() if isinstance(v, dict))
    refused: list[dict[str, Any]] = [
        {**base, "extra": 1},
        {**base, "element": "Address"},
        {**base, "element": None},
        {**base, "date": "2025-02-30"},
        {**base, "id": [1]},
        {**base, "facts": []},
        {**base, "facts": {**base["facts"], "unknown": True}},
        {**base, "facts": {**base["facts"], fact_group: {**base["facts"][fact_group], "unknown": True}}},
        {**base, "facts": {**base["facts"], fact_group: "yes"}},
    ]
    for request in refused:
        assert QUICK(request) is None
        assert READER.read(request)[1], request


# -- flat records: the row's quick path is the reader's environment of the request the row stands for -----


def _row_agrees(row: Any) -> bool:
    from .test_hostile_requests import CHECKER

    record = build_record_reader(RULES.vocabulary, CHECKER.columns, READER.shared_set)
    quick = record(row)
    if quick is None:
        return False
    request, errors = CHECKER.request(row)
    assert errors == []
    env, errors = READER.read(request)
    assert errors == [], f"the record's quick path read a row whose request the reader refuses: {errors}"
    assert quick == env
    assert {p: type(v) for p, v in quick.items()} == {p: type(v) for p, v in env.items()}
    return True


def test_every_example_without_a_chain_takes_the_records_quick_path() -> None:
    from .test_hostile_requests import _row

    plain = [seed for seed in SEEDS if "chain" not in seed and not READER.read(seed)[1]]
    no_stray_column = random.Random(0)  # its first draw (0.84) adds no column the mapping does not name
    assert all(_row_agrees(_row(seed, random.Random(0))) for seed in plain)
    assert no_stray_column.random() >= 0.2


@given(st.randoms(use_true_random=False))
def test_the_records_quick_path_agrees_with_the_reader_on_hostile_rows(rnd: random.Random) -> None:
    from .test_hostile_requests import _row

    _row_agrees(_row(fuzz_request(RULES.vocabulary, rnd), rnd))
    for seed in SEEDS:
        _row_agrees(_row(mutate(copy.deepcopy(seed), RULES.vocabulary, rnd), rnd))
