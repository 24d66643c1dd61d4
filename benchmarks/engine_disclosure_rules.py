"""disclosure-rules as an engine of the peer benchmark in ../shared/bench (see benchmarks/README.md).

The policy is benchmarks/policy/*.yaml, the same six rules as the peers'. A peer request is a flat dict;
``Rules.records`` maps its columns to this project's request paths (the four flags are facts), so the
conversion is the library's own and is timed with the decision, as the harness requires. A row whose case is
new is nested into a request, validated, decided and explained in full.
"""

import os
from collections.abc import Mapping, Sequence
from typing import Any

import disclosure_rules
from disclosure_rules.records import RecordChecker

NAME = "disclosure-rules (YAML rules)"
DIST = "disclosure-rules"
NOTE = (
    "Rules.records(columns) maps each flat request's columns to request paths (flags -> facts.*); "
    "check() / check_many() with the case caches (the first request of a case is nested, validated and "
    "explained in full)"
)

_POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy")

COLUMNS = {
    "date": "date",
    "element": "element",
    "origin": "origin",
    "holder": "holder",
    "recipient": "recipient",
    "purpose": "purpose",
    "written_request_by_head": "facts.written_request_by_head",
    "court_order": "facts.court_order",
    "statute_is_tax": "facts.statute_is_tax",
    "taxpayer_consent": "facts.taxpayer_consent",
}


def load(policy_dir: str) -> RecordChecker:
    return disclosure_rules.load(_POLICY).records(COLUMNS)


def decide(checker: RecordChecker, r: Mapping[str, Any]) -> str:
    return checker.check(r).decision


def decide_batch(checker: RecordChecker, requests: Sequence[Mapping[str, Any]]) -> list[str]:
    return [d.decision for d in checker.check_many(requests)]
