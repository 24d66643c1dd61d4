"""Provenance: the chain's hop into the holder is decided by the rules, and the decision says how."""

from __future__ import annotations

import copy
import json
from typing import Any

from disclosure_rules import Rules
from disclosure_rules.render.json import decision_document
from disclosure_rules.render.text import render_text

from .conftest import EXAMPLES


def _use() -> dict[str, Any]:
    request: dict[str, Any] = json.loads(
        (EXAMPLES / "ice-criminal-investigators-use-addresses-before-dmass-order.json").read_text()
    )
    return request


def test_a_lawful_hop_is_shown_as_decided(bundled: Rules) -> None:
    d = bundled.check(_use())
    assert d.decision == "permit"
    [hop] = d.provenance
    assert (hop.holder, hop.recipient, hop.route, hop.date) == ("IRS", "ICE", "6103(i)(2)", "2025-08-07")
    assert (hop.decision, hop.rule) == ("permit", "irc-6103-i-2")


def test_a_hop_a_court_order_forbade_says_so(bundled: Rules) -> None:
    request = _use()
    request["chain"][0]["date"] = "2025-12-01"
    d = bundled.check(request)
    assert (d.decision, d.status) == ("deny", "prohibited")
    [hop] = d.provenance
    assert (hop.decision, hop.rule) == ("deny", "ddc-ctr-2025-11-21")
    assert "Center for Taxpayer Rights" in hop.reason
    assert decision_document(d)["provenance"][0]["rule"] == "ddc-ctr-2025-11-21"
    assert "How the holder received it:" in render_text(d)


def test_every_hop_before_is_decided_too(bundled: Rules) -> None:
    # IRS -> DOJ under (i)(2), then DOJ -> ICE: no route lets DOJ pass (i)(2) data to ICE.
    request = _use()
    request["chain"] = [
        {"from": "IRS", "to": "DOJ", "route": "6103(i)(2)", "date": "2025-08-07"},
        {"from": "DOJ", "to": "ICE", "route": "6103(i)(2)", "date": "2025-08-08"},
    ]
    d = bundled.check(request)
    assert d.decision == "deny"
    assert [(h.holder, h.recipient) for h in d.provenance] == [("DOJ", "ICE"), ("IRS", "DOJ")]
    assert d.provenance[0].decision == "deny"


def test_a_hop_into_someone_else_is_no_hop_into_the_holder(bundled: Rules) -> None:
    request = _use()
    request["chain"][0]["to"] = "FBI"
    d = bundled.check(request)
    assert d.decision == "deny"
    assert d.provenance == ()


def test_the_cache_keeps_hop_dates_apart(bundled: Rules) -> None:
    before = _use()
    after = copy.deepcopy(before)
    after["chain"][0]["date"] = "2025-12-01"
    assert bundled.check(before).decision == "permit"
    assert bundled.check(after).decision == "deny"
    assert bundled.check(before).decision == "permit"
