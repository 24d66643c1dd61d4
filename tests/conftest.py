"""Shared fixtures: the bundled rules, and small rule directories written for one test."""

from __future__ import annotations

import copy
import json
import os
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, settings

# Compiled rule sets are cached in a directory of this run's own, never the user's (and the tests exercise it).
os.environ.setdefault("DISCLOSURE_RULES_CACHE_DIR", tempfile.mkdtemp(prefix="disclosure-rules-cache-"))

import disclosure_rules
from disclosure_rules import Rules

from .ledger_helpers import fresh_target

# The suite runs on shared, loaded machines: a property test is judged by what it finds, never by how fast the
# machine generated its examples (a timing health check or deadline would fail it for the load, not the code).
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

MINI_VOCABULARY = """\
vocabulary: mini
disclosure: "the {element} held by {holder} to {recipient}"
enums:
  agency:
    label: agency
    values: {IRS: the IRS, SSA: the SSA, ICE: ICE, DOJ: the DOJ}
  element:
    label: element
    values: {address: mailing address, wages: wages, name: name}
  purpose:
    label: purpose
    values: {crime: a criminal case, civil: a civil case}
  origin:
    label: origin
    values: {tax_return: a tax return, claimant: the claimant, usps: a USPS report}
  signer:
    label: signer
    values: {head: the head of the agency, deputy: a deputy}
groups:
  tax_sources: {of: origin, label: tax sources, values: [tax_return]}
fields:
  date: {type: date, required: true, label: the date}
  element: {type: element, required: true, label: the element}
  holder: {type: agency, required: true, label: the holder}
  origin: {type: set of origin, label: the origins}
  recipient: {type: agency, required: true, label: the recipient}
  purpose: {type: purpose, required: true, label: the purpose}
chain:
  from: {type: agency, label: the sender}
  to: {type: agency, label: the receiver}
  date: {type: date, label: the date of that hop}
facts:
  consent: {type: bool, label: the taxpayer consented, negated: the taxpayer did not consent}
  order: {type: bool, label: a court order is in force}
  request.signed_by: {type: signer, label: the signer}
  request.items: {type: set of element, label: the items}
  count: {type: number, label: the count}
  note: {type: text, label: the note}
  presumed: {type: bool, label: presumed, default: false}
"""


def write_rules(directory: Path, *rulesets: str, vocabulary: str = MINI_VOCABULARY) -> Path:
    """Write a rule directory: the vocabulary and one file per rule set text."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocabulary.yaml").write_text(vocabulary)
    for i, text in enumerate(rulesets):
        (directory / f"set{i}.yaml").write_text(textwrap.dedent(text))
    return directory


@pytest.fixture
def make_rules(tmp_path: Path) -> Callable[..., Rules]:
    """Load rules from rule-set texts written over the mini vocabulary."""
    counter = iter(range(1000))

    def make(*rulesets: str, vocabulary: str = MINI_VOCABULARY, cache_size: int = 1000) -> Rules:
        directory = write_rules(tmp_path / f"rules{next(counter)}", *rulesets, vocabulary=vocabulary)
        return disclosure_rules.load(directory, cache_size=cache_size)

    return make


def mini_request(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "date": "2025-08-07",
        "element": "address",
        "holder": "IRS",
        "origin": ["tax_return"],
        "recipient": "ICE",
        "purpose": "crime",
        "facts": {},
    }
    facts = overrides.pop("facts", None)
    request.update(overrides)
    if facts is not None:
        request["facts"] = facts
    return request


@pytest.fixture(scope="session")
def bundled() -> Rules:
    return disclosure_rules.load()


def example(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((EXAMPLES / name).read_text()))


@pytest.fixture
def i2_request() -> dict[str, Any]:
    return copy.deepcopy(example("irs-ice-address-request.json"))


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty ledger location on each backend (PostgreSQL only when a test server is configured)."""
    return fresh_target(request.param, tmp_path)
