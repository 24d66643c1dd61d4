"""The search: depth-first over partial requests, splitting one path at a time.

A *judge* looks at a partial request and says whether it is a leaf worth reporting (``found``), a branch
that cannot contain one (``prune``), or which paths to split next (``split``, in groups by priority). Every
judge in this package relies on Kleene monotonicity: a state the evaluator gives while paths are unchosen
holds for every choice of them, so a ``found`` or ``prune`` on a partial request covers all its completions,
and the search is complete: when it ends without a leaf, none exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import attrs

from .domain import Assignment, Space, order_paths


@attrs.frozen
class Step:
    kind: str  # "found", "prune" or "split"
    groups: tuple[tuple[str, ...], ...] = ()
    """For ``split``: paths to split on, the first group that has an unchosen path first."""
    rules: tuple[str, ...] = ()
    """The rules whose classes of values the split follows (the ones still undecided)."""
    tag: Any = None
    """For ``found``: what the judge found (reported with the leaf)."""
    key: Any = None
    """For ``split``: where two partial requests have the same key, their subtrees give the same leaves
    but for the values of paths no undecided rule reads; the second is searched no further, and recorded
    as an alias of the first (see :class:`Search`)."""


FOUND = Step("found")
PRUNE = Step("prune")


def split(groups: Sequence[Iterable[str]], rules: Iterable[str], key: Any = None) -> Step:
    return Step("split", tuple(tuple(g) for g in groups), tuple(rules), key=key)


@attrs.frozen
class Leaf:
    assignment: Assignment
    tag: Any
    stands_for: Assignment
    """For each chosen path, the class of values its chosen value stands for (None: only itself)."""
    ancestors: tuple[int, ...] = ()
    """The partial requests above this leaf that others were merged into (see :attr:`Search.aliases`)."""


class Budget(Exception):
    """The search visited more partial requests than it was allowed to."""


LIMIT = 2_000_000
"""Partial requests one search may visit before it gives up (and says so: see :class:`Budget`)."""


class Search:
    """A depth-first search; :attr:`aliases` lists, for each partial request others were merged into, those
    others (their choices and classes), so that a region can say every value it covers."""

    def __init__(self, space: Space, judge: Callable[[Assignment], Step], *, limit: int | None = None) -> None:
        self.space = space
        self.judge = judge
        self.limit = LIMIT if limit is None else limit
        self.aliases: dict[int, list[tuple[Assignment, Assignment]]] = {}

    def run(self, start: Assignment, *, first: bool = False) -> Iterator[Leaf]:
        """Every leaf the judge finds below ``start`` (only the first, with ``first``).

        A split with no unchosen path left is pruned: every path the undecided rules read has its value
        (they are unknown because the request leaves facts out).
        """
        stack: list[tuple[dict[str, Any], dict[str, Any], tuple[int, ...]]] = [(dict(start), {}, ())]
        seen: dict[Any, int] = {}
        visited = 0
        while stack:
            assignment, classes, ancestors = stack.pop()
            visited += 1
            if visited > self.limit:
                raise Budget(f"the search visited more than {self.limit:,} partial requests")
            # The evaluator needs the date (it decides which rules are in force): it is chosen first.
            step = self.judge(assignment) if "date" in assignment else Step("split", (("date",),))
            if step.kind == "found":
                yield Leaf(assignment, step.tag, classes, ancestors)
                if first:
                    return
                continue
            if step.kind == "prune":
                continue
            if step.key is not None:
                known = seen.get(step.key)
                if known is not None:
                    self.aliases.setdefault(known, []).append((assignment, classes))
                    continue
                seen[step.key] = visited
                ancestors = (*ancestors, visited)
            path = order_paths(self.space, step.groups, assignment)
            if path is None:
                continue
            for choice in reversed(self.space.choices(path, assignment, step.rules)):
                stack.append(
                    ({**assignment, path: choice.value, **choice.also}, {**classes, path: choice.stands_for}, ancestors)
                )


def explore(
    space: Space,
    start: Assignment,
    judge: Callable[[Assignment], Step],
    *,
    first: bool = False,
    limit: int | None = None,
) -> Iterator[Leaf]:
    """Every leaf the judge finds below ``start`` (only the first, with ``first``), depth first."""
    return Search(space, judge, limit=limit).run(start, first=first)
