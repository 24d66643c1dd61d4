"""Groups of the bundled vocabulary that stand for a whole enumeration stay whole."""

from __future__ import annotations

import disclosure_rules


def test_every_route_names_every_route() -> None:
    """`chain.route overlaps every_route` says that a request gives a chain: a route added to the vocabulary
    and left out of the group would make a chain naming only it read as no chain at all (a rule that then
    believes the origin's label would fail open)."""
    vocabulary = disclosure_rules.load().vocabulary
    assert set(vocabulary.groups["every_route"].values) == set(vocabulary.enums["route"].values)
