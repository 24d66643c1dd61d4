"""disclosure-rules as an engine of the peer benchmark in ../shared/bench (see benchmarks/README.md).

The policy is benchmarks/policy/*.yaml, the same six rules as the peers'. Each peer request (a flat dict
parsed from JSON) is converted to this project's request shape, with the four flags under ``facts``;
that conversion is timed with the decision, as the harness requires.
"""

import os

import disclosure_rules

NAME = "disclosure-rules (YAML rules)"
DIST = "disclosure-rules"
NOTE = (
    "converts each flat request to {date, element, origin, holder, recipient, purpose, facts:{4 flags}}; "
    "check() / check_many() with the case cache (first request of a case is validated and explained in full)"
)

_POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "policy")


def load(policy_dir):
    return disclosure_rules.load(_POLICY)


def _convert(r):
    return {
        "date": r["date"],
        "element": r["element"],
        "origin": r["origin"],
        "holder": r["holder"],
        "recipient": r["recipient"],
        "purpose": r["purpose"],
        "facts": {
            "written_request_by_head": r["written_request_by_head"],
            "court_order": r["court_order"],
            "statute_is_tax": r["statute_is_tax"],
            "taxpayer_consent": r["taxpayer_consent"],
        },
    }


def decide(rules, r):
    return rules.check(_convert(r)).decision


def decide_batch(rules, requests):
    return [d.decision for d in rules.check_many(map(_convert, requests))]
