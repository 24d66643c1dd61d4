"""The vocabulary: what a request may say, declared in YAML beside the rules.

It names the enumerations (agencies, data elements, origins, purposes...),
the top-level request fields, the facts, the keys of a chain hop, and named
groups of values (e.g. the origins that are tax sources). Nothing about the
law's vocabulary is hard-coded in Python: the loader builds a
:class:`Vocabulary` from ``vocabulary.yaml`` and everything downstream reads it.

Paths are written the way conditions write them: ``element``,
``facts.request.signed_by``, ``chain.from``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..language.template import Template
from ..language.valuetypes import Type

RECEIVED_UNDER = "chain.received_under"
"""The routes under which the holder lawfully received the data: not stated by a request but decided, hop by
hop, by the rules themselves (see :mod:`~disclosure_rules.engine.provenance`)."""

KEPT_ROUTES = "routes_kept_within_an_agency"
"""The vocabulary group of the routes a hop names when it passes the data within one agency (``from`` is
``to``): such a hop, if the rules permit it, gives the routes its sender held the data under, not a route of its
own (see :mod:`~disclosure_rules.engine.provenance`). A vocabulary without the group has no such routes."""

BETWEEN_ROUTES = "routes_between_agencies"
"""The vocabulary group of the routes that by their terms carry data from one agency to another ((l)(1): the
IRS to SSA): a hop from an agency to itself naming one is no disclosure the route describes, and is refused
at intake. A vocabulary without the group refuses no self-hop."""

HOPS = "chain"
"""Where a request's environment keeps its validated hops, in order (conditions read only their projections)."""


@attrs.frozen
class EnumValue:
    name: str
    label: str
    description: str | None = None


@attrs.frozen(eq=False)
class Enumeration:
    name: str
    label: str
    values: Mapping[str, EnumValue]
    description: str | None = None

    def label_of(self, value: str) -> str:
        known = self.values.get(value)
        return known.label if known else value


@attrs.frozen(eq=False)
class GroupDef:
    """A named set of values of one enumeration, usable in conditions as a set."""

    name: str
    type: Type
    values: tuple[str, ...]
    label: str
    description: str | None = None


@attrs.frozen(eq=False)
class Slot:
    """Something a request can carry: a field, a fact, or a key of a chain hop.

    ``label`` is a noun phrase for values ("the official who signed the
    request") or, for a boolean, a statement ("the request is in writing");
    ``must`` and ``negated`` are optional phrasings used in explanations.
    A fact may declare a ``default``, a presumption the law makes when the fact
    is not shown (e.g. that no (i)(6) determination was made); without one, an
    absent fact is unknown.
    """

    path: str
    type: Type
    label: str
    description: str | None = None
    required: bool = False
    must: str | None = None
    negated: str | None = None
    default: object = None
    """A presumption: the value a fact takes when a request does not state it (None: unknown)."""
    nonempty: bool = False
    """For a set: an empty list is refused, because the law needs at least one member (an origin)."""
    default_when: tuple[str, str] | None = None
    """Ties a true-or-false fact to what the request's set at another fact path holds ((i)(2)'s reasons show
    relevance only if the request sets them forth): with the value in the set, the fact is as stated or else
    presumed its default; with the set given without the value, it is the default's opposite whatever the
    request says of it (reasons not set forth show nothing); with the set left out, it is as stated, or
    unknown. None: the default always holds."""
    claims_hop: tuple[str, frozenset[str], frozenset[str]] | None = None
    """For a true-or-false fact that says how the data came to its holder (through the 2025 memorandum): the
    sender, the agencies such a disclosure goes to, and the routes it goes under. A request that states the
    fact true, whose holder is one of those agencies and whose chain shows no hop from that sender to one of
    them under one of those routes, contradicts itself and is refused at intake (``contradicts_chain``): what
    the request says of the data and what its chain shows cannot both be so, and neither is read as the one
    that counts. A presumed value claims nothing, nor does a request without a chain."""
    agrees_with: str | None = None
    """Another true-or-false fact that says the same thing of the same disclosure (that the data came through
    the 2025 memorandum, and that the request it was given on was made under it): a request that states the
    two differently contradicts itself and is refused at intake (``contradicts_itself``), so that neither is
    read as the one that suits the request."""


def tied(slot: Slot, stated: object, value_at: Callable[[str], Any]) -> object:
    """The value a fact ``slot`` takes on a request that states ``stated`` for it (None: nothing), given what the
    request states elsewhere (``value_at``: a path's value, a set as a frozenset, or None where left out); None
    is unknown. Every reader reads a fact through this (or code that does the same)."""
    if slot.default_when is None:
        return slot.default if stated is None else stated
    path, member = slot.default_when
    where = value_at(path)
    if not isinstance(where, frozenset):
        return stated
    if member in where:
        return slot.default if stated is None else stated
    return not slot.default


@attrs.frozen(eq=False)
class Vocabulary:
    names: tuple[str, ...]
    enums: Mapping[str, Enumeration]
    groups: Mapping[str, GroupDef]
    fields: Mapping[str, Slot]
    facts: Mapping[str, Slot]
    hop: Mapping[str, Slot]
    chain_projections: Mapping[str, Slot]
    disclosure: Template | None = None
    """Describes a disclosure in words ("the {element} held by {holder} to {recipient}..."), for reasons."""

    def slot(self, path: str) -> Slot | None:
        """The slot a condition path names, or None."""
        if path.startswith("facts."):
            return self.facts.get(path)
        if path.startswith("chain."):
            return self.chain_projections.get(path)
        return self.fields.get(path)

    def group_values(self, name: str) -> frozenset[str]:
        """The values of the group ``name`` (none, if the vocabulary does not declare it)."""
        group = self.groups.get(name)
        return frozenset(group.values) if group is not None else frozenset()

    def tied_facts(self) -> tuple[Slot, ...]:
        """The facts tied to another fact's set (see Slot.default_when)."""
        return tuple(s for s in self.facts.values() if s.default_when is not None)

    def tied_to(self) -> dict[str, str]:
        """For each fact tied to another fact's set, that fact's path: what a condition reading the first reads
        too."""
        return {s.path: s.default_when[0] for s in self.tied_facts() if s.default_when is not None}

    def readable_paths(self) -> list[str]:
        return [*self.fields, *self.facts, *self.chain_projections]

    def label_of_value(self, type_: Type, value: object) -> str:
        """A human label for one value of a type (an enum value's label, a date in ISO form...)."""
        if type_.enum is not None and isinstance(value, str):
            enum = self.enums.get(type_.enum)
            return enum.label_of(value) if enum else value
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


def fact_tree(facts: Mapping[str, Slot]) -> dict[str, Any]:
    """The declared facts as nested dicts of names (``{"request": {"signed_by": Slot}}``), for walking a
    request's nested ``facts`` object."""
    root: dict[str, Any] = {}
    for path, slot in facts.items():
        parts = path.split(".")[1:]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = slot
    return root
