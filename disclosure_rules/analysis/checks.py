"""The checks of ``disclosure-rules analyze``, each a complete search with a witness per finding.

* ``reach``: a rule that never applies (its condition never holds, or its exceptions always defeat it);
  a part of a condition that is never true, never false, or never changes whether the rule holds.
* ``conflict``: a permit and a forbid, not exceptions one of the other, that both act on one request (see
  :func:`in_force`); two permits with different obligations that both act on it.
* ``vacuous``: a permit that holds with an empty list where it does not hold with the list left out
  (the empty list passes a test a real value would have to pass).
* ``unknowns``: a permit that applies while a path its own condition reads is left out.
* ``errors``: a well-typed request on which evaluating a rule raises.

Each judge asks the evaluator (:class:`~.oracle.Oracle`) and never evaluates a rule itself; condition parts
are evaluated by the predicates the compiler built for them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..checker import Rules
from ..engine.evaluator import State, Verdict, prohibiting
from ..rulebook.model import Rule
from ..rulebook.vocabulary import Slot
from . import search
from .conditions import first_leaf, unit_findings
from .disjoint import Disjointness
from .domain import ABSENT, CHAIN, Assignment
from .oracle import EvaluationFailed, Oracle
from .report import Finding
from .search import FOUND, PRUNE, Budget, Leaf, Step, explore, split
from .witness import redecide, request_of

CHECKS: tuple[str, ...] = ("reach", "conflict", "vacuous", "unknowns", "errors")


def analyze(rules: Rules, checks: Iterable[str] = CHECKS, *, jobs: int = 1) -> list[Finding]:
    """Run ``checks`` on ``rules``; every finding carries a witness decided again, and ``intended`` set when
    the rules declare it. With ``jobs`` above 1, that many processes share the questions each check asks (a
    rule, a pair of rules, a path of a rule), each taking the next that no process has taken (:class:`Shard`),
    and the findings are put back in the order one process gives them."""
    wanted = tuple(name for name in CHECKS if name in set(checks))
    if jobs <= 1:
        placed = _run_shard(rules, wanted)
    else:
        import concurrent.futures
        import multiprocessing

        claimed = multiprocessing.Array("b", len(CHECKS) * _QUESTIONS)
        with concurrent.futures.ProcessPoolExecutor(jobs, initializer=_share, initargs=(claimed,)) as pool:
            parts = pool.map(_run_shard, [rules] * jobs, [wanted] * jobs)
            placed = [item for part in parts for item in part]
    placed.sort(key=lambda item: item[0])
    return [_declared(rules, finding) for _place, finding in placed]


_QUESTIONS = 1 << 16
"""Questions one check may ask, at most, when they are dealt to several processes."""

_CLAIMED: Any = None
"""In a worker process: the questions some process has taken, one flag per check and question."""


def _share(claimed: Any) -> None:
    global _CLAIMED
    _CLAIMED = claimed


class Shard:
    """Which of a check's questions this process asks. Every process walks the same questions in the same
    order, calling :meth:`takes` once for each; alone, it asks them all; beside others, it asks each question
    no process has taken yet, so that a process that finishes a hard question early takes on the next while
    another is still busy. :attr:`current` is the number of the question last met, which places the findings
    it yields."""

    def __init__(self, position: int) -> None:
        self.offset = position * _QUESTIONS
        self.current = -1

    def takes(self) -> bool:
        self.current += 1
        if _CLAIMED is None:
            return True
        if self.current >= _QUESTIONS:
            raise Budget(f"the check asks more than {_QUESTIONS:,} questions")
        with _CLAIMED.get_lock():
            if _CLAIMED[self.offset + self.current]:
                return False
            _CLAIMED[self.offset + self.current] = 1
            return True


Placed = tuple[tuple[int, int, int], Finding]
"""A finding with its place: the check's position, the question's number, and its order among the question's."""

_LAST = 1 << 62
"""The place of a check's closing finding (it ran out of budget, or the evaluator raised): after the rest."""


def _run_shard(rules: Rules, wanted: Sequence[str]) -> list[Placed]:
    oracle = Oracle(rules)
    runners: dict[str, Callable[[Oracle, Shard], Iterator[Finding]]] = {
        "reach": _reach,
        "conflict": _conflicts,
        "vacuous": _vacuous,
        "unknowns": _unknowns,
        "errors": _errors,
    }
    placed: list[Placed] = []
    for position, name in enumerate(CHECKS):
        if name not in wanted:
            continue
        shard = Shard(position)
        try:
            for order, finding in enumerate(runners[name](oracle, shard)):
                placed.append(((position, shard.current, order), finding))
        except EvaluationFailed as failed:
            placed.append(((position, _LAST, shard.current), _error_finding(oracle, failed)))
        except Budget as exceeded:
            placed.append(((position, _LAST, shard.current), _incomplete(name, exceeded)))
    return placed


def _incomplete(check: str, exceeded: Budget) -> Finding:
    """A check that could not finish: never a pass (its silence would claim a proof it does not have)."""
    return Finding(
        check,
        "incomplete",
        (),
        f"The `{check}` check did not finish: {exceeded}, so it proves nothing about the rules it had not "
        "reached; the findings before this one stand.",
        None,
        "",
        True,
    )


# -- reach ----------------------------------------------------------------------------------------


def _state_judge(oracle: Oracle, rid: str, attribute: str) -> Callable[[Assignment], Step]:
    """Found where ``rid`` holds (or applies), pruned where it cannot."""
    closure = oracle.closure(rid) if attribute == "applies" else (rid,)

    def judge(assignment: Assignment) -> Step:
        verdict = oracle.verdict(assignment)
        value = getattr(verdict.states[rid], attribute)
        if value is True:
            return FOUND
        if value is False or oracle.cannot_hold(rid, assignment) or oracle.stuck(rid, verdict, assignment):
            return PRUNE
        return _refine(oracle, verdict, assignment, closure)

    return judge


def _refine(oracle: Oracle, verdict: object, assignment: Assignment, focus: Sequence[str]) -> Step:
    """Split on what the undecided rules of ``focus`` read, else on any undecided rule; prune when none is."""
    from ..engine.evaluator import Verdict

    assert isinstance(verdict, Verdict)
    open_focus = oracle.open_rules(verdict, assignment, focus)
    if open_focus:
        return split([oracle.paths_of(open_focus[:1], assignment), oracle.paths_of(open_focus, assignment)], open_focus)
    open_any = oracle.open_rules(verdict, assignment, oracle.ids)
    if open_any:
        return split([oracle.paths_of(open_any, assignment)], open_any)
    return PRUNE


def _reach(oracle: Oracle, shard: Shard) -> Iterator[Finding]:
    for rid, rule in oracle.book.rules.items():
        if not shard.takes():
            continue
        applies = first_leaf(oracle, {}, _state_judge(oracle, rid, "applies"))
        if applies is not None:
            yield from unit_findings(oracle, rid)
            continue
        holds = first_leaf(oracle, {}, _state_judge(oracle, rid, "holds"))
        if holds is None:
            yield Finding(
                "reach",
                "unreachable",
                (rid,),
                f"{_name(rule)} never applies: no request makes its condition hold"
                + (f" {rule.effective.describe()}" if not rule.effective.always else "")
                + ".",
                None,
                "",
                True,
            )
            yield from unit_findings(oracle, rid)
            continue
        yield _confirmed(
            oracle,
            Finding(
                "reach",
                "always_defeated",
                (rid, *oracle.exceptions[rid]),
                f"{_name(rule)} never applies: wherever it holds, an exception to it applies.",
                request_of(oracle.space, holds.assignment),
                "",
                False,
            ),
            lambda v, r=rid: v.states[r].holds is True and v.states[r].applies is not True,
        )


# -- conflict -------------------------------------------------------------------------------------


def in_force(oracle: Oracle, verdict: Verdict, rid: str) -> State:
    """Whether a rule acts on this request, as the ``conflict`` check counts it: a forbid when it prohibits
    (it applies, and through the rules it is an exception to, it stands); a permit when it applies and, if it
    is an exception to prohibitions, one of them holds. A permit under a prohibition the request does not
    meet permits nothing that needed permitting: § 6103(i)(2) on data that is not return information, or a
    Privacy Act exception for a person the Act does not protect (the evaluator does not let it control either:
    see :func:`~disclosure_rules.engine.evaluator.tie_break`). Kleene's logic throughout, so a definite answer
    on a partial request stays for every completion."""
    rule = oracle.book.rules[rid]
    if rule.kind == "forbid":
        return prohibiting(oracle.compiled, verdict.states)[rid]
    applies = verdict.states[rid].applies
    if applies is False or not rule.exception_to:
        return applies
    parents = [verdict.states[p].holds for p in rule.exception_to]
    if any(h is True for h in parents):
        return applies
    if all(h is False for h in parents):
        return False
    return None


def _pair_judge(oracle: Oracle, a: str, b: str) -> Callable[[Assignment], Step]:
    focus = tuple(dict.fromkeys([*oracle.closure(a), *oracle.closure(b)]))

    def judge(assignment: Assignment) -> Step:
        verdict = oracle.verdict(assignment)
        first, second = in_force(oracle, verdict, a), in_force(oracle, verdict, b)
        if (
            first is False
            or second is False
            or any(oracle.cannot_hold(r, assignment) or oracle.stuck(r, verdict, assignment) for r in (a, b))
        ):
            return PRUNE
        if first is True and second is True:
            return FOUND
        return _refine(oracle, verdict, assignment, focus)

    return judge


FIRST_TRY = 20_000
"""Partial requests the conflict check's first order of splitting may visit before it tries the other."""


def _pair_leaf(oracle: Oracle, a: str, b: str) -> Leaf | None:
    """A request both rules act on, or None (a proof). Two orders of splitting, each complete: the chain's
    hop with everything else, which finds most meetings at once, and, if that walks more than
    :data:`FIRST_TRY` partial requests, the request's own paths before the hop (see :func:`_own_paths_first`),
    which settles most pairs that never meet."""
    judge = _pair_judge(oracle, a, b)
    try:
        return next(explore(oracle.space, {}, judge, first=True, limit=min(FIRST_TRY, search.LIMIT)), None)
    except Budget:
        return first_leaf(oracle, {}, _own_paths_first(judge))


def _may_overlap(x: Rule, y: Rule) -> bool:
    ex, ey = x.effective, y.effective
    return not (
        (ex.end is not None and ey.start is not None and ex.end < ey.start)
        or (ey.end is not None and ex.start is not None and ey.end < ex.start)
    )


def _conflicts(oracle: Oracle, shard: Shard) -> Iterator[Finding]:
    rules = oracle.book.rules
    permits = [r for r in rules.values() if r.kind == "permit"]
    forbids = [r for r in rules.values() if r.kind == "forbid"]
    pairs = [(f, p, "permit_forbid") for f in forbids for p in permits]
    pairs += [
        (p, q, "permit_permit")
        for p, q in itertools.combinations(permits, 2)
        if set(p.obligations) != set(q.obligations)
    ]
    disjoint = Disjointness(oracle)
    for x, y, kind in pairs:
        if not shard.takes():
            continue
        if oracle.related(x.id, y.id) or not _may_overlap(x, y) or disjoint.in_force(x.id, y.id):
            continue
        leaf = _pair_leaf(oracle, x.id, y.id)
        if leaf is None:
            continue
        if kind == "permit_forbid":
            message = (
                f"{_name(x)} prohibits a request that {_name(y)} permits, and neither is an exception to the "
                "other: the forbid controls, overriding this route as well as those it is an exception to, "
                "and the author should know."
            )
        else:
            message = (
                f"{_name(x)} and {_name(y)} both permit one request, with different obligations "
                f"({', '.join(x.obligations) or 'none'} / {', '.join(y.obligations) or 'none'}); only the "
                "controlling rule's obligations are reported."
            )
        yield _confirmed(
            oracle,
            Finding("conflict", kind, (x.id, y.id), message, request_of(oracle.space, leaf.assignment), "", False),
            lambda v, a=x.id, b=y.id: in_force(oracle, v, a) is True and in_force(oracle, v, b) is True,
        )


# -- vacuous grants -------------------------------------------------------------------------------


def _vacuous(oracle: Oracle, shard: Shard) -> Iterator[Finding]:
    space = oracle.space
    for rid, rule in oracle.book.rules.items():
        if rule.kind != "permit" or not shard.takes():
            continue
        for path in oracle.reads[rid]:
            info = space.paths.get(path)
            if info is None or info.kind != "set" or not info.may_be_absent or not info.allow_empty:
                continue
            leaf = first_leaf(oracle, {path: frozenset()}, _vacuous_judge(oracle, rid, path))
            if leaf is None:
                continue
            yield _confirmed(
                oracle,
                Finding(
                    "vacuous",
                    "empty_set",
                    (rid,),
                    f"{_name(rule)} holds when `{path}` is an empty list, and not when it is left out: the "
                    "empty list passes a test that a real value would have to pass.",
                    request_of(space, leaf.assignment),
                    "",
                    False,
                    path=path,
                ),
                lambda v, r=rid: v.states[r].holds is True,
            )


def _vacuous_judge(oracle: Oracle, rid: str, path: str) -> Callable[[Assignment], Step]:
    def judge(assignment: Assignment) -> Step:
        with_empty = oracle.verdict(assignment).states[rid].holds
        if with_empty is False:
            return PRUNE
        left_out = {**assignment, path: ABSENT}
        verdict = oracle.verdict(left_out)
        without = verdict.states[rid].holds
        if without is True:
            return PRUNE
        pending = oracle.pending(rid, assignment)
        if with_empty is True and (without is False or not pending):
            return FOUND
        if not pending:
            return PRUNE
        return split([pending], [rid])

    return judge


# -- unknowns -------------------------------------------------------------------------------------


def _unknowns(oracle: Oracle, shard: Shard) -> Iterator[Finding]:
    space = oracle.space
    for rid, rule in oracle.book.rules.items():
        if rule.kind != "permit":
            continue
        for path in oracle.reads[rid]:
            info = space.paths.get(path)
            if info is None or not info.may_be_absent or not shard.takes():
                continue
            judge = _own_paths_first(_state_judge(oracle, rid, "applies"))
            leaf = first_leaf(oracle, {path: ABSENT}, _where_untied(judge, info.slot))
            if leaf is None:
                continue
            yield _confirmed(
                oracle,
                Finding(
                    "unknowns",
                    "unknown_fact",
                    (rid,),
                    f"{_name(rule)} applies to a request that leaves out `{path}`, which its condition reads.",
                    request_of(space, leaf.assignment),
                    "",
                    False,
                    path=path,
                ),
                lambda v, r=rid: v.states[r].applies is True,
            )


def _where_untied(judge: Callable[[Assignment], Step], slot: Slot) -> Callable[[Assignment], Step]:
    """``judge``, on the requests where a fact left out stays unknown: not where the set it is tied to is given
    (see Slot.default_when), since there it is presumed, or false, but not unknown."""
    if slot.default_when is None:
        return judge
    where = slot.default_when[0]

    def where_untied(assignment: Assignment) -> Step:
        if isinstance(assignment.get(where), frozenset):
            return PRUNE
        return judge(assignment)

    return where_untied


def _own_paths_first(judge: Callable[[Assignment], Step]) -> Callable[[Assignment], Step]:
    """``judge``, splitting on the request's own fields and facts before the chain. A rule asked about with a
    fact left out usually cannot apply because a part of it is unknown for good, which the request's own
    paths show; the chain's hop (sender by date by route) is the widest thing to split, and splitting it first
    repeats that proof once per hop. The order changes how soon the search ends, never what it finds."""

    def judged(assignment: Assignment) -> Step:
        step = judge(assignment)
        if step.kind != "split":
            return step
        every = [p for group in step.groups for p in group]
        own = [p for p in every if not p.startswith(CHAIN)]
        return split([own, *step.groups], step.rules) if own else step

    return judged


# -- never errors ---------------------------------------------------------------------------------


def _errors(oracle: Oracle, shard: Shard) -> Iterator[Finding]:
    """Every rule is evaluated on a request for each class of values of each path it reads, one path at a
    time from a base request, and the rule's condition parts on each class of their paths together: a
    comparison raises or not by the types of its operands, which these cover (see docs/analysis.md)."""
    from .conditions import sweep_errors

    yield from sweep_errors(oracle, shard.takes)


def _error_finding(oracle: Oracle, failed: EvaluationFailed) -> Finding:
    request = request_of(oracle.space, failed.assignment)
    decision, _verdict = redecide(oracle.rules, request)
    return Finding(
        "errors",
        "evaluation_error",
        (),
        f"Evaluating the rules raised {failed.error} on a valid request.",
        request,
        f"{decision.decision} ({decision.status})",
        decision.status == "error",
    )


# -- helpers --------------------------------------------------------------------------------------


def _name(rule: Rule) -> str:
    return f"`{rule.id}` ({rule.citation.split(', No.')[0]})"


def _confirmed(oracle: Oracle, finding: Finding, test: Callable[..., bool]) -> Finding:
    """The finding with its witness decided again, by the checker and by the evaluator."""
    assert finding.witness is not None
    decision, verdict = redecide(oracle.rules, finding.witness)
    decided = f"{decision.decision} ({decision.status})" + (f" by {decision.rule}" if decision.rule else "")
    ok = verdict is not None and decision.status != "error" and bool(test(verdict))
    return _evolve(finding, decided=decided, confirmed=ok)


def _evolve(finding: Finding, **changes: Any) -> Finding:
    import attrs

    return attrs.evolve(finding, **changes)


def _declared(rules: Rules, finding: Finding) -> Finding:
    for rid in finding.rules:
        rule = rules.book.rules.get(rid)
        if rule is None:
            continue
        for entry in rule.intended:
            if entry.check != finding.check:
                continue
            if entry.others and not any(other in finding.rules for other in entry.others):
                continue
            if entry.path is not None and entry.path not in (finding.path, finding.part):
                continue
            return _evolve(finding, intended=entry.why)
    return finding


__all__ = ["CHECKS", "Budget", "analyze", "first_leaf"]
