"""Decide: from the rules' truth values on one request to a verdict.

The semantics, as statutes are written (``docs/semantics.md`` states them for readers):

* A rule *holds* when it is in force on the request's date and its condition is
  true. It *applies* when it holds and no rule that is an exception to it
  applies. Values are three-valued (true, false, unknown), so
  ``applies = holds and not (any exception applies)`` in Kleene's logic.
* If a forbidding rule applies, the decision is deny (``prohibited``); a
  permitting rule that also applies, and is not related to it by exceptions,
  is recorded as a conflict that the forbid wins.
* Otherwise, if a permitting rule applies and no forbidding rule could apply
  once unknown facts are known, the decision is permit (``permitted``).
* Otherwise, if some permitting rule could apply depending on unknown facts,
  the decision is deny (``indeterminate``), listing the facts that would settle it.
* Otherwise nothing authorizes the disclosure: deny (``no_authority``).

Because Kleene's logic is monotone, a rule that is true (or false) with some
facts unknown stays true (or false) whatever those facts turn out to be; so a
definite answer given with unknown facts can never be overturned by them.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import attrs

from .compiler import UNKNOWN, CompiledRulebook

State = bool | None


@attrs.frozen
class RuleState:
    in_force: bool
    holds: State
    applies: State


@attrs.frozen
class Verdict:
    decision: str
    status: str
    rule: str | None
    chain: tuple[str, ...]
    conflicts: tuple[str, ...]
    undecided: tuple[str, ...]
    unknown_facts: tuple[str, ...]
    states: Mapping[str, RuleState] = attrs.field(eq=False, repr=False)


def evaluate(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date) -> dict[str, RuleState]:
    """Every rule's state on this request, exceptions evaluated before the rules they override."""
    states: dict[str, RuleState] = {}
    rules = compiled.book.rules
    tests = compiled.rules
    exceptions = compiled.exceptions
    for rid in compiled.order:
        in_force = rules[rid].effective.covers(day)
        holds: State = tests[rid].test(env) if in_force else False
        overridden: State = False
        for exception in exceptions[rid]:
            value = states[exception].applies
            if value is True:
                overridden = True
                break
            if value is None:
                overridden = None
        if holds is False or overridden is True:
            applies: State = False
        elif holds is None or overridden is None:
            applies = None
        else:
            applies = True
        states[rid] = RuleState(in_force, holds, applies)
    return states


def decide(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date) -> Verdict:
    states = evaluate(compiled, env, day)
    forbid_true: list[str] = []
    permit_true: list[str] = []
    forbid_unknown: list[str] = []
    permit_unknown: list[str] = []
    for rid, declared in compiled.book.rules.items():
        applies = states[rid].applies
        if applies is False:
            continue
        if declared.kind == "forbid":
            (forbid_true if applies else forbid_unknown).append(rid)
        else:
            (permit_true if applies else permit_unknown).append(rid)

    if forbid_true:
        rule = _controlling(compiled, forbid_true, states)
        return Verdict("deny", "prohibited", rule, _chain(compiled, rule, states), tuple(permit_true), (), (), states)
    if permit_true and not forbid_unknown:
        rule = _controlling(compiled, permit_true, states)
        return Verdict("permit", "permitted", rule, _chain(compiled, rule, states), (), (), (), states)
    if permit_true or permit_unknown:
        undecided = tuple(forbid_unknown + permit_unknown)
        unknown = _unknown_facts(compiled, undecided, states, env)
        rule = (permit_unknown or permit_true)[0]
        return Verdict("deny", "indeterminate", rule, _chain(compiled, rule, states), (), undecided, unknown, states)
    return Verdict("deny", "no_authority", None, (), (), (), (), states)


def _held_depth(compiled: CompiledRulebook, rid: str, states: Mapping[str, RuleState]) -> int:
    """How many rules, counting ``rid``, lead down to it through rules that held on this request."""
    held = [p for p in compiled.book.rules[rid].exception_to if states[p].holds is True]
    return 1 + max((_held_depth(compiled, p, states) for p in held), default=0)


def _controlling(compiled: CompiledRulebook, candidates: list[str], states: Mapping[str, RuleState]) -> str:
    """The most specific candidate that decided: the deepest chain of exceptions that held, then first declared.

    A court order that overrides a permit which held (§ 6103(a) -> (i)(2) -> order) is more specific than
    the general rule; an exception to a permit that did not hold overrode nothing, so it counts as shallow.
    """
    position = compiled.position
    return min(candidates, key=lambda rid: (-_held_depth(compiled, rid, states), position[rid]))


def _chain(compiled: CompiledRulebook, rid: str, states: Mapping[str, RuleState]) -> tuple[str, ...]:
    """The path from a general rule down to ``rid``, preferring parents that held."""
    path = [rid]
    current = rid
    while True:
        parents = compiled.book.rules[current].exception_to
        if not parents:
            break
        held = [p for p in parents if states[p].holds is True]
        current = (held or list(parents))[0]
        if current in path:  # pragma: no cover - the loader refuses cycles
            break
        path.append(current)
    return tuple(reversed(path))


def _unknown_facts(
    compiled: CompiledRulebook, undecided: tuple[str, ...], states: Mapping[str, RuleState], env: Mapping[str, Any]
) -> tuple[str, ...]:
    """The unstated facts read by the undecided rules and by their undecided exceptions."""
    wanted: set[str] = set()
    pending = list(undecided)
    seen: set[str] = set()
    while pending:
        rid = pending.pop()
        if rid in seen:
            continue
        seen.add(rid)
        if states[rid].holds is None:
            wanted.update(p for p in compiled.rules[rid].reads.paths if env.get(p, UNKNOWN) is UNKNOWN)
        pending.extend(e for e in compiled.exceptions[rid] if states[e].applies is None)
    order = {p: i for i, p in enumerate(compiled.book.vocabulary.readable_paths())}
    return tuple(sorted(wanted, key=lambda p: order.get(p, len(order))))
