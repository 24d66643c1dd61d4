"""The generated evaluator (``codegen``) agrees with the closures, its reference, rule by rule.

Over every scenario request of the bundled rules and over generated requests (hypothesis), valid ones
only (an invalid request is never evaluated): each rule's in-force, holds and applies, and the whole
verdict with the hop into the holder decided recursively (provenance), are the same both ways.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import disclosure_rules
from disclosure_rules import testing
from disclosure_rules.engine.codegen import always_present
from disclosure_rules.engine.evaluator import Verdict, decide, decide_reference, evaluate, evaluate_reference
from disclosure_rules.intake.request import RequestReader

from .conftest import ROOT
from .test_engine import fuzzed

RULES = disclosure_rules.load()
READER = RequestReader(RULES.vocabulary)
SCENARIOS = [s for suite in testing.load_suites([ROOT / "rules" / "tests"]) for s in suite.scenarios]


def _fields(verdict: Verdict | None) -> Any:
    if verdict is None:
        return None
    states = {rid: (s.in_force, s.holds, s.applies) for rid, s in verdict.states.items()}
    return (attrs_tuple(verdict), states, list(verdict.states), _fields(verdict.hop))


def attrs_tuple(verdict: Verdict) -> tuple[Any, ...]:
    return (
        verdict.decision,
        verdict.status,
        verdict.rule,
        verdict.chain,
        verdict.conflicts,
        verdict.undecided,
        verdict.unknown_facts,
        verdict.prohibitions,
        dict(verdict.env),
    )


def _agree(request: Any) -> bool:
    env, errors = READER.read(request)
    if errors:
        return False
    day = env["date"]
    fast, slow = evaluate(RULES.compiled, env, day), evaluate_reference(RULES.compiled, env, day)
    assert list(fast) == list(slow)
    assert {k: (s.in_force, s.holds, s.applies) for k, s in fast.items()} == {
        k: (s.in_force, s.holds, s.applies) for k, s in slow.items()
    }
    assert _fields(decide(RULES.compiled, env, day)) == _fields(decide_reference(RULES.compiled, env, day))
    return True


def test_there_are_scenarios_with_chains() -> None:
    assert len(SCENARIOS) >= 80
    assert any(isinstance(s.request, dict) and s.request.get("chain") for s in SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_generated_code_agrees_with_the_closures_on_every_scenario(scenario: testing.Scenario) -> None:
    _agree(scenario.request)


@given(fuzzed())
def test_generated_code_agrees_with_the_closures_on_generated_requests(request: Any) -> None:
    _agree(request)


def test_an_environment_the_reader_did_not_build_is_evaluated_as_the_closures_evaluate_it() -> None:
    env, _ = READER.read(SCENARIOS[0].request)
    partial = {k: v for k, v in env.items() if k not in always_present(RULES.vocabulary)}
    assert evaluate(RULES.compiled, partial, env["date"]) == evaluate_reference(RULES.compiled, partial, env["date"])


@given(st.randoms(use_true_random=False))
def test_the_partial_generated_code_agrees_with_the_closures_on_any_part_of_a_request(rnd: random.Random) -> None:
    """The analysis evaluates partial requests: any path may be missing, and then every test is three-valued."""
    for scenario in rnd.sample(SCENARIOS, 5):
        env, errors = READER.read(scenario.request)
        if errors:
            continue
        kept = {k: v for k, v in env.items() if rnd.random() < 0.5}
        day = env["date"]
        assert evaluate(RULES.compiled, kept, day) == evaluate_reference(RULES.compiled, kept, day)
