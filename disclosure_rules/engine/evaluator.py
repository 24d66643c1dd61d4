"""Decide: from the rules' truth values on one request to a verdict.

The semantics, as statutes are written (``docs/semantics.md`` states them for readers):

* A rule *holds* when it is in force on the request's date and its condition is
  true. It *applies* when it holds and no rule that is an exception to it
  applies. Values are three-valued (true, false, unknown), so
  ``applies = holds and not (any exception applies)`` in Kleene's logic.
* An exception defeats the rule it is an exception to, and nothing else. A
  forbidding rule that is an exception to a permitting rule (a court order
  staying § 6103(i)(2) disclosures) takes that permit away; the general rule
  above the permit (§ 6103(a)) then applies again, unless another of its
  exceptions applies. So such a forbid *prohibits* only when a prohibiting
  rule above it applies: ``prohibits(f) = applies(f) and (f is a general rule
  or prohibits(g) for some forbidding rule g above a rule f is an exception to)``.
  A forbid that is an exception to a permit which no prohibition sits above
  only removes that permit. A rule that forbids across the board is a general
  rule (no ``exception_to``).
* If a rule prohibits, the decision is deny (``prohibited``); a permitting rule
  that also applies is recorded as a conflict that the prohibition wins.
* Otherwise, if a permitting rule applies and no rule could prohibit once
  unknown facts are known, the decision is permit (``permitted``).
* Otherwise, if some permitting rule could apply depending on unknown facts,
  the decision is deny (``indeterminate``), listing the facts that would settle it.
* Otherwise nothing authorizes the disclosure: deny (``no_authority``).

Because Kleene's logic is monotone, a rule that is true (or false) with some
facts unknown stays true (or false) whatever those facts turn out to be; so a
definite answer given with unknown facts can never be overturned by them.
"""

from __future__ import annotations

import datetime
import weakref
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import attrs

from ..rulebook.vocabulary import HOPS, RECEIVED_UNDER
from .codegen import Evaluate, Generated, generate, load_generated
from .compiler import UNKNOWN, CompiledRulebook
from .provenance import granting, is_kept, possible_routes, received_under

State = bool | None


class RuleState(NamedTuple):
    """One rule's state on a request. A named tuple: a rule set's states together key the memo of verdicts,
    and a tuple hashes without a Python call (and, holding only booleans, is no work for the garbage
    collector)."""

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
    prohibitions: tuple[str, ...] = ()
    """Every rule that prohibits the request, the controlling one first (empty unless prohibited)."""
    env: Mapping[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    """The environment the rules were evaluated on: the request's, with what the rules derive (provenance)."""
    hop: Verdict | None = attrs.field(default=None, eq=False, repr=False)
    """The verdict on the chain's hop into the holder, decided as a disclosure of its own."""


class _Memos:
    """What the evaluator keeps for one compiled rule set: its generated functions and the memos of what
    depends on the rules' states alone."""

    __slots__ = ("generated", "partial", "path_order", "prohibiting", "verdicts")

    def __init__(self) -> None:
        self.generated: Evaluate | None = None
        self.partial: Evaluate | None = None
        self.prohibiting: dict[tuple[State, ...], dict[str, State]] = {}
        self.verdicts: dict[tuple[RuleState, ...], tuple[Verdict, tuple[str, ...]]] = {}
        self.path_order: dict[str, int] | None = None


_MEMOS: weakref.WeakKeyDictionary[CompiledRulebook, _Memos] = weakref.WeakKeyDictionary()
_LAST: list[tuple[weakref.ref[CompiledRulebook], _Memos]] = []
"""The rule set asked about last, and its memos: a process deciding a batch asks about one rule set
throughout, and a weak dictionary's lookup was a tenth of deciding a new case."""


def _memos(compiled: CompiledRulebook) -> _Memos:
    last = _LAST[0] if _LAST else None
    if last is not None and last[0]() is compiled:
        return last[1]
    memos = _MEMOS.get(compiled)
    if memos is None:
        memos = _MEMOS[compiled] = _Memos()
    _LAST[:] = [(weakref.ref(compiled), memos)]
    return memos


def use_generated(compiled: CompiledRulebook, generated: Generated) -> None:
    """Evaluate ``compiled`` by ``generated``, which was built from the same rule book (a cold start loads it
    with the book, rather than generating and compiling it again)."""
    _memos(compiled).generated = load_generated(generated, RuleState)


def _generated(compiled: CompiledRulebook, partial: bool = False) -> Evaluate:
    """The rule set's generated ``evaluate``, made on first use; with ``partial``, the one that tests every
    path three-valued (see :func:`.codegen.generate`)."""
    memos = _memos(compiled)
    function = memos.partial if partial else memos.generated
    if function is None:
        function = generate(compiled, RuleState, partial=partial)
        if partial:
            memos.partial = function
        else:
            memos.generated = function
    return function


def evaluate(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date) -> dict[str, RuleState]:
    """Every rule's state on this request: by the rule set's generated function (see :mod:`.codegen`), or, for
    an environment the request reader did not build (one lacking a path it always sets, as the analysis's
    partial requests do), by the generated function that tests every path three-valued."""
    try:
        return _generated(compiled)(env, day)
    except KeyError:
        return _generated(compiled, partial=True)(env, day)


_EVALUATE = evaluate


def evaluate_reference(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date) -> dict[str, RuleState]:
    """Every rule's state on this request by the closures, exceptions evaluated before the rules they
    override: the reference the generated code is tested against."""
    rules = compiled.book.rules
    tests = compiled.rules
    in_force = {rid: rules[rid].effective.covers(day) for rid in compiled.order}
    holds: dict[str, State] = {rid: tests[rid].test(env) if in_force[rid] else False for rid in compiled.order}
    return _with_holds(compiled, holds, in_force)


def _and(a: State, b: State) -> State:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(values: list[State]) -> State:
    if True in values:
        return True
    return None if None in values else False


MAX_PROHIBITING_MEMO = 10_000


def prohibiting(compiled: CompiledRulebook, states: Mapping[str, RuleState]) -> Mapping[str, State]:
    """For every forbidding rule, whether it prohibits this request (three-valued); see
    :func:`prohibiting_reference`.

    The answer depends only on whether each forbidding rule applies (the rest is the tree's shape), and a
    rule set has few forbidding rules, so it is worked out once per combination and remembered. The
    mapping returned is shared: read it, do not change it.
    """
    memo = _memos(compiled).prohibiting
    forbids = compiled.forbids
    key = tuple([states[f].applies for f in forbids])
    found = memo.get(key)
    if found is None:
        if len(memo) >= MAX_PROHIBITING_MEMO:
            memo.clear()
        found = memo[key] = prohibiting_reference(compiled, states)
    return found


def prohibiting_reference(compiled: CompiledRulebook, states: Mapping[str, RuleState]) -> dict[str, State]:
    """For every forbidding rule, whether it prohibits this request (three-valued).

    A general rule prohibits when it applies. A forbidding exception prohibits when it applies and a
    prohibition sits above a rule it is an exception to: above a permit, the forbidding rules that permit
    is an exception to (which apply again once the permit is taken away); above a forbid, that forbid's
    own standing. Anything else an exception does is only to defeat its parent.
    """
    rules = compiled.book.rules
    memo: dict[str, State] = {}

    def above(parent: str) -> State:
        rule = rules[parent]
        if rule.kind == "forbid":
            return standing(parent)
        return _or([prohibits(g) for g in rule.exception_to if rules[g].kind == "forbid"])

    def standing(rid: str) -> State:
        # Whether a forbid would prohibit through its place in the tree, its own condition aside.
        parents = rules[rid].exception_to
        return True if not parents else _or([above(p) for p in parents])

    def prohibits(rid: str) -> State:
        if rid not in memo:
            # The loader refuses cycles of exceptions, so this recursion ends.
            memo[rid] = _and(states[rid].applies, standing(rid))
        return memo[rid]

    return {rid: prohibits(rid) for rid, rule in rules.items() if rule.kind == "forbid"}


Evaluator = Callable[[CompiledRulebook, Mapping[str, Any], datetime.date], Mapping[str, RuleState]]


def decide(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date) -> Verdict:
    """The verdict on a request's environment, the hop into the holder decided first (see :mod:`.provenance`)."""
    return _decide(compiled, env, day, evaluate)


def decide_reference(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date) -> Verdict:
    """:func:`decide` by the closures alone, hops included: the reference for differential tests."""
    return _decide(compiled, env, day, evaluate_reference)


def _decide(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date, evaluator: Evaluator) -> Verdict:
    hop: Verdict | None = None
    if RECEIVED_UNDER in compiled.book.vocabulary.chain_projections and RECEIVED_UNDER not in env:
        routes, hop = received_under(compiled, env, lambda c, e, d: _decide(c, e, d, evaluator))
        env = {**env, RECEIVED_UNDER: routes}
    verdict = _verdict(compiled, env, day, evaluator)
    if hop is None:
        return verdict
    if RECEIVED_UNDER in verdict.unknown_facts:
        # No request states the routes its holder received the data under: an answer that turns on them names
        # the facts the routes the hop into the holder gives turn on, which a request can state.
        settling = _route_facts(compiled, env, hop)
        if settling:
            order = _path_order(compiled)
            named = {p for p in verdict.unknown_facts if p != RECEIVED_UNDER} | set(settling)
            unknown = tuple(sorted(named, key=lambda p: order.get(p, len(order))))
            verdict = attrs.evolve(verdict, unknown_facts=unknown)
    return attrs.evolve(verdict, hop=hop)


def _route_facts(compiled: CompiledRulebook, env: Mapping[str, Any], hop: Verdict) -> tuple[str, ...]:
    """The unstated facts the routes a hop gives turn on: what the permits granting the route it names (and
    the exceptions to them) read where undecided, and what the prohibitions the hop's own facts leave
    undecided read; through an internal hop, what its own verdict names (the routes the hop before it gave
    among them). A fact that only another paragraph's permit reads cannot change what the hop gives: a hop
    named (i)(3)(A) gives (i)(3)(A) or nothing, whatever settles (i)(2)."""
    last = env[HOPS][-1]
    if is_kept(compiled, last):
        return tuple(p for p in hop.unknown_facts if p != RECEIVED_UNDER)
    rules = compiled.book.rules
    deciding = tuple(r for r in granting(compiled, str(last["route"])) if hop.states[r].applies is None)
    facts = _unknown_facts(compiled, deciding, hop.states, hop.env)
    # A prohibition left undecided by its own condition (not by the permits excepted from it) may deny the hop.
    doubtful = [r for r in hop.undecided if rules[r].kind == "forbid" and hop.states[r].holds is None]
    reads = [p for r in doubtful for p in compiled.rules[r].reads.paths if hop.env.get(p, UNKNOWN) is UNKNOWN]
    facts = (*facts, *reads)
    if RECEIVED_UNDER in facts and hop.hop is not None and hop.env.get(HOPS):
        facts = (*(p for p in facts if p != RECEIVED_UNDER), *_route_facts(compiled, hop.env, hop.hop))
    return tuple(dict.fromkeys(p for p in facts if p != RECEIVED_UNDER))


MAX_VERDICT_MEMO = 10_000


def _verdict(compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date, evaluator: Evaluator) -> Verdict:
    memos = _memos(compiled)
    states: Mapping[str, RuleState]
    if env.get(RECEIVED_UNDER) is UNKNOWN:
        states = _over_routes(compiled, env, day, evaluator)
    elif evaluator is _EVALUATE:  # evaluate(), without a second lookup of the memos
        try:
            states = (memos.generated or _generated(compiled))(env, day)
        except KeyError:
            states = _generated(compiled, partial=True)(env, day)
    else:
        states = evaluator(compiled, env, day)
    if evaluator is not evaluate:
        return _verdict_of(compiled, states, env, prohibiting_reference(compiled, states))
    # The verdict depends on the rules' states alone, but for the unknown facts it names (read from the
    # environment) and the states and environment it carries: new cases share a few hundred of them. So do
    # the facts an indeterminate verdict may name: those its undecided rules read where they are unknown.
    memo = memos.verdicts
    signature = tuple(states.values())
    found = memo.get(signature)
    if found is None:
        if len(memo) >= MAX_VERDICT_MEMO:
            memo.clear()
        verdict = _verdict_of(compiled, states, {}, prohibiting(compiled, states))
        found = memo[signature] = (verdict, undecided_reads(compiled, verdict.undecided, states))
    known, may_name = found
    unknown = tuple([p for p in may_name if env.get(p, UNKNOWN) is UNKNOWN]) if may_name else ()
    return Verdict(
        known.decision,
        known.status,
        known.rule,
        known.chain,
        known.conflicts,
        known.undecided,
        unknown,
        states,
        known.prohibitions,
        env,
    )


def _over_routes(
    compiled: CompiledRulebook, env: Mapping[str, Any], day: datetime.date, evaluator: Evaluator
) -> Mapping[str, RuleState]:
    """The rules' states where the routes the holder received the data under are undecided: a rule holds
    (or not) if it does so for every value those routes can still come to (see
    :func:`~.provenance.possible_routes`), and is unknown otherwise; what applies follows from what holds, as
    always. A rule for the use a consent designee makes of the data is not in doubt merely because the hop,
    which names (i)(2), is: so an undecided answer names the rules and the facts that can settle it."""
    candidates = possible_routes(compiled, env)
    if candidates is None:
        return evaluator(compiled, env, day)
    worlds = [evaluator(compiled, {**env, RECEIVED_UNDER: routes}, day) for routes in candidates]
    holds: dict[str, State] = {}
    for rid, state in worlds[0].items():
        value = state.holds
        holds[rid] = value if all(world[rid].holds is value for world in worlds[1:]) else None
    return _with_holds(compiled, holds, {rid: state.in_force for rid, state in worlds[0].items()})


def _with_holds(
    compiled: CompiledRulebook, holds: Mapping[str, State], in_force: Mapping[str, bool]
) -> dict[str, RuleState]:
    """Every rule's state from whether it holds: it applies when it holds and no exception to it applies, in
    Kleene's logic (exceptions first: ``compiled.order`` puts each before the rules it overrides)."""
    states: dict[str, RuleState] = {}
    for rid in compiled.order:
        overridden: State = False
        for exception in compiled.exceptions[rid]:
            value = states[exception].applies
            if value is True:
                overridden = True
                break
            if value is None:
                overridden = None
        held = holds[rid]
        if held is False or overridden is True:
            applies: State = False
        elif held is None or overridden is None:
            applies = None
        else:
            applies = True
        states[rid] = RuleState(in_force[rid], held, applies)
    return states


def _verdict_of(
    compiled: CompiledRulebook,
    states: Mapping[str, RuleState],
    env: Mapping[str, Any],
    prohibits: Mapping[str, State],
) -> Verdict:
    forbid_true = [rid for rid, value in prohibits.items() if value is True]
    forbid_unknown = [rid for rid, value in prohibits.items() if value is None]
    permit_true: list[str] = []
    permit_unknown: list[str] = []
    for rid, declared in compiled.book.rules.items():
        applies = states[rid].applies
        if declared.kind == "permit" and applies is not False:
            (permit_true if applies else permit_unknown).append(rid)

    if forbid_true:
        ranked = _ranked(compiled, forbid_true, states)
        rule = ranked[0]
        chain = _chain(compiled, rule, states)
        conflicts = tuple(p for p in permit_true if p not in chain)
        return Verdict("deny", "prohibited", rule, chain, conflicts, (), (), states, tuple(ranked), env)
    if permit_true and not forbid_unknown:
        rule = _ranked(compiled, permit_true, states)[0]
        return Verdict("permit", "permitted", rule, _chain(compiled, rule, states), (), (), (), states, (), env)
    if permit_true or permit_unknown:
        undecided = tuple(forbid_unknown + permit_unknown)
        unknown = _unknown_facts(compiled, undecided, states, env)
        rule = (permit_unknown or permit_true)[0]
        chain = _chain(compiled, rule, states)
        return Verdict("deny", "indeterminate", rule, chain, (), undecided, unknown, states, (), env)
    return Verdict("deny", "no_authority", None, (), (), (), (), states, (), env)


def _held_depth(compiled: CompiledRulebook, rid: str, states: Mapping[str, RuleState]) -> int:
    """How many rules, counting ``rid``, lead down to it through rules that held on this request."""
    held = [p for p in compiled.book.rules[rid].exception_to if states[p].holds is True]
    return 1 + max((_held_depth(compiled, p, states) for p in held), default=0)


def _depth(compiled: CompiledRulebook, rid: str) -> int:
    """How deep ``rid`` sits in the tree of exceptions, counting itself."""
    return 1 + max((_depth(compiled, p) for p in compiled.book.rules[rid].exception_to), default=0)


def tie_break(compiled: CompiledRulebook, rid: str) -> tuple[int, int]:
    """What ranks a rule once the chains that held above it are equal: for a forbid, its depth in the tree,
    then its place in the files; for a permit, its place alone. An order over a permit that did not hold
    still says more than the general rule, but a permit under a prohibition that did not hold is an answer
    to a question the request does not raise: where § 6103(a) does not hold (the data is not return
    information), (i)(2) does not outrank the rule that says the data is outside § 6103, and its obligations
    do not attach. Smaller ranks first."""
    depth = _depth(compiled, rid) if compiled.book.rules[rid].kind == "forbid" else 0
    return -depth, compiled.position[rid]


def _ranked(compiled: CompiledRulebook, candidates: list[str], states: Mapping[str, RuleState]) -> list[str]:
    """The candidates, most specific first: the deepest chain of exceptions that held, then (for forbids) the
    deepest place in the tree, then first declared (see :func:`tie_break`).

    A court order that overrides a permit which held (§ 6103(a) -> (i)(2) -> order) is more specific than
    the general rule; an order over a permit that did not hold still says more than the general rule (it
    would forbid the disclosure even if the permit's requirements were met), so it ranks next.
    """
    if len(candidates) == 1:  # nothing to rank: the common case, and the ranking walks the tree
        return candidates
    return sorted(candidates, key=lambda rid: (-_held_depth(compiled, rid, states), *tie_break(compiled, rid)))


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
    return tuple([p for p in undecided_reads(compiled, undecided, states) if env.get(p, UNKNOWN) is UNKNOWN])


def undecided_reads(
    compiled: CompiledRulebook, undecided: tuple[str, ...], states: Mapping[str, RuleState]
) -> tuple[str, ...]:
    """What the undecided rules, and their undecided exceptions, read where they did not hold or fail: the
    facts an indeterminate verdict names, once those the request states are left out."""
    wanted: set[str] = set()
    pending = list(undecided)
    seen: set[str] = set()
    while pending:
        rid = pending.pop()
        if rid in seen:
            continue
        seen.add(rid)
        if states[rid].holds is None:
            wanted.update(compiled.rules[rid].reads.paths)
        pending.extend(e for e in compiled.exceptions[rid] if states[e].applies is None)
    order = _path_order(compiled)
    return tuple(sorted(wanted, key=lambda p: order.get(p, len(order))))


def _path_order(compiled: CompiledRulebook) -> dict[str, int]:
    """Each readable path's place in the vocabulary: the order unknown facts are named in."""
    memos = _memos(compiled)
    order = memos.path_order
    if order is None:
        order = memos.path_order = {p: i for i, p in enumerate(compiled.book.vocabulary.readable_paths())}
    return order
