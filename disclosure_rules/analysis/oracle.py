"""The evaluator, used as a black box on partial requests.

The analysis never re-implements the semantics: it asks :func:`~disclosure_rules.engine.evaluator.decide` and
reads the verdict and each rule's state. What it adds is bookkeeping: which paths each rule reads (from the
compiler), and whether a rule whose state is unknown is unknown only because the search has not chosen
some path yet (then the search splits) or because the request itself leaves a fact out (then the state is
the answer).
"""

from __future__ import annotations

import datetime
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..checker import Rules
from ..engine.compiler import UNKNOWN, Unit
from ..engine.evaluator import Verdict, decide
from ..engine.provenance import EMPTY, granting, hop_environment, received_under
from ..rulebook.model import Rule
from ..rulebook.vocabulary import HOPS, RECEIVED_UNDER, tied
from .domain import ABSENT, CHAIN, HOP, Assignment, Space, expand, hop_path

_HOP_REPLACED = frozenset({"holder", "recipient", "date"})
"""Paths a hop's own decision does not take from the request: the hop's ends and date stand for them."""

_MEMO_LIMIT = 200_000

Outcome = tuple[str, str, str | None, tuple[str, ...]]
"""What a diff compares: decision, status, controlling rule, and the obligations that come with it."""


@attrs.frozen
class EvaluationFailed(Exception):
    """The evaluator raised on a request: a never-errors finding, with the assignment that caused it."""

    assignment: Mapping[str, Any]
    error: str


_HOP_TRIES = 2_000
"""Hops one part may be tried with, at most, to show the chain cannot make it true (see
:meth:`Oracle.stuck`)."""


class Oracle:
    """One rule book's evaluator, with what each rule reads."""

    def __init__(self, rules: Rules, space: Space | None = None) -> None:
        self.rules = rules
        self.compiled = rules.compiled
        self.book = rules.book
        self.space = space or Space(rules)
        keys = tuple(self.book.vocabulary.hop)
        self.hop_keys = keys
        self.derives = RECEIVED_UNDER in self.book.vocabulary.chain_projections
        self.reads: dict[str, tuple[str, ...]] = {
            rid: tuple(
                sorted({q for p in compiled.reads.paths | {"date"} if p != RECEIVED_UNDER for q in expand(p, keys)})
            )
            for rid, compiled in self.compiled.rules.items()
        }
        """What each rule reads, as paths the search chooses (a chain projection as the chain and its hop)."""
        self.reads_received = frozenset(
            rid for rid, compiled in self.compiled.rules.items() if RECEIVED_UNDER in compiled.reads.paths
        )
        self.exceptions = self.compiled.exceptions
        self._received: dict[Any, tuple[Any, tuple[str, ...], frozenset[str]]] = {}
        self._refused: dict[Any, tuple[bool, tuple[str, ...]]] = {}
        self._last_env: tuple[Assignment, dict[str, Any]] | None = None
        self._granting_memo: dict[str, list[str]] = {}
        self._stuck_parts: dict[Any, bool] = {}

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.book.rules)

    def rule(self, rid: str) -> Rule:
        return self.book.rules[rid]

    # -- evaluation ------------------------------------------------------------------------

    def verdict(self, assignment: Assignment, day: datetime.date | None = None) -> Verdict:
        when = day if day is not None else assignment["date"]
        try:
            env = self.env(assignment)
            env["date"] = when
            return decide(self.compiled, env, when)
        except Exception as exc:
            raise EvaluationFailed(dict(assignment), f"{type(exc).__name__}: {exc}") from exc

    def unit_env(self, assignment: Assignment) -> Mapping[str, Any]:
        """:meth:`env`, for reading only: the last one made is kept with its partial request (held, so that
        it is never mistaken for another), since a search tests every part of a condition on one partial
        request in turn, and deriving the chain's routes is most of the cost."""
        last = self._last_env
        if last is not None and last[0] is assignment:
            return last[1]
        env = self.env(assignment)
        self._last_env = (assignment, env)
        return env

    def env(self, assignment: Assignment) -> dict[str, Any]:
        """The environment the evaluator reads: every chosen path but those left out, and the chain as the
        request reader builds it (its hops and projections); ``chain.received_under`` as the evaluator
        derives it where that is settled whatever the unchosen paths are, else unknown."""
        env = {p: v for p, v in assignment.items() if v is not ABSENT and p != CHAIN and not p.startswith(HOP)}
        for slot in self.space.tied:  # see Slot.default_when
            assert slot.default_when is not None
            # Until that set is chosen the fact may still turn (true to false): unknown, as Kleene monotonicity
            # needs; the search chooses the set first (see domain._prerequisite).
            where, member = slot.default_when
            if where not in assignment:
                env.pop(slot.path, None)
                continue
            if slot.path in assignment:
                value = tied(slot, env.get(slot.path), env.get)
            else:  # whatever it will be, a set given without the value makes it the default's opposite
                chosen = env.get(where)
                value = not slot.default if isinstance(chosen, frozenset) and member not in chosen else None
            if value is None:
                env.pop(slot.path, None)
            else:
                env[slot.path] = value
        if CHAIN not in self.space.paths:
            return env
        length = assignment.get(CHAIN)
        projections = [p for p in self.book.vocabulary.chain_projections if p != RECEIVED_UNDER]
        if length == 0:
            env.update({p: frozenset() for p in projections})
            env[HOPS] = ()
        elif length == 1:
            hop = {k: assignment[hop_path(k)] for k in self.hop_keys if hop_path(k) in assignment}
            env.update({f"chain.{k}": frozenset([v]) for k, v in hop.items() if f"chain.{k}" in projections})
            if len(hop) == len(self.hop_keys):
                env[HOPS] = (hop,)
        if self.derives:
            if HOPS in env:
                env[RECEIVED_UNDER] = self._routes(assignment, env)[0]
            else:
                env[RECEIVED_UNDER] = EMPTY if self.gives_nothing(assignment) else UNKNOWN
        return env

    def gives_nothing(self, assignment: Assignment) -> bool:
        """Whether the chain gives no route whatever its unchosen keys are: a hop that does not reach the
        holder, or that names a route no permit grants (see
        :func:`~disclosure_rules.engine.provenance.received_under`). A hop within one agency under a kept
        route (``internal``) grants nothing of its own but gives the routes of the hops before it; the
        search's chains have one hop, so there are none before it, and it too gives nothing."""
        if assignment.get(CHAIN) != 1:
            return False
        to, holder = assignment.get(hop_path("to")), assignment.get("holder")
        if isinstance(to, str) and isinstance(holder, str) and to != holder:
            return True
        named = assignment.get(hop_path("route"))
        if not isinstance(named, str):
            return False
        if not self._granting(named):
            return True
        before = self._before_sender(assignment)
        return before is not None and before[0]

    def _before_sender(self, assignment: Assignment) -> tuple[bool, tuple[str, ...]] | None:
        """The hop decided before its sender is chosen (None unless every other key is, and it reaches the
        holder): whether it gives no route whoever sent it (it is denied, or no permit granting the route it
        names may apply: by Kleene monotonicity, so for every sender), and else what its granting permits'
        undecided parts read. Lets the search settle the hop before splitting on its sender."""
        keys = {k: assignment.get(hop_path(k)) for k in self.hop_keys}
        if keys.get("from") is not None or any(v is None or v is ABSENT for k, v in keys.items() if k != "from"):
            return None
        if assignment.get("holder") != keys.get("to"):
            return None
        memo = self._hop_key(assignment)
        known = self._refused.get(memo)
        if known is not None:
            return known
        env = {p: v for p, v in assignment.items() if v is not ABSENT and p != CHAIN and not p.startswith(HOP)}
        hop_env = hop_environment(self.compiled, {**env, HOPS: ({**keys, "from": "?"},)})
        if hop_env is None:  # pragma: no cover - the hop reaches the holder and has a date: checked above
            return None
        del hop_env["holder"]
        verdict = decide(self.compiled, hop_env, hop_env["date"])
        granting = self._granting(str(keys["route"]))
        open_path = lambda p: p == "holder" or self._hop_open_path(p, assignment)  # noqa: E731
        live = [
            rid
            for rid in granting
            if verdict.states[rid].applies is not False and self.may_hold(rid, hop_env, open_path)
        ]
        refused = (verdict.decision == "deny" and verdict.status != "indeterminate") or not live
        reads = tuple(
            sorted(
                p
                for rid in live
                for r in self.closure(rid)
                if verdict.states[r].holds is None
                for p in self._hop_reads(r, assignment)
            )
        )
        if len(self._refused) > _MEMO_LIMIT:
            self._refused.clear()
        self._refused[memo] = (refused, reads)
        return refused, reads

    @staticmethod
    def _hop_key(assignment: Assignment) -> frozenset[tuple[str, Any]]:
        """What the hop's decision depends on: every chosen path but the request's recipient (the hop's is its
        own end) and its date, of which only whether the hop came after it matters (then it gives no route)."""
        day, hop_day = assignment.get("date"), assignment.get(hop_path("date"))
        late = isinstance(day, datetime.date) and isinstance(hop_day, datetime.date) and hop_day > day
        return frozenset((p, v) for p, v in assignment.items() if p not in ("date", "recipient")) | {("late", late)}

    def route_paths(self, assignment: Assignment) -> list[str]:
        """The unchosen paths that settle ``chain.received_under``, in the order that settles it soonest: the
        chain, the hop's end, route and date (a hop that misses the holder or names a route no permit grants
        gives none), what the granting permits read, the hop's sender, and what the hop's other undecided
        rules read. Empty when it is settled (or unknown only because the request leaves facts out)."""
        if not self.derives:
            return []
        if CHAIN not in assignment:
            return [CHAIN]
        if assignment[CHAIN] != 1 or self.gives_nothing(assignment):
            return []
        keys = [hop_path(k) for k in ("to", "route", "date") if k in self.hop_keys]
        missing = [p for p in keys if p not in assignment]
        if missing:
            return missing
        sender = hop_path("from")
        if sender in self.space.paths and sender not in assignment:
            before = self._before_sender(assignment)
            return [*(before[1] if before else ()), sender]
        return self.received_pending(assignment)

    def _routes(self, assignment: Assignment, env: dict[str, Any]) -> tuple[Any, tuple[str, ...], frozenset[str]]:
        """``chain.received_under`` (UNKNOWN unless settled), the unchosen paths that would settle it, and the
        routes it may still come to hold (those of granting permits that apply or still may)."""
        key = self._hop_key(assignment)
        known = self._received.get(key)
        if known is not None:
            return known
        routes, hop = received_under(self.compiled, env, decide)
        pending: tuple[str, ...] = ()
        possible: frozenset[str] = routes if isinstance(routes, frozenset) else frozenset()
        if hop is not None:
            undecided = self._hop_open(hop, assignment)
            pending = self._hop_pending(undecided, assignment)
            if pending and not self._settled_routes(hop, assignment):
                routes = UNKNOWN
                possible = self._possible(hop, assignment, undecided, hop_environment(self.compiled, env) or {})
            else:
                pending = ()
        if len(self._received) > _MEMO_LIMIT:
            self._received.clear()
        self._received[key] = (routes, pending, possible)
        return routes, pending, possible

    def _possible(
        self, hop: Verdict, assignment: Assignment, undecided: list[str], hop_env: Mapping[str, Any]
    ) -> frozenset[str]:
        """The routes of granting permits that apply to the hop, or may once the unchosen paths are chosen
        (unknown, it may still hold, and it or an exception to it at any depth is still undecided)."""
        out: set[str] = set()
        for rid in self._granting(assignment[hop_path("route")]):
            applies = hop.states[rid].applies
            if applies is True or (
                applies is None
                and any(r in undecided for r in self.closure(rid))
                and self.may_hold(rid, hop_env, lambda p: self._hop_open_path(p, assignment))
            ):
                out.add(str(self.book.rules[rid].grants))
        return frozenset(out)

    def may_hold(self, rid: str, env: Mapping[str, Any], is_open: Callable[[str], bool]) -> bool:
        """Whether ``rid``'s condition may still come out true: none of its parts (the conjuncts the compiler
        keeps apart) is false, or unknown while reading no open path (a part the request leaves unknown stays
        unknown, and so does the condition)."""
        for unit in self.compiled.rules[rid].units:
            value = unit.test(env)
            if value is False:
                return False
            if value is None and not any(is_open(p) for p in unit.reads.paths):
                return False
        return True

    @staticmethod
    def _hop_open_path(path: str, assignment: Assignment) -> bool:
        """Whether a path the hop's decision reads is still to be chosen (its ends and date are the hop's keys,
        chosen; its chain has no earlier hop)."""
        return path not in assignment and path not in _HOP_REPLACED and not path.startswith("chain.")

    def _hop_pending(self, undecided: list[str], assignment: Assignment) -> tuple[str, ...]:
        """What the hop's undecided rules read, those of the permits that grant the route it names (and their
        exceptions) first: they settle the routes soonest (a granting permit that fails leaves none)."""
        focus = {r for g in self._granting(assignment[hop_path("route")]) for r in self.closure(g)}
        first = [rid for rid in undecided if rid in focus] or undecided
        # One entry per rule that reads a path, so that the search splits first on what most of them read.
        return tuple(sorted(p for rid in first for p in self._hop_reads(rid, assignment)))

    def _granting(self, named: str) -> list[str]:
        """The permits a hop naming ``named`` is matched by (see :mod:`~disclosure_rules.engine.provenance`)."""
        found = self._granting_memo.get(named)
        if found is None:
            found = self._granting_memo[named] = granting(self.compiled, named)
        return found

    def _hop_reads(self, rid: str, assignment: Assignment) -> list[str]:
        paths = self.compiled.rules[rid].reads.paths
        return [p for p in paths if p not in _HOP_REPLACED and not p.startswith("chain.") and p not in assignment]

    def _hop_open(self, hop: Verdict, assignment: Assignment) -> list[str]:
        return [rid for rid in self.ids if hop.states[rid].holds is None and self._hop_reads(rid, assignment)]

    def _settled_routes(self, hop: Verdict, assignment: Assignment) -> bool:
        """Whether the routes the hop gives stay the same whatever the unchosen paths turn out to be (Kleene
        monotonicity: a definite state stays; see :func:`~disclosure_rules.engine.provenance.received_under`)."""
        if hop.decision == "deny" and hop.status != "indeterminate":
            return True
        values = [hop.states[rid].applies for rid in self._granting(assignment[hop_path("route")])]
        if all(v is False for v in values):
            return True
        return hop.decision == "permit" and None not in values

    def pending(self, rid: str, assignment: Assignment) -> list[str]:
        """The unchosen paths that could settle ``rid``: those it reads, and, if it reads the derived
        ``chain.received_under``, those the hop's own undecided rules read."""
        out = [p for p in self.reads[rid] if p not in assignment]
        if rid in self.reads_received:
            out += self.route_paths(assignment)
        return out

    def is_open(self, path: str, assignment: Assignment) -> bool:
        """Whether a path a rule of the request reads may still change: not yet chosen (for a projection of
        the chain, some key of its hop; for the routes, anything :meth:`route_paths` would split on)."""
        if path == RECEIVED_UNDER:
            return bool(self.route_paths(assignment))
        return any(p not in assignment for p in expand(path, self.hop_keys))

    def stuck(self, rid: str, verdict: Verdict, assignment: Assignment) -> bool:
        """Whether ``rid`` can no longer hold below ``assignment``: a part of it is false, or unknown with
        nothing it reads left to choose (see :meth:`may_hold`). A search for a request where it holds or
        applies stops there."""
        if verdict.states[rid].holds is not None:
            return False
        if not self.may_hold(rid, verdict.env, lambda p: self.is_open(p, assignment)):
            return True
        return any(self._stuck_but_for_the_hop(unit, assignment) for unit in self.compiled.rules[rid].units)

    def _stuck_but_for_the_hop(self, unit: Unit, assignment: Assignment) -> bool:
        """Whether a part left unknown, with nothing open but the chain, stays short of true however the chain
        is chosen: no chain, or one hop with each value of each key the part reads (every value, not classes
        of them; its other keys left unknown, which the part does not read). A part such as
        ``not return_information`` with the origin left out is false or unknown for every hop, and a search
        for a request where its rule holds would otherwise learn it by choosing the whole hop (its sender, its
        receiver, its route and its date) in every branch."""
        if CHAIN in assignment or RECEIVED_UNDER in unit.reads.paths:
            return False
        keys: list[str] = []
        for path in unit.reads.paths:
            if path.startswith("chain."):
                keys.append(path[len("chain.") :])
            elif path not in assignment:
                return False  # open outside the chain: the search has more to choose
        infos = [self.space.paths.get(hop_path(k)) for k in keys]
        if not keys or any(info is None or info.kind != "enum" for info in infos):
            return False
        key = (id(unit), tuple(sorted((p, assignment[p]) for p in unit.reads.paths if p in assignment)))
        known = self._stuck_parts.get(key)
        if known is not None:
            return known
        options = [(*info.values, ABSENT) for info in infos if info is not None]
        if math.prod(len(o) for o in options) > _HOP_TRIES:
            return False
        hops: list[Assignment] = [{CHAIN: 0, **{hop_path(k): ABSENT for k in self.hop_keys}}]
        hops += [
            {CHAIN: 1, **dict(zip(map(hop_path, keys), combo, strict=True))} for combo in itertools.product(*options)
        ]
        known = self._stuck_parts[key] = all(unit.test(self.env({**assignment, **hop})) is not True for hop in hops)
        return known

    def cannot_hold(self, rid: str, assignment: Assignment) -> bool:
        """Whether ``rid`` can no longer hold below ``assignment`` because of what the hop can give (see
        :meth:`could_be`): lets a search for a request where it holds stop before deciding the hop."""
        if rid not in self.reads_received:
            return False
        return not self.could_be(self.compiled.rules[rid].test, assignment, True)

    def could_be(self, test: Callable[[Mapping[str, Any]], bool | None], assignment: Assignment, want: bool) -> bool:
        """Whether a test reading the derived ``chain.received_under`` may still come out ``want`` below
        ``assignment``, once the hop's route is chosen. The hop can only give a set of the routes its
        matching permits grant (those that apply or still may), or leave it unknown; if the test is
        ``not want`` with each such set, then with the routes unknown it is that or unknown (Kleene
        monotonicity), never ``want``."""
        if not self.derives or assignment.get(CHAIN) != 1 or not isinstance(assignment.get(hop_path("route")), str):
            return True
        env = self.env(assignment)
        if env.get(RECEIVED_UNDER) is EMPTY and HOPS not in env:
            return True  # settled: the test sees the routes already
        if HOPS in env:
            if env[RECEIVED_UNDER] is not UNKNOWN:
                return True  # settled: the test sees the routes already
            granted = sorted(self._routes(assignment, env)[2])
        else:
            granted = sorted({str(self.book.rules[g].grants) for g in self._granting(assignment[hop_path("route")])})
        env.setdefault("date", assignment.get("date"))
        return any(test({**env, RECEIVED_UNDER: routes}) is not (not want) for routes in _route_sets(granted))

    def route_options(self, assignment: Assignment) -> list[Any] | None:
        """The values ``chain.received_under`` may still come to below ``assignment``, where the hop names its
        route and its decision is not settled: each set of the routes the route's permits grant (those that
        apply or still may), and unknown (the hop's decision turning on facts the request leaves out). None
        where the routes are settled, or the hop names no route yet."""
        if not self.derives or assignment.get(CHAIN) != 1 or not isinstance(assignment.get(hop_path("route")), str):
            return None
        env = self.unit_env(assignment)
        if env.get(RECEIVED_UNDER) is not UNKNOWN:
            return None
        whole = HOPS in env
        granted = sorted(self._routes(assignment, dict(env))[2] if whole else self._may_grant(assignment, env))
        options: list[Any] = _route_sets(granted)
        # Unknown stays possible with the whole hop chosen (a granting permit left unknown by the facts the
        # request leaves out is not among those that may still apply, yet leaves the routes unknown); with
        # keys still to choose, only while some granting permit may hold.
        if whole or granted:
            options.append(UNKNOWN)
        return options

    def _may_grant(self, assignment: Assignment, env: Mapping[str, Any]) -> set[str]:
        """The routes the hop may give while some of its keys are still to be chosen: those of the permits
        matching the route it names whose condition may still hold for the hop, read as a disclosure of its
        own (its sender the holder, its end the recipient) with the keys not chosen unknown. A route whose
        permits cannot hold (an (i)(2) hop for a request whose purpose is not a criminal case) is never given,
        and where none can be, the routes are empty."""
        hop_env = {p: v for p, v in env.items() if p != RECEIVED_UNDER and not p.startswith("chain.")}
        hop_env[HOPS] = ()
        for projection in self.book.vocabulary.chain_projections:
            if projection != RECEIVED_UNDER:
                hop_env[projection] = EMPTY
        for key, field in (("from", "holder"), ("to", "recipient"), ("date", "date")):
            value = assignment.get(hop_path(key))
            if value is None or value is ABSENT:
                hop_env.pop(field, None)
            else:
                hop_env[field] = value
        return {
            str(self.book.rules[g].grants)
            for g in self._granting(assignment[hop_path("route")])
            if self.may_hold(g, hop_env, lambda _path: True)
        }

    def holds_bounds(
        self,
        states: Mapping[str, Any],
        assignment: Assignment,
        open_rules: Iterable[str],
        options: list[Any] | None = None,
    ) -> dict[str, frozenset[bool | None]]:
        """For each open rule that reads the derived ``chain.received_under`` and is unknown, the values its
        ``holds`` may still come to where the routes come to one of ``options`` (default: any of
        :meth:`route_options`), where fewer than all three. A permit that needs a route the hop cannot give (an
        (i)(3)(A) use of data a hop names as given under (i)(2)) never holds, though while the hop is undecided
        the three-valued state is only unknown.

        Each part of the condition is tested with each set the routes may come to: false stays false; unknown
        stays unknown when nothing else it reads may change, and may come to anything otherwise (Kleene
        monotonicity). Which set the routes come to and how the rest is chosen are taken apart, which only
        widens the bounds."""
        rules = [r for r in open_rules if r in self.reads_received and states[r].holds is None]
        if not rules:
            return {}
        if options is None:
            options = self.route_options(assignment)
            if options is None:
                return {}
        env = self.unit_env(assignment)
        out: dict[str, frozenset[bool | None]] = {}
        for rid in rules:
            may: set[bool | None] = set()
            units = self.compiled.rules[rid].units
            for routes in options:
                here = {**env, RECEIVED_UNDER: routes}
                values = [(unit.test(here), unit) for unit in units]
                if any(v is False for v, _ in values):
                    may.add(False)
                    continue
                unknown = [u for v, u in values if v is None]
                moving = [
                    u
                    for u in unknown
                    if any(p != RECEIVED_UNDER and self.is_open(p, assignment) for p in u.reads.paths)
                ]
                if len(moving) < len(unknown):  # a part stays unknown: the condition is never true
                    may.update((None, False) if moving else (None,))
                else:
                    may.update((True, False, None) if moving else (True,))
                if len(may) == 3:
                    break
            if len(may) < 3:
                out[rid] = frozenset(may)
        return out

    def received_pending(self, assignment: Assignment) -> list[str]:
        if not self.derives or assignment.get(CHAIN) != 1 or any(hop_path(k) not in assignment for k in self.hop_keys):
            return []
        return list(self._routes(assignment, self.env(assignment))[1])

    def outcome(self, verdict: Verdict) -> Outcome:
        """What a diff compares. An indeterminate answer is compared without the permit it names: no rule
        controls it (it turns on facts the request leaves out), and which permit is named first says which
        of them is undecided, not what the law decided."""
        if verdict.status == "indeterminate":
            return (verdict.decision, verdict.status, None, ())
        obligations = self.rule(verdict.rule).obligations if verdict.rule and verdict.decision == "permit" else ()
        return (verdict.decision, verdict.status, verdict.rule, tuple(obligations))

    # -- bookkeeping -----------------------------------------------------------------------

    def closure(self, rid: str) -> tuple[str, ...]:
        """``rid`` and every rule that is an exception to it, to an exception of it, and so on."""
        out: list[str] = []
        pending = [rid]
        while pending:
            current = pending.pop()
            if current in out:
                continue
            out.append(current)
            pending.extend(self.exceptions.get(current, ()))
        return tuple(out)

    def related(self, a: str, b: str) -> bool:
        """Whether one rule is an exception (at any depth) to the other."""
        return b in self.closure(a) or a in self.closure(b)

    def open_rules(self, verdict: Verdict, assignment: Assignment, among: Iterable[str]) -> list[str]:
        """The rules of ``among`` whose state the search has yet to settle: unknown, and reading a path
        not yet chosen. (A rule unknown only because the request leaves a fact out is settled.)"""
        return [rid for rid in among if verdict.states[rid].holds is None and self.pending(rid, assignment)]

    def unsettled(self, verdict: Verdict, assignment: Assignment) -> list[str]:
        """The undecided rules whose settling could still change the outcome of ``verdict`` (decision,
        status, controlling rule, obligations) below ``assignment``; none when the outcome is the same for
        every way of choosing the paths left (a definite state stays, by Kleene monotonicity).

        A rule's ``applies`` may still move when it is unknown and it, or an exception to it at any depth,
        is undecided. A prohibition or no authority moves only with a forbid (a false ``prohibits`` is
        settled), and the controlling forbid's rank with the rules above it; a permit only with a permit (the
        forbids are all settled false) and the rules above it; an indeterminate answer with either."""
        states = verdict.states
        undecided = {r for r in self.ids if states[r].holds is None and self.pending(r, assignment)}
        if not undecided:
            return []
        moving: dict[str, bool] = {}

        def moves(rid: str) -> bool:
            if rid not in moving:
                moving[rid] = states[rid].applies is None and (
                    rid in undecided or any(moves(e) for e in self.exceptions[rid])
                )
            return moving[rid]

        kinds = {"prohibited": ("forbid",), "no_authority": ("forbid",), "permitted": ("permit",)}
        wanted = kinds.get(verdict.status, ("permit", "forbid"))
        out = {o for r in self.ids if self.book.rules[r].kind in wanted and moves(r) for o in self.closure(r)}
        if verdict.status in ("prohibited", "permitted"):
            # The controlling rule is ranked by the rules above the candidates that hold.
            out |= {a for r in self.ids if self.book.rules[r].kind in wanted for a in self.ancestors(r)}
        return sorted(out & undecided)

    def ancestors(self, rid: str) -> set[str]:
        """The rules ``rid`` is an exception to, at any depth."""
        out: set[str] = set()
        pending = list(self.book.rules[rid].exception_to)
        while pending:
            current = pending.pop()
            if current not in out:
                out.add(current)
                pending.extend(self.book.rules[current].exception_to)
        return out

    def paths_of(self, rule_ids: Iterable[str], assignment: Assignment) -> list[str]:
        """The unchosen paths ``rule_ids`` depend on, one entry per rule that reads each (so a count says
        how many)."""
        return [p for rid in rule_ids for p in self.pending(rid, assignment)]

    def settled(self, verdict: Verdict, assignment: Assignment) -> bool:
        return not self.open_rules(verdict, assignment, self.ids)


def _route_sets(granted: Sequence[str]) -> list[frozenset[str]]:
    """Every set of the routes ``granted`` (in order), the empty one first: what the routes a hop gave may be."""
    return [frozenset(c) for size in range(len(granted) + 1) for c in itertools.combinations(granted, size)]
