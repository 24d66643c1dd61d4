"""The domain of requests, as classes of values the rules can tell apart.

Everything here is derived from the :class:`~disclosure_rules.rulebook.vocabulary.Vocabulary` and the checked
conditions, never from hard-coded names, so a new field, fact or hop key is analysed as soon as it is
declared. A *choice* for a path is one value standing for a class of values that every rule still
undecided treats alike (an enumeration value never named apart from others by those rules stands for all
of them), or :data:`ABSENT` where a request may leave the path out.

Completeness rests on two facts: a condition tells enumeration values apart only through the literals and
groups it names and through comparisons of two paths (values in one class are interchangeable for the
undecided rules, and the classes of two compared paths are built together); and a date is read only
through comparisons with literal dates and the rules' effective windows, so one date per interval between
boundary dates stands for the interval.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..checker import Rules
from ..engine.provenance import matches
from ..intake.cases import ONE_DAY, DateBuckets, plan_buckets
from ..intake.request import RequestReader
from ..language.ast import And, Compare, Expr, Group, Not, Or, Path, Ref, Value, ValueSet
from ..language.valuetypes import Type
from ..rulebook.vocabulary import BETWEEN_ROUTES, RECEIVED_UNDER, Slot, Vocabulary


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""A path the request leaves out (unknown, or its presumption where the vocabulary declares one)."""

Assignment = Mapping[str, Any]
"""Path -> value (or :data:`ABSENT`); a path not in it is not yet chosen by the search."""


CHAIN = "chain"
"""How many hops the request's chain has: 0 (none) or 1. The search's bound on chains: a chain of at most one
hop (docs/analysis.md); the hop's keys are the paths ``chain[0].from`` and so on."""

HOP = "chain[0]."

HOP_REPLACED_UNREAD = frozenset({"recipient"})
"""Request paths the hop's own decision never reads: the hop is decided with its own end as the recipient
(:func:`~disclosure_rules.engine.provenance.hop_environment`). (The holder is replaced too, but the hop must reach
it, so its classes follow every rule's.)"""


def hop_path(key: str) -> str:
    return HOP + key


def expand(path: str, hop_keys: Iterable[str]) -> tuple[str, ...]:
    """The paths the search chooses that decide a condition path: a chain projection is decided by the
    chain's length and its hop's key; the derived ``chain.received_under`` by the whole hop (and, through the
    hop's own decision, by what the rules read: see :meth:`~.oracle.Oracle.pending`)."""
    if path == RECEIVED_UNDER:
        return (CHAIN, *(hop_path(k) for k in hop_keys))
    if path.startswith("chain."):
        return (CHAIN, hop_path(path[len("chain.") :]))
    return (path,)


@attrs.frozen
class Choice:
    """One branch of a split: the value put in the request, and the class of values it stands for."""

    value: Any
    stands_for: frozenset[Any] | None = None
    also: Mapping[str, Any] = attrs.field(factory=dict)
    """Other paths this choice settles with it (no chain: the hop's keys have no value)."""


@attrs.frozen
class PathInfo:
    path: str
    slot: Slot
    kind: str
    values: tuple[str, ...] = ()
    """The enumeration's values, for an enumeration or a set of one."""
    may_be_absent: bool = False
    allow_empty: bool = True


@attrs.frozen
class Tests:
    """What one condition does with each path: the value sets it compares the path with, and the paths it
    compares the path with."""

    literals: Mapping[str, frozenset[frozenset[Any]]]
    partners: Mapping[str, frozenset[str]]
    whole: frozenset[str] = frozenset()
    """The paths a test reads as a whole value (equality, ``includes``): for a set, whether it holds all of a
    class of values matters, not only whether it holds one of them (see :meth:`Space._set_choices`)."""


def _merge(a: Tests, b: Tests) -> Tests:
    lit = {k: a.literals.get(k, frozenset()) | b.literals.get(k, frozenset()) for k in {*a.literals, *b.literals}}
    par = {k: a.partners.get(k, frozenset()) | b.partners.get(k, frozenset()) for k in {*a.partners, *b.partners}}
    return Tests(lit, par, a.whole | b.whole)


_MEMBERSHIP = frozenset({"in", "not in", "overlaps", "within"})
"""Operators whose truth, for a set-valued path and a literal, turns only on which classes of values the set
meets: ``x in s`` (``x`` a class of its own), ``s overlaps L`` and ``s within L`` (``L`` a union of classes)."""


class _TestCollector:
    """Walks checked condition trees (definitions opened once each) for the value sets each path meets."""

    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self.definitions = definitions
        self.memo: dict[str, Tests] = {}

    def of(self, node: Expr) -> Tests:
        if isinstance(node, Ref):
            cached = self.memo.get(node.name)
            if cached is None:
                cached = self.memo[node.name] = self.of(self.definitions[node.name].condition)
            return cached
        if isinstance(node, Not):
            return self.of(node.operand)
        if isinstance(node, (And, Or)):
            out = Tests({}, {})
            for operand in node.operands:
                out = _merge(out, self.of(operand))
            return out
        if isinstance(node, Compare):
            return self.compare(node)
        return Tests({}, {})

    def compare(self, node: Compare) -> Tests:
        literals: dict[str, frozenset[frozenset[Any]]] = {}
        partners: dict[str, frozenset[str]] = {}
        left, right = node.left, node.right
        if isinstance(left, Path) and isinstance(right, Path):
            partners[left.path] = frozenset([right.path])
            partners[right.path] = frozenset([left.path])
        read_whole = node.op not in _MEMBERSHIP
        whole = frozenset(s.path for s in (left, right) if read_whole and isinstance(s, Path))
        for side, other in ((left, right), (right, left)):
            if not isinstance(side, Path):
                continue
            if isinstance(other, Value):
                literals[side.path] = frozenset([frozenset([other.value])])
            elif isinstance(other, (ValueSet, Group)):
                literals[side.path] = frozenset([frozenset(other.values)])
        return Tests(literals, partners, whole)


class Space:
    """The requests one rule book can be asked about, and how to split them."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        book = rules.book
        self.vocabulary: Vocabulary = book.vocabulary
        self.hop_dates_until: datetime.date | None = None
        """The last date a hop may have, besides the request's own (a date diff: the earlier of its two)."""
        self.tied = self.vocabulary.tied_facts()
        """The facts tied to another fact's set (Slot.default_when)."""
        self.tie_members: dict[str, set[frozenset[Any]]] = {}
        """For each set a fact is tied to, the member the tie tests: its choices are split on it, whatever the
        rules test, since the tied fact's value turns on it."""
        for slot in self.tied:
            if slot.default_when is not None:
                self.tie_members.setdefault(slot.default_when[0], set()).add(frozenset([slot.default_when[1]]))
        self.between: frozenset[Any] = self.vocabulary.group_values(BETWEEN_ROUTES)
        """The routes a hop names only between two agencies (the reader refuses a hop to its sender)."""
        collector = _TestCollector(book.definitions)
        self.tests: dict[str, Tests] = {rid: collector.of(rule.condition) for rid, rule in book.rules.items()}
        self.all_tests = Tests({}, {})
        for tests in self.tests.values():
            self.all_tests = _merge(self.all_tests, tests)
        self.derived_readers = frozenset(
            rid for rid, compiled in rules.compiled.rules.items() if RECEIVED_UNDER in compiled.reads.paths
        )
        self.paths: dict[str, PathInfo] = {}
        reader = RequestReader(self.vocabulary)
        for path, slot in [*self.vocabulary.fields.items(), *self.vocabulary.facts.items()]:
            self.paths[path] = self._info(path, slot, reader)
        self.projections: dict[str, PathInfo] = {}
        for path, slot in self.vocabulary.chain_projections.items():
            values = tuple(self.vocabulary.enums[slot.type.enum].values) if slot.type.enum else ()
            self.projections[path] = PathInfo(path, slot, "set", values)
        if self.vocabulary.hop:
            length = Slot(CHAIN, Type("number"), "the number of hops in the chain")
            self.paths[CHAIN] = PathInfo(CHAIN, length, "hops")
            for key, slot in self.vocabulary.hop.items():
                values = tuple(self.vocabulary.enums[slot.type.enum].values) if slot.type.enum else ()
                self.paths[hop_path(key)] = PathInfo(hop_path(key), slot, slot.type.kind, values)
        reads = rules.compiled.reads
        quoted: set[str] = set()
        self.buckets: dict[str, DateBuckets] = plan_buckets(
            self.vocabulary,
            reads.date_literals,
            (),  # every date is bucketed here: a comparison of two date paths is split on both literals' sides
            quoted,
            [(r.effective.start, r.effective.end) for r in book.rules.values()],
        )

    def add_tests(self, prefix: str, other: Space) -> None:
        """Make the classes of values follow another rule book's tests too (its rule ids prefixed), for a
        diff of two rule books over one vocabulary."""
        for rid, found in other.tests.items():
            self.tests[prefix + rid] = found
            self.all_tests = _merge(self.all_tests, found)
        self.derived_readers |= {prefix + rid for rid in other.derived_readers}

    # -- building --------------------------------------------------------------------------

    def _info(self, path: str, slot: Slot, reader: RequestReader) -> PathInfo:
        kind = slot.type.kind
        values = tuple(self.vocabulary.enums[slot.type.enum].values) if slot.type.enum else ()
        may_be_absent = not slot.required and (slot.default is None or slot.default_when is not None)
        allow_empty = kind == "set" and self._accepts_empty(path, reader)
        return PathInfo(path, slot, kind, values, may_be_absent, allow_empty)

    def _accepts_empty(self, path: str, reader: RequestReader) -> bool:
        """Whether the request reader accepts an empty list at ``path`` (asked, not assumed, since the
        validation rules may refuse one)."""
        request = self.base_request()
        put(request, path, [])
        _env, errors = reader.read(request)
        return not errors

    def base_request(self) -> dict[str, Any]:
        """A minimal valid request: every required field with a value, nothing else."""
        request: dict[str, Any] = {}
        for path, slot in self.vocabulary.fields.items():
            if slot.required:
                request[path] = _any_value(self.vocabulary, slot)
        return request

    # -- splitting -------------------------------------------------------------------------

    def choices(self, path: str, assignment: Assignment, rule_ids: Iterable[str]) -> list[Choice]:
        """The branches for ``path``: one per class of values that ``rule_ids`` (the rules still undecided)
        can tell apart, and :data:`ABSENT` where a request may leave it out."""
        info = self.paths[path]
        tests = self._tests_for(rule_ids, path)
        if path == CHAIN:
            return self._chain_choices()
        if path.startswith(HOP):
            return self._hop_choices(path, info, assignment)
        if path == "date" or info.kind == "date":
            out = self._date_choices(path)
        elif info.kind == "enum":
            out = [Choice(min(c, key=info.values.index), c) for c in self._classes(path, info, tests, assignment)]
        elif info.kind == "set":
            out = self._set_choices(path, info, tests, assignment)
        elif info.kind == "bool":
            out = [Choice(True), Choice(False)]
        elif info.kind == "number":
            out = [Choice(v) for v in _number_points(self._scalar_literals(path, tests))]
        else:
            out = [Choice(v) for v in sorted(self._scalar_literals(path, tests), key=str)] + [Choice("(other text)")]
        if info.may_be_absent:
            out.append(Choice(ABSENT))
        return out

    def _tests_for(self, rule_ids: Iterable[str], path: str) -> Tests:
        """The tests of ``rule_ids``; every rule's if one of them reads ``chain.received_under`` and the hop's
        own decision reads ``path``, since the hop is decided by all the rules (with the request's holder as
        its recipient). The request's recipient is not among those: the hop's recipient is its own end."""
        out = Tests({}, {})
        for rid in rule_ids:
            if rid in self.derived_readers and path not in HOP_REPLACED_UNREAD:
                return self.all_tests
            out = _merge(out, self.tests.get(rid, Tests({}, {})))
        return out

    def _scalar_literals(self, path: str, tests: Tests) -> set[Any]:
        return {v for s in self.all_tests.literals.get(path, ()) for v in s}

    def _chain_choices(self) -> list[Choice]:
        """No chain (every hop key settled with it), or one hop."""
        none = {hop_path(k): ABSENT for k in self.vocabulary.hop}
        return [Choice(0, also=none), Choice(1)]

    def _hop_choices(self, path: str, info: PathInfo, assignment: Assignment) -> list[Choice]:
        """A hop's key: its date is read as a request's date (the hop is decided on it); its agencies stand for
        the hop's holder and recipient as well as for the chain's projections, so they are split as finely as
        any of those, and apart from the other end of the hop and from the request's holder (the hop must
        reach it); its route apart from every route a rule tests or grants."""
        key = path[len(HOP) :]
        if info.kind == "date":
            # The reader refuses a hop dated after the request: each choice is its class's first day, so a
            # class with a day on or before the last allowed has its choice there too.
            last = self.last_hop_date(assignment)
            return [c for c in self._date_choices("date") if last is None or c.value <= last]
        if info.kind != "enum":  # pragma: no cover - the bundled hop keys are enumerations and a date
            return [Choice(_any_value(self.vocabulary, info.slot))]
        found = set(self.all_tests.literals.get(f"chain.{key}", ()))
        if key == "route":
            found.update(self._grant_classes(info.values))
            found.update(self.all_tests.literals.get(RECEIVED_UNDER, ()))
            found.add(self.between)
        else:
            found.update(self._distinctions("holder", self.all_tests, {}))
            found.update(self._distinctions("recipient", self.all_tests, {}))
            for other in ("holder", hop_path("from"), hop_path("to")):
                value = assignment.get(other)
                if other != path and isinstance(value, str):
                    found.add(frozenset([value]))
        ordered = sorted(found, key=lambda d: sorted(map(str, d)))
        classes: dict[tuple[bool, ...], list[str]] = {}
        for value in info.values:
            classes.setdefault(tuple(value in d for d in ordered), []).append(value)
        choices = [Choice(min(c, key=info.values.index), frozenset(c)) for c in classes.values()]
        if key == "from" and self.self_hop_refused(assignment):
            # The reader refuses a hop to its sender under a route between agencies (the sender's value is
            # a class of its own: it is told apart from the hop's other end above).
            choices = [c for c in choices if assignment.get(hop_path("to")) not in (c.stands_for or {c.value})]
        return choices

    def self_hop_refused(self, assignment: Assignment) -> bool:
        """Whether the reader would refuse the hop if it went to its sender: it names a route between agencies
        (a class of routes is wholly in the group or wholly out of it: see _hop_choices)."""
        return assignment.get(hop_path("route")) in self.between

    def last_hop_date(self, assignment: Assignment) -> datetime.date | None:
        """The last date the hop may have here: the request's, and :attr:`hop_dates_until`."""
        days = [d for d in (assignment.get("date"), self.hop_dates_until) if isinstance(d, datetime.date)]
        return min(days) if days else None

    def _grant_classes(self, routes: Sequence[str]) -> set[frozenset[Any]]:
        """For each route a permit grants, the routes a hop may name to be matched by it (itself, and a
        paragraph it is a subparagraph of: see :mod:`~disclosure_rules.engine.provenance`)."""
        out: set[frozenset[Any]] = set()
        for rule in self.rules.book.rules.values():
            if rule.grants is not None:
                granted = rule.grants
                out.add(frozenset(r for r in routes if matches(granted, r)))
        return out

    def _date_choices(self, path: str) -> list[Choice]:
        plan = self.buckets.get(path)
        bounds = plan.boundaries if plan else []
        if not bounds:
            return [Choice(datetime.date(2025, 1, 1))]
        points = [bounds[0] - ONE_DAY, *bounds]
        return [Choice(day) for day in points]

    def _distinctions(self, path: str, tests: Tests, assignment: Assignment) -> set[frozenset[Any]]:
        """The value sets that tell values of ``path`` apart: its literals, and those of every path compared
        with it (transitively), and the value of a compared path already chosen."""
        found: set[frozenset[Any]] = set(self.tie_members.get(path, ()))
        seen = {path}
        pending = [path]
        while pending:
            current = pending.pop()
            found.update(tests.literals.get(current, ()))
            for partner in tests.partners.get(current, ()):
                value = assignment.get(partner)
                if value is not None and value is not ABSENT:
                    chosen = value if isinstance(value, frozenset) else frozenset([value])
                    found.add(chosen)
                    found.update(frozenset([v]) for v in chosen)
                if partner not in seen:
                    seen.add(partner)
                    pending.append(partner)
        return found

    def _classes(self, path: str, info: PathInfo, tests: Tests, assignment: Assignment) -> list[frozenset[str]]:
        distinctions = sorted(self._distinctions(path, tests, assignment), key=lambda s: sorted(map(str, s)))
        classes: dict[tuple[bool, ...], list[str]] = {}
        for value in info.values:
            signature = tuple(value in d for d in distinctions)
            classes.setdefault(signature, []).append(value)
        return [frozenset(c) for c in classes.values()]

    def _set_choices(self, path: str, info: PathInfo, tests: Tests, assignment: Assignment) -> list[Choice]:
        """None, one, or (where a test reads the set whole, or against another path) all of each class of
        values; the set is every union of those. Where every test is a membership test, whether the set meets
        a class is all that tells sets apart, and one value of a class stands for any part of it."""
        classes = sorted(self._classes(path, info, tests, assignment), key=lambda c: info.values.index(min(c)))
        whole = path in self.all_tests.whole or bool(self.all_tests.partners.get(path))
        options: list[list[frozenset[str]]] = []
        for cls in classes:
            first = min(cls, key=info.values.index)
            if len(cls) == 1:
                members = [frozenset(), cls]
            elif whole:
                members = [frozenset(), frozenset([first]), cls]
            else:
                members = [frozenset(), frozenset([first])]
            options.append(members)
        # Where every test asks only whether the set meets a list of values, two sets that meet the same
        # lists are told apart by no rule: one of them stands for both (the classes alone cannot say so,
        # since two classes a test reads together make four unions it answers alike in three ways).
        tested = () if whole else sorted(tests.literals.get(path, ()), key=sorted)
        seen: set[tuple[bool, ...]] = set()
        out: list[Choice] = []
        for combo in itertools.product(*options):
            value = frozenset().union(*combo)
            if not value and not info.allow_empty:
                continue
            if not whole:
                # An empty set is apart from every other (``within`` and a vacuous grant tell it apart).
                answers = (bool(value), *(not value.isdisjoint(listed) for listed in tested))
                if answers in seen:
                    continue
                seen.add(answers)
            out.append(Choice(value))
        return out

    def branching(self, path: str) -> int:
        """A rough count of branches, to split first on the paths that fan out least."""
        info = self.paths[path]
        if info.kind in ("bool", "hops"):
            return 2 + info.may_be_absent
        if info.kind == "enum":
            return 4 + info.may_be_absent
        if info.kind == "set":
            return 16
        return 6


def _number_points(literals: set[Any]) -> list[Any]:
    """One number per interval between literals, and each literal: every comparison with a literal is
    decided by which of these a number equals or falls between."""
    numbers = sorted({float(v) for v in literals if isinstance(v, (int, float)) and not isinstance(v, bool)})
    if not numbers:
        return [0]
    points: list[float] = [numbers[0] - 1]
    for low, high in itertools.pairwise(numbers):
        points += [low, (low + high) / 2]
    points += [numbers[-1], numbers[-1] + 1]
    return [int(p) if p == int(p) else p for p in points]


def _any_value(vocabulary: Vocabulary, slot: Slot) -> Any:
    kind = slot.type.kind
    if kind == "enum" and slot.type.enum:
        return next(iter(vocabulary.enums[slot.type.enum].values))
    if kind == "set":
        return []
    if kind == "date":
        return "2025-01-01"
    if kind == "bool":
        return False
    if kind == "number":
        return 0
    return "text"


def put(request: dict[str, Any], path: str, value: Any) -> None:
    """Put ``value`` at a field (``origin``) or a fact (``facts.request.signed_by``) of a request dict."""
    if not path.startswith("facts."):
        request[path] = value
        return
    node = request.setdefault("facts", {})
    parts = path.split(".")[1:]
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def json_value(value: Any) -> Any:
    """A chosen value as JSON puts it: a set as a sorted list, a date as YYYY-MM-DD."""
    if isinstance(value, frozenset):
        return sorted(value, key=str)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def unassigned(paths: Iterable[str], assignment: Assignment) -> list[str]:
    return [p for p in paths if p not in assignment]


def order_paths(space: Space, groups: Sequence[Iterable[str]], assignment: Assignment) -> str | None:
    """The path to split next: from the first group that has unchosen paths, the one most often read there,
    fanning out least; the date always first (it decides which rules are in force)."""
    if "date" not in assignment:
        return "date"
    for group in groups:
        counts: dict[str, int] = {}
        for path in group:
            if path not in assignment and path in space.paths:
                counts[path] = counts.get(path, 0) + 1
        if counts:
            return _prerequisite(space, min(counts, key=lambda p: (-counts[p], space.branching(p), p)), assignment)
    return None


def _prerequisite(space: Space, path: str, assignment: Assignment) -> str:
    """A hop's key is chosen once the chain has a hop, and after the holder it must reach (so that its
    classes can tell the holder apart). A fact tied to another fact's set is chosen after that set, so that
    its value is settled once chosen (see Oracle.env)."""
    slot = space.paths[path].slot if path in space.paths else None
    if slot is not None and slot.default_when is not None and slot.default_when[0] not in assignment:
        return slot.default_when[0]
    if path.startswith(HOP):
        if CHAIN not in assignment:
            return CHAIN
        if "holder" not in assignment:
            return "holder"
        # The hop's end and the route it names settle most: a hop that misses the holder, or names a route no
        # permit grants, gives no route whatever its other keys are (see Oracle.env).
        for first in (hop_path("to"), hop_path("route"), hop_path("date")):
            if first in space.paths and first not in assignment:
                return first
    return path
