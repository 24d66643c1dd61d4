"""Validate an untrusted request (parsed JSON) against the vocabulary.

The result is an *environment*: a flat mapping from the paths conditions read
(``element``, ``facts.request.signed_by``, ``chain.from``...) to typed values
(strings for enumeration values, ``frozenset`` for sets, ``datetime.date`` for
dates). A fact that is absent or ``null`` is simply not in the environment:
it is unknown, not false.

Every problem is reported with the JSON path of the offending value
(``$.facts.request.signed_by``) and, where a declared name is close, a
suggestion. Nothing undeclared is ignored: an unknown key or value is an error.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ..diagnostics import Diagnostic, did_you_mean, did_you_mean_or_list, quote
from ..language.valuetypes import Type
from ..rulebook.vocabulary import (
    BETWEEN_ROUTES,
    HOPS,
    KEPT_ROUTES,
    RECEIVED_UNDER,
    Slot,
    Vocabulary,
    fact_tree,
    tied,
)

MAX_SET_ITEMS = 1_000
MAX_CHAIN_HOPS = 100
MAX_TEXT_CHARS = 10_000
MAX_ERRORS = 20
MAX_SHARED_SETS = 10_000
EMPTY: frozenset[Any] = frozenset()
"""The one empty set every environment without a chain shares (``frozenset()`` makes a new one each time)."""
REQUEST_ID = "id"
"""The top-level key of a request's own identifier: any JSON scalar, echoed in its decision, never decided on."""
MAX_ID_CHARS = 1_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@attrs.frozen(eq=False)
class _FactTree:
    """The declared facts as a tree of names, for walking a nested ``facts`` object."""

    children: Mapping[str, _FactTree | Slot]

    @classmethod
    def of(cls, facts: Mapping[str, Slot]) -> _FactTree:
        def build(d: dict[str, Any]) -> _FactTree:
            return cls({k: (build(v) if isinstance(v, dict) else v) for k, v in d.items()})

        return build(fact_tree(facts))


def json_type_name(value: object) -> str:
    """What a JSON value is, in words: `null`, `a number`, `an object`..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _found(value: object) -> str:
    """What the request gave: a scalar is quoted, a list or object only named (its key order is not shown)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return f"{json_type_name(value)} {quote(value)}"
    if isinstance(value, bool):
        return f"`{'true' if value else 'false'}`"
    return json_type_name(value)


def _expected(type_: Type) -> str:
    if type_.kind == "enum":
        return f"one of the values of `{type_.enum}`"
    if type_.kind == "set":
        return f"a value of `{type_.enum}` or a list of them"
    return {"bool": "true or false", "date": "a date written YYYY-MM-DD", "number": "a number", "text": "text"}[
        type_.kind
    ]


class RequestReader:
    """Validates requests for one vocabulary; build once, use for every request."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.facts = _FactTree.of(vocabulary.facts)
        self.top_keys = request_keys(vocabulary)
        self.defaults = [
            (p, s.default) for p, s in vocabulary.facts.items() if s.default is not None and s.default_when is None
        ]
        self.tied = vocabulary.tied_facts()
        """Facts tied to what another fact's set holds (see Slot.default_when)."""
        self.sets: dict[frozenset[Any], frozenset[Any]] = {}
        self.kept_within = vocabulary.group_values(KEPT_ROUTES)
        """The routes under which a hop stays within one agency (``internal``)."""
        self.between = vocabulary.group_values(BETWEEN_ROUTES)
        """The routes that carry data from one agency to another (a hop naming one never goes to its sender)."""
        self.agreeing = [s for s in vocabulary.facts.values() if s.agrees_with is not None]
        """Facts that say the same thing as another (see Slot.agrees_with)."""
        self.claiming = [s for s in vocabulary.facts.values() if s.claims_hop is not None]
        """Facts that, stated true, say which way the data came (see Slot.claims_hop)."""

    def read(self, request: object) -> tuple[dict[str, Any], list[Diagnostic]]:
        """Validate ``request``; return its environment and the problems found (none if valid)."""
        errors: list[Diagnostic] = []
        env: dict[str, Any] = {}
        if not isinstance(request, dict):
            errors.append(
                Diagnostic("not_an_object", f"a request must be a JSON object, not {json_type_name(request)}", path="$")
            )
            return env, errors
        for key in request:
            if key not in self.top_keys:
                errors.append(
                    Diagnostic(
                        "unknown_key",
                        f"a request has no key {quote(key)}",
                        path=member_path("$", key),
                        help=did_you_mean_or_list(key, self.top_keys),
                    )
                )
        for name, slot in self.vocabulary.fields.items():
            value = request.get(name)
            if value is None:
                if slot.required:
                    errors.append(
                        Diagnostic(
                            "missing_key", f"the request does not give `{name}` ({slot.label})", path=f"$.{name}"
                        )
                    )
                continue
            self.value(slot, value, f"$.{name}", env, name, errors)
        request_id = request.get(REQUEST_ID)
        if not is_request_id(request_id):
            errors.append(
                Diagnostic(
                    "wrong_type",
                    f"`id` must be text of at most {MAX_ID_CHARS:,} characters, a number, true/false or null, "
                    f"not {json_type_name(request_id)}",
                    path=f"$.{REQUEST_ID}",
                )
            )
        facts = request.get("facts")
        if facts is not None:
            self.fact_group(self.facts, facts, "$.facts", "facts", env, errors)
        # Before the presumptions: only a fact the request states claims anything, or contradicts another.
        claimed = [s for s in self.claiming if env.get(s.path) is True]
        self.agreement(env, errors)
        for path, value in self.defaults:
            env.setdefault(path, value)
        for slot in self.tied:
            value = tied(slot, env.get(slot.path), env.get)
            if value is None:
                env.pop(slot.path, None)
            else:
                env[slot.path] = value
        chain = request.get("chain")
        if chain is not None:
            self.chain(chain, env, errors)
            self.chain_claims(env.get(HOPS, ()), env.get("holder"), claimed, errors)
        else:
            for path in self.vocabulary.chain_projections:
                if path != RECEIVED_UNDER:
                    env[path] = EMPTY
            env[HOPS] = ()
        # Sorted by place, so the report does not depend on the order of keys in the request.
        errors.sort(key=lambda d: (d.path or "", d.code, d.message))
        return env, errors[:MAX_ERRORS]

    def shared_set(self, value: frozenset[Any]) -> frozenset[Any]:
        """One object per distinct set: a cached case keeps its environment, and batches repeat few sets."""
        shared = self.sets
        if len(shared) >= MAX_SHARED_SETS:
            shared.clear()
        return shared.setdefault(value, value)

    def fact_group(
        self, tree: _FactTree, value: object, json_path: str, path: str, env: dict[str, Any], errors: list[Diagnostic]
    ) -> None:
        if not isinstance(value, dict):
            errors.append(
                Diagnostic("wrong_type", f"expected an object of facts, found {json_type_name(value)}", path=json_path)
            )
            return
        for key, item in value.items():
            child = tree.children.get(key) if isinstance(key, str) else None
            where = member_path(json_path, key)
            if child is None:
                known = list(tree.children)
                errors.append(
                    Diagnostic(
                        "unknown_fact",
                        f"the vocabulary declares no fact {quote(f'{path}.{key}')}",
                        path=where,
                        help=did_you_mean_or_list(key, known, "declared here"),
                    )
                )
                continue
            if item is None:
                continue
            if isinstance(child, _FactTree):
                self.fact_group(child, item, where, f"{path}.{key}", env, errors)
            else:
                self.value(child, item, where, env, child.path, errors)

    def chain(self, chain: object, env: dict[str, Any], errors: list[Diagnostic]) -> None:
        if not isinstance(chain, list):
            errors.append(
                Diagnostic(
                    "wrong_type", f"`chain` must be a list of hops, found {json_type_name(chain)}", path="$.chain"
                )
            )
            return
        if len(chain) > MAX_CHAIN_HOPS:
            errors.append(
                Diagnostic(
                    "too_large", f"the chain has {len(chain):,} hops; the limit is {MAX_CHAIN_HOPS}", path="$.chain"
                )
            )
            return
        hop_slots = self.vocabulary.hop
        seen: dict[str, set[Any]] = {
            f"chain.{key}": set() for key in hop_slots if f"chain.{key}" in self.vocabulary.chain_projections
        }
        hops: list[dict[str, Any]] = []
        for i, hop in enumerate(chain):
            where = f"$.chain[{i}]"
            if not isinstance(hop, dict):
                errors.append(
                    Diagnostic("wrong_type", f"a hop must be an object, found {json_type_name(hop)}", path=where)
                )
                continue
            for key in hop:
                if key not in hop_slots:
                    errors.append(
                        Diagnostic(
                            "unknown_key",
                            f"a hop has no key {quote(key)}",
                            path=member_path(where, key),
                            help=did_you_mean_or_list(key, hop_slots),
                        )
                    )
            hop_env: dict[str, Any] = {}
            for key, slot in hop_slots.items():
                if hop.get(key) is None:
                    errors.append(
                        Diagnostic(
                            "missing_key", f"the hop does not give `{key}` ({slot.label})", path=f"{where}.{key}"
                        )
                    )
                    continue
                self.value(slot, hop[key], f"{where}.{key}", hop_env, key, errors)
            hops.append(hop_env)
            for key, value in hop_env.items():
                projection = f"chain.{key}"
                if projection in seen:
                    seen[projection].add(value)
        self.chain_order(hops, errors)
        self.chain_ends(hops, env, errors)
        for projection, values in seen.items():
            env[projection] = frozenset(values)
        env[HOPS] = tuple(hops)

    def chain_ends(self, hops: list[dict[str, Any]], env: Mapping[str, Any], errors: list[Diagnostic]) -> None:
        """A chain says how the holder got the data before the disclosure asked about: its last hop arrives at
        the holder, and no hop is dated after the request. A hop under a route that keeps data within one
        agency (``internal``) leaves from and goes to that agency, and a hop under a route that carries data
        from one agency to another ((l)(1): the IRS to SSA) does not go to its sender. A chain that breaks any
        of these is no path the rules can judge, and is refused rather than read as giving nothing: a chain
        that does not say how the holder got the data would otherwise let an origin's label speak instead.
        (A hop from an agency to itself under another route, an (h)(1) disclosure within the IRS, is a
        disclosure like any other.)"""
        day = env.get("date")
        for i, hop in enumerate(hops):
            route, ends = hop.get("route"), ("from" in hop and "to" in hop)
            if route in self.kept_within and ends and hop["from"] != hop["to"]:
                errors.append(
                    Diagnostic(
                        "broken_chain",
                        f"the hop goes from {quote(hop['from'])} to {quote(hop['to'])} under "
                        f"{quote(route)}, a route that keeps data within one agency",
                        path=f"$.chain[{i}].route",
                        help="a hop between two agencies names the route it was disclosed under",
                    )
                )
            if route in self.between and ends and hop["from"] == hop["to"]:
                errors.append(
                    Diagnostic(
                        "broken_chain",
                        f"the hop goes from {quote(hop['from'])} to itself under {quote(route)}, a route that "
                        "carries data from one agency to another",
                        path=f"$.chain[{i}].route",
                        help="a hop within one agency is `internal`; name the agency the data came from",
                    )
                )
            if isinstance(day, datetime.date) and "date" in hop and hop["date"] > day:
                errors.append(
                    Diagnostic(
                        "broken_chain",
                        f"the hop is dated {hop['date'].isoformat()}, after the request ({day.isoformat()})",
                        path=f"$.chain[{i}].date",
                        help="a chain says how the holder got the data before the disclosure asked about",
                    )
                )
        holder = env.get("holder")
        if hops and holder is not None and "to" in hops[-1] and hops[-1]["to"] != holder:
            errors.append(
                Diagnostic(
                    "broken_chain",
                    f"the last hop goes to {quote(hops[-1]['to'])}, but the data is held by {quote(holder)}",
                    path=f"$.chain[{len(hops) - 1}].to",
                    help="a chain says how the holder got the data: its last hop arrives at the holder",
                )
            )

    def agreement(self, env: Mapping[str, Any], errors: list[Diagnostic]) -> None:
        """Two facts that say the same thing of one disclosure, stated differently: refused, not read as the one
        that suits the request (nor the stated one outvoted by the other's presumption, which a rule reading
        both as one would otherwise have to choose)."""
        for slot in self.agreeing:
            assert slot.agrees_with is not None
            mine, theirs = env.get(slot.path), env.get(slot.agrees_with)
            if isinstance(mine, bool) and isinstance(theirs, bool) and mine != theirs:
                other = self.vocabulary.facts[slot.agrees_with]
                errors.append(
                    Diagnostic(
                        "contradicts_itself",
                        f"the request states that {slot.label if mine else slot.negated or 'not: ' + slot.label}, "
                        f"but also that {other.label if theirs else other.negated or 'not: ' + other.label}: "
                        "the two say the same thing of one disclosure",
                        path="$." + slot.path,
                        help=f"state `{slot.path.removeprefix('facts.')}` and `"
                        f"{other.path.removeprefix('facts.')}` alike, or only one of them",
                    )
                )

    @staticmethod
    def chain_claims(
        hops: Sequence[Mapping[str, Any]], holder: object, claimed: Sequence[Slot], errors: list[Diagnostic]
    ) -> None:
        """A fact the request states true that says the holder got the data from an agency, through some of
        its recipients, under some routes (the 2025 memorandum's: the IRS to DHS and its components, under
        (i)(2) and the routes the same disclosure goes by), beside a chain into such a holder that shows no
        such hop: the request says two things of one disclosure that cannot both be so, and is refused rather
        than read as the one that suits it (a hop relabelled an emergency disclosure, or a chain that starts
        elsewhere, would otherwise take data the request says came through the memorandum outside the orders
        that bar its use)."""
        for slot in claimed:
            assert slot.claims_hop is not None
            sender, receivers, routes = slot.claims_hop
            if not hops or holder not in receivers:
                continue
            if any(h.get("from") == sender and h.get("to") in receivers and h.get("route") in routes for h in hops):
                continue
            named = sorted({str(h["route"]) for h in hops if h.get("from") == sender and "route" in h})
            shown = (
                f"its chain's hops from {quote(sender)} name only {', '.join(map(quote, named))}"
                if named
                else f"its chain shows no hop from {quote(sender)}"
            )
            errors.append(
                Diagnostic(
                    "contradicts_chain",
                    f"the request states that {slot.label}, but {shown}: no hop goes from {quote(sender)} to "
                    f"{', '.join(map(quote, sorted(receivers)))} under a route such a disclosure goes under "
                    f"({', '.join(map(quote, sorted(routes)))})",
                    path="$." + slot.path,
                    help="give the hop the data came by, or state that the data did not come that way",
                )
            )

    @staticmethod
    def chain_order(hops: list[dict[str, Any]], errors: list[Diagnostic]) -> None:
        """A chain is the data's path, oldest hop first: each hop leaves from where the one before it arrived,
        no earlier than it arrived. A chain that breaks either is refused, not read in whichever order suits
        the request: the rules judge the hop into the holder by the hops before it."""
        for i in range(1, len(hops)):
            before, hop = hops[i - 1], hops[i]
            where = f"$.chain[{i}]"
            if "to" in before and "from" in hop and hop["from"] != before["to"]:
                errors.append(
                    Diagnostic(
                        "broken_chain",
                        f"the hop leaves from {quote(hop['from'])}, "
                        f"but the hop before it went to {quote(before['to'])}",
                        path=f"{where}.from",
                        help="list the hops oldest first, each leaving from where the one before it arrived",
                    )
                )
            if "date" in before and "date" in hop and hop["date"] < before["date"]:
                errors.append(
                    Diagnostic(
                        "broken_chain",
                        f"the hop is dated {hop['date'].isoformat()}, before the hop before it "
                        f"({before['date'].isoformat()})",
                        path=f"{where}.date",
                        help="list the hops oldest first",
                    )
                )

    def value(
        self, slot: Slot, value: object, json_path: str, env: dict[str, Any], path: str, errors: list[Diagnostic]
    ) -> None:
        type_ = slot.type
        kind = type_.kind
        if kind == "enum":
            if self.enum_value(type_, value, json_path, errors):
                env[path] = value
        elif kind == "set":
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list):
                errors.append(
                    Diagnostic(
                        "wrong_type", f"expected {_expected(type_)}, found {json_type_name(value)}", path=json_path
                    )
                )
                return
            if not items and slot.nonempty:
                errors.append(
                    Diagnostic(
                        "empty_list",
                        f"{slot.label} cannot be an empty list: an empty list proves nothing",
                        path=json_path,
                        help="give at least one value, or leave the key out if it is not known",
                    )
                )
                return
            if len(items) > MAX_SET_ITEMS:
                errors.append(
                    Diagnostic(
                        "too_large",
                        f"the list has {len(items):,} items; the limit is {MAX_SET_ITEMS:,}",
                        path=json_path,
                    )
                )
                return
            ok = True
            for i, item in enumerate(items):
                where = json_path if isinstance(value, str) else f"{json_path}[{i}]"
                ok = self.enum_value(type_.element(), item, where, errors) and ok
            if ok:
                env[path] = self.shared_set(frozenset(items))
        elif kind == "bool":
            if isinstance(value, bool):
                env[path] = value
            else:
                errors.append(
                    Diagnostic(
                        "wrong_type",
                        f"expected true or false, found {_found(value)}",
                        path=json_path,
                    )
                )
        elif kind == "number":
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                env[path] = value
            else:
                errors.append(
                    Diagnostic("wrong_type", f"expected a number, found {json_type_name(value)}", path=json_path)
                )
        elif kind == "date":
            day = parse_date(value)
            if day is None:
                errors.append(Diagnostic("bad_date", _not_a_date(value), path=json_path))
            else:
                env[path] = day
        elif kind == "text":
            if not isinstance(value, str):
                errors.append(Diagnostic("wrong_type", f"expected text, found {json_type_name(value)}", path=json_path))
            elif len(value) > MAX_TEXT_CHARS:
                errors.append(
                    Diagnostic(
                        "too_large",
                        f"the text has {len(value):,} characters; the limit is {MAX_TEXT_CHARS:,}",
                        path=json_path,
                    )
                )
            else:
                env[path] = value

    def enum_value(self, type_: Type, value: object, json_path: str, errors: list[Diagnostic]) -> bool:
        assert type_.enum is not None
        enum = self.vocabulary.enums[type_.enum]
        if isinstance(value, str) and value in enum.values:
            return True
        if not isinstance(value, str):
            errors.append(
                Diagnostic("wrong_type", f"expected {_expected(type_)}, found {json_type_name(value)}", path=json_path)
            )
        else:
            errors.append(
                Diagnostic(
                    "unknown_value",
                    f"{quote(value)} is not a value of `{type_.enum}`",
                    path=json_path,
                    help=did_you_mean(value, enum.values)
                    or "declared values: " + ", ".join(f"`{v}`" for v in list(enum.values)[:12]),
                )
            )
        return False


def request_keys(vocabulary: Vocabulary) -> tuple[str, ...]:
    """The top-level keys a request may have: the fields, ``facts``, ``chain`` if hops are declared, and
    ``id``."""
    return (*vocabulary.fields, "facts", *(("chain",) if vocabulary.hop else ()), REQUEST_ID)


def is_request_id(value: object) -> bool:
    """Whether ``value`` may be a request's ``id``: null, true/false, a finite number, or text not too long
    to echo."""
    if value is None or value.__class__ is bool or value.__class__ is int:
        return True
    if value.__class__ is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    return value.__class__ is str and len(value) <= MAX_ID_CHARS  # type: ignore[arg-type]


def request_id(request: object) -> object:
    """The ``id`` of a request (None if it has none, or is not an object)."""
    return request.get(REQUEST_ID) if isinstance(request, dict) else None


def parse_date(value: object) -> datetime.date | None:
    """A strict ``YYYY-MM-DD`` date, or None (no times, week dates or other ISO variants)."""
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _not_a_date(value: object) -> str:
    """Why ``value`` is not a date: a well-formed `2025-13-45` is told apart from text that is no date at all,
    since its writer needs to check the day, not the format."""
    if isinstance(value, str) and _DATE.match(value):
        year, month, day = (int(part) for part in value.split("-"))
        if not 1 <= month <= 12:
            why = f"there is no month {month}"
        elif year < 1:
            why = "there is no year 0"
        else:
            why = f"month {month} of {year} has no day {day}"
        return f"`{value}` is written YYYY-MM-DD but is not a day of the calendar: {why}"
    return f"{_found(value)} is not a date written YYYY-MM-DD"


def member_path(parent: str, key: object) -> str:
    """The JSON path of ``parent``'s member ``key``: ``$.facts`` or ``$["a key"]``."""
    if key.__class__ is str and parent.__class__ is str:
        # Every valid request asks for the same few paths; a bounded memo spares the regular expression.
        return _member_path(parent, key)  # type: ignore[arg-type]
    return _member_path_of(parent, key)


@functools.lru_cache(maxsize=4_096)
def _member_path(parent: str, key: str) -> str:
    return _member_path_of(parent, key)


def _member_path_of(parent: str, key: object) -> str:
    text = str(key)
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", text):
        return f"{parent}.{text}"
    shown = text if len(text) <= 60 else text[:57] + "..."
    return f"{parent}[{json.dumps(shown, ensure_ascii=False)}]"
