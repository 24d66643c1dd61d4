"""Every combination of rule states a slice of requests can reach, one representative request each.

An outcome depends on the rules' states, not on which facts produced them; and rules that read disjoint
unchosen paths reach their states independently. So the search splits while the undecided rules form one
group (linked by the paths they read), and where they fall into independent groups it settles each group
on its own and combines their states. This keeps a diff from enumerating the product of every way each
unrelated rule can fail.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ..evaluator import Verdict
from .domain import Assignment, Space, order_paths
from .oracle import Oracle

Evaluate = Callable[[Assignment], tuple[Verdict, ...]]
"""The verdicts of every side (one for an analysis, two for a diff) on a partial request."""

Found = dict[Any, tuple[dict[str, Any], dict[str, Any]]]
"""State key -> (the choices that reach it, the classes those choices stand for)."""

MAX_COMBINATIONS = 200_000


class StateSearch:
    def __init__(self, space: Space, sides: Sequence[Oracle], evaluate: Evaluate, prefixes: Sequence[str]) -> None:
        self.space = space
        self.sides = sides
        self.evaluate = evaluate
        self.prefixes = prefixes
        self.chain_paths = {p for p, info in space.paths.items() if info.is_chain}

    def _open(self, verdicts: tuple[Verdict, ...], assignment: Assignment, scope: frozenset[str]) -> list[str]:
        """Undecided rules of the scope, as ``side-prefix + id``."""
        out: list[str] = []
        for prefix, oracle, verdict in zip(self.prefixes, self.sides, verdicts, strict=True):
            ids = [rid for rid in oracle.ids if prefix + rid in scope]
            out += [prefix + rid for rid in oracle.open_rules(verdict, assignment, ids)]
        return out

    def _reads(self, tagged: str, assignment: Assignment) -> set[str]:
        for prefix, oracle in zip(self.prefixes, self.sides, strict=True):
            if tagged.startswith(prefix) and tagged[len(prefix) :] in oracle.reads:
                paths = {p for p in oracle.reads[tagged[len(prefix) :]] if p not in assignment}
                # The chain's projections are chosen together (all empty or none), so they link rules.
                return {"chain" if p in self.chain_paths else p for p in paths}
        return set()

    def _key(self, verdicts: tuple[Verdict, ...], scope: frozenset[str]) -> Any:
        # One entry per rule: where both sides are one rule book on two dates, the rule's states on the
        # two dates together.
        entries: dict[str, list[bool | None]] = {}
        for prefix, oracle, verdict in zip(self.prefixes, self.sides, verdicts, strict=True):
            for rid in oracle.ids:
                if prefix + rid in scope:
                    entries.setdefault(prefix + rid, []).append(verdict.states[rid].holds)
        return tuple((rid, tuple(v)) for rid, v in sorted(entries.items()))

    def _bound(self, verdicts: tuple[Verdict, ...], scope: frozenset[str]) -> int:
        """How many keys the scope can have at most: a rule's state is one of three on each side, and the
        same on both where both sides read it alike (in force on both dates, or on neither)."""
        bound = 1
        for tagged, states in self._key(verdicts, scope):
            distinct = {s for s in states}
            bound *= 3 if len(states) == 1 or (len(distinct) == 1 and self._alike(tagged, verdicts)) else 9
        return bound

    def _alike(self, tagged: str, verdicts: tuple[Verdict, ...]) -> bool:
        if len(self.sides) != 2 or self.sides[0] is not self.sides[1]:
            return True
        oracle = self.sides[0]
        states = [v.states[tagged] for v in verdicts if tagged in v.states]
        return len({s.in_force for s in states}) == 1 and "date" not in oracle.compiled.rules[tagged].reads.paths

    def _components(self, rules: list[str], assignment: Assignment) -> list[list[str]]:
        reads = {r: self._reads(r, assignment) for r in rules}
        groups: list[tuple[set[str], list[str]]] = []
        for rule in rules:
            paths, members = set(reads[rule]), [rule]
            for other in [g for g in groups if g[0] & paths]:
                groups.remove(other)
                paths |= other[0]
                members += other[1]
            groups.append((paths, members))
        return [members for _paths, members in groups]

    def run(self, assignment: Assignment, scope: frozenset[str], prune: Callable[..., bool] | None = None) -> Found:
        """The state keys of ``scope`` reachable below ``assignment``; ``prune(verdicts)`` cuts a branch."""
        verdicts = self.evaluate(assignment)
        if prune is not None and prune(verdicts):
            return {}
        open_rules = self._open(verdicts, assignment, scope)
        if not open_rules:
            return {self._key(verdicts, scope): ({}, {})}
        components = self._components(open_rules, assignment)
        if len(components) > 1:
            return self._combine(assignment, scope, components)
        return self._split(assignment, scope, open_rules, prune)

    def _split(
        self, assignment: Assignment, scope: frozenset[str], open_rules: list[str], prune: Callable[..., bool] | None
    ) -> Found:
        paths = [p for r in open_rules for p in self._reads_raw(r, assignment)]
        path = order_paths(self.space, [paths], assignment)
        found: Found = {}
        if path is None:
            return found
        bound = self._bound(self.evaluate(assignment), scope) if prune is None else 0
        for choice in self.space.choices(path, assignment, open_rules):
            below = self.run({**assignment, path: choice.value}, scope, prune)
            for key, (choices, classes) in below.items():
                if key not in found:
                    found[key] = ({path: choice.value, **choices}, {path: choice.stands_for, **classes})
            if len(found) >= bound > 0:
                break  # every key the scope can have is found: the rest of the branches add none
        return found

    def _reads_raw(self, tagged: str, assignment: Assignment) -> list[str]:
        for prefix, oracle in zip(self.prefixes, self.sides, strict=True):
            if tagged.startswith(prefix) and tagged[len(prefix) :] in oracle.reads:
                return [p for p in oracle.reads[tagged[len(prefix) :]] if p not in assignment]
        return []

    def _combine(self, assignment: Assignment, scope: frozenset[str], components: list[list[str]]) -> Found:
        """Settle each independent group alone, then every combination of their states."""
        parts = [self.run(assignment, frozenset(c)) for c in components]
        found: Found = {}
        for count, combo in enumerate(itertools.product(*(list(p.values()) for p in parts)), start=1):
            if count > MAX_COMBINATIONS:
                raise RuntimeError("too many combinations of rule states")
            choices: dict[str, Any] = {}
            classes: dict[str, Any] = {}
            for part_choices, part_classes in combo:
                choices.update(part_choices)
                classes.update(part_classes)
            verdicts = self.evaluate({**assignment, **choices})
            key = self._key(verdicts, scope)
            if key not in found:
                found[key] = (choices, classes)
        return found
