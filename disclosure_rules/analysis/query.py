"""``analyze --can permit|deny --where ... --on ...``: can any request of a slice be permitted (denied)?

The answer is "never" only when the search over the whole slice ends without a leaf: a proof over every
request the vocabulary allows there. Otherwise it is "yes", with a witness and the facts the search had to
fix to reach it (the facts that decide it).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import attrs

from ..checker import Rules
from ..intake.request import parse_date
from .domain import ABSENT, Assignment, Space, json_value
from .oracle import Oracle
from .search import FOUND, PRUNE, Step, explore, split
from .witness import redecide, request_of


class QueryError(ValueError):
    """A ``--where`` that names no path or gives a value the vocabulary does not allow."""


@attrs.frozen
class Answer:
    question: str
    possible: bool
    witness: Mapping[str, Any] | None
    decided: str
    confirmed: bool
    deciding_facts: Mapping[str, Any]
    """The paths the search fixed to reach the witness (beyond the slice), with their values."""
    deciding_rules: tuple[str, ...]
    """For "never": the rules that decided the requests of the slice."""

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=False) | {
            "witness": dict(self.witness) if self.witness else None,
            "deciding_facts": dict(self.deciding_facts),
        }


def parse_where(space: Space, where: Mapping[str, str]) -> dict[str, Any]:
    """``{"holder": "IRS", "facts.request.in_writing": "true", "origin": "irs_records+usps"}`` as chosen
    values; ``unknown`` leaves a path out."""
    out: dict[str, Any] = {}
    for path, text in where.items():
        info = space.paths.get(path) or space.paths.get(f"facts.{path}")
        if info is None:
            raise QueryError(f"`{path}` is not a field, fact or chain projection of the vocabulary")
        out[info.path] = _value(info.kind, info.values, info.path, text, info.may_be_absent)
    return out


def _value(kind: str, values: tuple[str, ...], path: str, text: str, may_be_absent: bool) -> Any:
    if text in ("unknown", "absent") and may_be_absent:
        return ABSENT
    if kind == "enum":
        if text not in values:
            raise QueryError(f"`{text}` is not a value of `{path}`")
        return text
    if kind == "set":
        items = [t for t in text.split("+") if t]
        bad = [t for t in items if t not in values]
        if bad:
            raise QueryError(f"`{bad[0]}` is not a value of `{path}` (separate several values with +)")
        return frozenset(items)
    if kind == "bool":
        if text not in ("true", "false"):
            raise QueryError(f"`{path}` is true or false, not `{text}`")
        return text == "true"
    if kind == "date":
        day = parse_date(text)
        if day is None:
            raise QueryError(f"`{text}` is not a date written YYYY-MM-DD")
        return day
    if kind == "number":
        try:
            return float(text) if "." in text else int(text)
        except ValueError:
            raise QueryError(f"`{text}` is not a number") from None
    return text


def query(rules: Rules, can: str, where: Mapping[str, str] | None = None, on: datetime.date | None = None) -> Answer:
    oracle = Oracle(rules)
    start = parse_where(oracle.space, where or {})
    if on is not None:
        start["date"] = on
    deciding: set[str] = set()
    judge = _permit_judge(oracle, deciding) if can == "permit" else _deny_judge(oracle, deciding)
    leaf = next(explore(oracle.space, start, judge, first=True), None)
    question = f"can {can}" + "".join(f", {k}={v}" for k, v in (where or {}).items()) + (f" on {on}" if on else "")
    if leaf is None:
        return Answer(question, False, None, "", True, {}, tuple(sorted(deciding)))
    request = request_of(oracle.space, leaf.assignment)
    decision, _verdict = redecide(rules, request)
    facts = {p: json_value(v) if v is not ABSENT else None for p, v in leaf.assignment.items() if p not in start}
    decided = f"{decision.decision} ({decision.status})" + (f" by {decision.rule}" if decision.rule else "")
    return Answer(question, True, request, decided, decision.decision == can, facts, ())


def _permit_judge(oracle: Oracle, deciding: set[str]) -> Any:
    permits = [rid for rid, r in oracle.book.rules.items() if r.kind == "permit"]

    def judge(assignment: Assignment) -> Step:
        verdict = oracle.verdict(assignment)
        if verdict.decision == "permit":
            return FOUND
        live = [p for p in permits if verdict.states[p].applies is not False and not oracle.cannot_hold(p, assignment)]
        if verdict.status == "prohibited" or not live:
            deciding.add(verdict.rule or "(no rule authorizes it)")
            return PRUNE
        return _split_or_prune(oracle, verdict, assignment, live, deciding)

    return judge


def _deny_judge(oracle: Oracle, deciding: set[str]) -> Any:
    def judge(assignment: Assignment) -> Step:
        verdict = oracle.verdict(assignment)
        if verdict.decision == "permit":
            deciding.add(verdict.rule or "")
            return PRUNE
        if verdict.status == "prohibited" or oracle.settled(verdict, assignment):
            return FOUND
        return _split_or_prune(oracle, verdict, assignment, oracle.ids, deciding)

    return judge


def _split_or_prune(oracle: Oracle, verdict: Any, assignment: Assignment, focus: Any, deciding: set[str]) -> Step:
    open_focus = oracle.open_rules(verdict, assignment, focus)
    open_all = open_focus or oracle.open_rules(verdict, assignment, oracle.ids)
    if not open_all:
        deciding.add(verdict.rule or "(no rule authorizes it)")
        return PRUNE
    return split([oracle.paths_of(open_all, assignment)], open_all)
