"""Turn a verdict into a :class:`~disclosure_rules.decisions.decision.Decision` a lawyer can read.

The reason comes from the controlling rule's template (or, when no rule
controls, from sentences built around the vocabulary's ``disclosure``
description); ``missing`` lists the permitting rules that nearly applied and
each requirement they lacked; ``trace`` says what happened to every rule.

Dates that the case cache groups into intervals are never quoted: an
explanation describes them by the interval the rules distinguish ("on or
after 2025-11-21"), so one decision is true of every request of its case.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs

from ..diagnostics import Diagnostic
from ..engine.compiler import UNKNOWN, CompiledRulebook, Unit
from ..engine.evaluator import RuleState, Verdict
from ..language.ast import Not, Ref
from ..language.template import Template
from ..language.unparse import unparse
from ..rulebook.model import Effective
from ..rulebook.vocabulary import HOPS
from .decision import Decision, Deferred, Explanation, Failure, HopCheck, Link, Missing, TraceEntry
from .english import Phraser

QUESTION_FIELDS = frozenset({"holder", "recipient", "purpose"})
"""Who holds the data, who would receive it and why: a route whose requirement on them fails is no route
for this request, whatever facts were added."""
_QUESTION_ORDER = tuple(sorted(QUESTION_FIELDS))

NEAR_MISS = 2
"""A permitting rule 'nearly applied' when it lacks at most this many requirements and no route lacks fewer."""

DateText = Callable[[str, datetime.date], str]
MAX_SHARED_ENTRIES = 100_000
T = TypeVar("T")


def _remembered(memo: dict[Any, T], key: Any, make: Callable[[], T]) -> T:
    """``memo[key]``, made by ``make`` the first time; a memo that reaches :data:`MAX_SHARED_ENTRIES` starts
    over (a batch of new cases shares few entries, and a bound keeps a hostile stream from growing it)."""
    found = memo.get(key)
    if found is None:
        if len(memo) >= MAX_SHARED_ENTRIES:
            memo.clear()
        found = memo[key] = make()
    return found


_NO_TEMPLATE = Template("", ())
"""A template quoting nothing: what a decision quotes when the vocabulary has no disclosure template."""


def _iso(_path: str, day: datetime.date) -> str:
    return day.isoformat()


def _window(effective: Effective) -> str:
    return "always in force" if effective.always else f"in force {effective.describe()}"


def _join(items: list[str], joiner: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {joiner} " + items[-1]


@attrs.frozen
class _UnitText:
    """One requirement of a rule and the sentences that say it."""

    unit: Unit
    source: str
    requirement: str
    negation: str
    statement: str


def _tree_order(compiled: CompiledRulebook) -> tuple[str, ...]:
    """Rules from each general rule down through its exceptions, depth first, in declaration order."""
    rules = compiled.book.rules
    seen: list[str] = []

    def visit(rid: str) -> None:
        if rid in seen:
            return
        seen.append(rid)
        for child in compiled.exceptions[rid]:
            visit(child)

    for rid, rule in rules.items():
        if not rule.exception_to:
            visit(rid)
    for rid in rules:  # rules whose general rule is itself an exception elsewhere are already placed
        visit(rid)
    return tuple(seen)


@attrs.frozen
class _HopBarred:
    """The hop into the holder was barred by a specific prohibition (a court order): that rule, and the hop."""

    rule: str
    sender: str
    route: str
    day: str


class _Units(dict[str, "tuple[_UnitText, ...]"]):
    """Each rule's requirements in words, written when the rule is first looked up."""

    def __init__(self, explainer: Explainer) -> None:
        super().__init__()
        self.explainer = explainer

    def __missing__(self, rid: str) -> tuple[_UnitText, ...]:
        phraser = self.explainer.phraser
        texts = tuple(
            _UnitText(
                unit,
                unparse(unit.node),
                phraser.requirement(unit.node),
                phraser.negation(unit.node),
                phraser.statement(unit.node),
            )
            for unit in self.explainer.compiled.rules[rid].units
        )
        self[rid] = texts
        return texts


class _Failures:
    """Which requirements failed, per rule whose condition did not hold, tested when first asked for and
    remembered: `missing` asks about the routes it weighs, the trace (when read) about every rule. The
    verdict knows only each rule's value, not which of its requirements failed, and the decision was reached
    without asking."""

    __slots__ = ("env", "found", "states", "units")

    def __init__(
        self, units: Mapping[str, tuple[_UnitText, ...]], states: Mapping[str, RuleState], env: Mapping[str, Any]
    ) -> None:
        self.units, self.states, self.env = units, states, env
        self.found: dict[str, list[tuple[_UnitText, bool | None]]] = {}

    def of(self, rid: str) -> list[tuple[_UnitText, bool | None]]:
        found = self.found.get(rid)
        if found is None:
            state = self.states[rid]
            if state.holds is True or not state.in_force:
                found = []
            else:
                env = self.env
                found = [(u, v) for u in self.units[rid] if (v := u.unit.test(env)) is not True]
            self.found[rid] = found
        return found


class _Pending(Deferred):
    """A decision's explanation, not yet built: the verdict's fields and the environment's values, packed.

    A cached decision holds one until its explanation is read. Each object here is one more for the garbage
    collector to walk on every collection it survives, and a cache of new cases holds tens of thousands: so
    this is one object with slots, not a closure with a cell per variable. Building it twice gives equal values.
    """

    __slots__ = ("explainer", "fields", "hop", "paths", "prohibitions", "rule_ids", "states", "values")

    explainer: Explainer | None

    def __init__(
        self,
        explainer: Explainer,
        verdict: Verdict,
        rule_ids: tuple[str, ...],
        paths: tuple[str, ...],
        values: tuple[Any, ...],
    ) -> None:
        v = verdict
        self._make = None
        self._value = None
        self.explainer = explainer
        self.fields = (v.decision, v.status, v.rule, v.chain, v.conflicts, v.undecided, v.unknown_facts)
        self.rule_ids, self.paths, self.values = rule_ids, paths, values
        self.states = tuple(v.states.values())
        self.prohibitions, self.hop = v.prohibitions, v.hop

    def _build(self) -> Explanation:
        assert self.explainer is not None
        env = dict(zip(self.paths, self.values, strict=True))
        states = dict(zip(self.rule_ids, self.states, strict=True))
        whole = Verdict(*self.fields, states, self.prohibitions, env, self.hop)
        return self.explainer.explanation(whole, env)

    def _release(self) -> None:
        self.explainer = self.hop = None
        self.rule_ids = self.states = self.paths = self.values = ()


class Explainer:
    def __init__(self, compiled: CompiledRulebook, date_text: DateText = _iso, near_miss: int = NEAR_MISS) -> None:
        self.compiled = compiled
        self.book = compiled.book
        self.vocabulary = compiled.book.vocabulary
        self.phraser = Phraser(self.vocabulary, self.book.definitions)
        self.date_text = date_text
        self.near_miss = near_miss
        order = self.vocabulary.readable_paths()
        self.path_order = {p: i for i, p in enumerate(order)}
        self.tree_order = _tree_order(compiled)
        # Decisions are cached per case, and most of a decision is its trace; the same trace entry
        # ("not in force", "not met: the holder is not the IRS") recurs across cases, so each distinct
        # entry is kept once and shared.
        self.shared: dict[tuple[str, str, str], TraceEntry] = {}
        # A value in words depends only on its path, type and value; a batch of new cases shows the same few.
        self.shown: dict[tuple[str, type, object], str] = {}
        self.interned: dict[tuple[str, ...], tuple[str, ...]] = {}
        # The routes a denial weighs depend on few things, the same across most cases of a batch.
        self.route_memo: dict[tuple[Any, ...], list[str]] = {}
        self.heads: dict[tuple[Any, ...], Template] = {}
        self.heads_made: dict[tuple[Any, ...], tuple[Any, ...]] = {}

    @functools.cached_property
    def units(self) -> _Units:
        """Each rule's requirements in words. They depend only on the rules, so each rule's are written once,
        when an explanation first needs them (a permit's explanation never does; a trace needs every rule's)."""
        return _Units(self)

    # -- values -------------------------------------------------------------------------------

    def label(self, path: str) -> str:
        slot = self.vocabulary.slot(path)
        return slot.label if slot else path

    def show(self, path: str, env: Mapping[str, Any]) -> str:
        """A value as words, for reasons: labels, not codes."""
        value = env.get(path, UNKNOWN)
        return _remembered(self.shown, (path, type(value), value), lambda: self.words(path, value))

    def words(self, path: str, value: object) -> str:
        slot = self.vocabulary.slot(path)
        if value is UNKNOWN or slot is None:
            return "(not stated)"
        if isinstance(value, frozenset):
            return self.phraser.value_list(slot.type, value, "and") if value else "none"
        if isinstance(value, datetime.date):
            return self.date_text(path, value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        return self.phraser.value(slot.type, value)

    def quoted(self, path: str, env: Mapping[str, Any]) -> str:
        """A value as the request gave it, for `missing`: the code in backticks and its label."""
        value = env.get(path, UNKNOWN)
        slot = self.vocabulary.slot(path)
        if value is UNKNOWN or slot is None:
            return "not stated"
        if isinstance(value, frozenset):
            if not value:
                return "none"
            codes = self.phraser.ordered(slot.type, value)
            return ", ".join(f"`{c}` ({self.phraser.value(slot.type, c)})" for c in codes)
        if isinstance(value, datetime.date):
            return self.date_text(path, value)
        if isinstance(value, bool):
            return "`true`" if value else "`false`"
        if slot.type.kind == "enum":
            return f"`{value}` ({self.phraser.value(slot.type, value)})"
        return f"`{value}`"

    def unstated(self, paths: list[str]) -> str:
        """Facts a request leaves out, in words: "whether the request is in writing", "the signer"."""
        words = []
        for path in paths:
            slot = self.vocabulary.slot(path)
            label = slot.label if slot else path
            words.append(f"whether {label}" if slot is not None and slot.type.kind == "bool" else label)
        return _join(words) or "some facts"

    def observed(self, text: _UnitText, value: bool | None, env: Mapping[str, Any]) -> str:
        """What the request shows about one failed requirement."""
        paths = sorted(text.unit.reads.paths, key=lambda p: self.path_order.get(p, 0))
        if value is None:
            unknown = [p for p in paths if env.get(p, UNKNOWN) is UNKNOWN]
            return f"the request does not state {self.unstated(unknown)}"
        node = text.unit.node
        inner = node.operand if isinstance(node, Not) else node
        if len(paths) == 1 and not isinstance(inner, Ref):
            path = paths[0]
            slot = self.vocabulary.slot(path)
            if slot is not None and slot.type.kind == "bool":
                return "it is" if env[path] else "it is not"
            return f"it is {self.quoted(path, env)}"
        # A definition or a test of several values: say what holds instead, and quote the stated facts
        # that are not plain yes/no (who signed, what the request sets forth...).
        details = [
            f"{self.label(p)} {'are' if slot.type.is_set else 'is'} {self.quoted(p, env)}"
            for p in paths
            if p.startswith("facts.")
            and (slot := self.vocabulary.slot(p)) is not None
            and slot.type.kind != "bool"
            and p in env
        ]
        said = f"here {text.negation}"
        return f"{said}: {'; '.join(details)}" if details else said

    # -- decisions ----------------------------------------------------------------------------

    def reason(self, template: Template, env: Mapping[str, Any]) -> str:
        """A rule's reason for this request: its template filled in. (A decision's fields, the reason among
        them, are remembered by the values its template quotes: see :meth:`decision`.)"""
        return template.render(lambda path: self.show(path, env))

    def disclosure(self, env: Mapping[str, Any]) -> str:
        template = self.vocabulary.disclosure
        if template is None:
            return "this data"
        return template.render(lambda path: self.show(path, env))

    def decision(self, verdict: Verdict, env: Mapping[str, Any]) -> Decision:
        """The decision on ``verdict``: what it decides and why now; the chain, `missing`, trace and provenance
        when first read, from this verdict and environment (see :mod:`~disclosure_rules.decisions.decision`).

        Its fields are those of the first decision of the same verdict and the same values quoted by its
        reason: new cases of a batch share a few hundred verdicts and few such values."""
        v = verdict
        barred = self.hop_bar(v)
        head_key = (
            v.decision,
            v.status,
            v.rule,
            v.chain,
            v.prohibitions,
            v.undecided,
            v.unknown_facts,
            v.conflicts,
            barred,
        )
        template = _remembered(self.heads, head_key, lambda: self.head_template(v))
        # The values quoted, and their types, as `show` tells them apart (`1 == True`).
        quoted = tuple([env.get(p, UNKNOWN) for p in template.paths])
        key = (head_key, quoted, tuple([q.__class__ for q in quoted]))
        made = _remembered(self.heads_made, key, lambda: self.head(verdict, env, barred))
        outcome, status, reason, rule, citations, obligations, unknown, conflicts, ruleset = made
        return Decision(
            outcome,
            status,
            reason,
            rule,
            citations,
            obligations,
            unknown,
            conflicts,
            ruleset,
            (),
            self.deferred(verdict, env),
        )

    def head_template(self, verdict: Verdict) -> Template:
        """The template whose placeholders are all the request values a decision on ``verdict`` quotes."""
        rules = self.book.rules
        if verdict.status in ("permitted", "prohibited"):
            assert verdict.rule is not None
            return rules[verdict.rule].reason
        disclosure = self.vocabulary.disclosure
        return disclosure if disclosure is not None else _NO_TEMPLATE

    def hop_bar(self, verdict: Verdict) -> _HopBarred | None:
        """For a denial whose holder received the data by a hop that a specific prohibition barred (a court
        order, not the general rule of § 6103(a)): that rule, and the hop's sender, route and date. The
        denial's own rule says why the use fails (nothing authorizes it); this says why the hop gave nothing."""
        hop = verdict.hop
        if verdict.decision != "deny" or hop is None or hop.status != "prohibited" or hop.rule is None:
            return None
        rule = self.book.rules[hop.rule]
        if not rule.exception_to or hop.rule == verdict.rule:
            return None
        last = verdict.env[HOPS][-1]
        return _HopBarred(hop.rule, str(last["from"]), str(last["route"]), last["date"].isoformat())

    def head(
        self,
        verdict: Verdict,
        env: Mapping[str, Any],
        barred: _HopBarred | None = None,
    ) -> tuple[Any, ...]:
        """The fields of the decision on ``verdict``, but for its explanation and id, in their order."""
        rules = self.book.rules
        controlling = rules[verdict.rule] if verdict.rule else None
        citations: list[str] = []
        for rid in [*([verdict.rule] if verdict.rule else []), *verdict.prohibitions, *reversed(verdict.chain)]:
            if rules[rid].citation not in citations:
                citations.append(rules[rid].citation)
        reason = self.reason_for(verdict, env)
        if barred is not None:
            citation = rules[barred.rule].citation
            reason += (
                f" The disclosure by which {self.show('holder', env)} received it (from "
                f"{self.words('holder', barred.sender)}, {barred.day}, under {barred.route}) was itself barred: "
                f"{citation}."
            )
            if citation not in citations:
                citations.append(citation)
        if verdict.status == "indeterminate":
            for rid in verdict.undecided:
                if rules[rid].citation not in citations:
                    citations.append(rules[rid].citation)
        obligations = (
            tuple(self.book.obligations[o] for o in controlling.obligations)
            if controlling and verdict.decision == "permit"
            else ()
        )
        return (
            verdict.decision,
            verdict.status,
            reason,
            verdict.rule,
            tuple(citations),
            obligations,
            verdict.unknown_facts,
            verdict.conflicts,
            self.book.info,
        )

    def reason_for(self, verdict: Verdict, env: Mapping[str, Any]) -> str:
        """The reason of the decision on ``verdict``: the controlling rule's, the undecided rules' facts, or
        that no rule authorizes the disclosure."""
        if verdict.status in ("permitted", "prohibited"):
            assert verdict.rule is not None
            return self.reason(self.book.rules[verdict.rule].reason, env)
        if verdict.status == "indeterminate":
            return self.indeterminate_reason(verdict, env)
        return (
            f"No rule authorizes disclosing {self.disclosure(env)}; "
            f"without an authorizing rule, the disclosure is not permitted."
        )

    def deferred(self, verdict: Verdict, env: Mapping[str, Any]) -> Deferred:
        """What builds the explanation later, holding the verdict and environment packed: a cached decision
        keeps them until read, and two dicts per case would triple the case cache's memory. Their keys are
        the same few tuples across cases, so each is kept once."""
        intern = self.interned
        if len(intern) > MAX_SHARED_ENTRIES:
            intern.clear()
        rule_ids = tuple(verdict.states)
        rule_ids = intern.setdefault(rule_ids, rule_ids)
        paths = tuple(env)
        paths = intern.setdefault(paths, paths)
        return _Pending(self, verdict, rule_ids, paths, tuple(env.values()))

    def explanation(self, verdict: Verdict, env: Mapping[str, Any]) -> Explanation:
        """The chain, `missing`, trace and provenance of a decision, from its verdict and environment."""
        rules = self.book.rules
        states = verdict.states
        chain = tuple(Link(r, rules[r].kind, rules[r].citation, rules[r].title) for r in verdict.chain)
        failed = _Failures(self.units, states, env)
        missing = self.missing(verdict, states, failed, env) if verdict.decision == "deny" else ()
        provenance = self.provenance(verdict) if verdict.hop is not None else ()
        return Explanation(chain, missing, lambda: self.trace(states, failed, env), provenance)

    def provenance(self, verdict: Verdict) -> tuple[HopCheck, ...]:
        """The hop into the holder as decided, then the hops before it, each with its reason."""
        hop = verdict.hop
        assert hop is not None
        last = verdict.env[HOPS][-1]
        decided = self.decision(hop, hop.env)
        check = HopCheck(
            last["from"],
            last["to"],
            last["route"],
            last["date"].isoformat(),
            decided.decision,
            decided.status,
            decided.rule,
            decided.reason,
        )
        return (check, *decided.provenance)

    def indeterminate_reason(self, verdict: Verdict, env: Mapping[str, Any]) -> str:
        rules = self.book.rules
        facts = self.unstated(list(verdict.unknown_facts))
        routes = _join([rules[r].citation for r in verdict.undecided])
        verb = "turns" if len(verdict.undecided) == 1 else "turn"
        return (
            f"The request does not state {facts}, on which {routes} {verb}; "
            f"until that is known, disclosing {self.disclosure(env)} is not permitted."
        )

    def error(self, errors: list[Diagnostic]) -> Decision:
        first = errors[0]
        where = f" at {first.location()}" if first.location() else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        reason = (
            f"The request is invalid: {first.message}{where}{more}; "
            "nothing may be disclosed on a request that cannot be decided."
        )
        return Decision("deny", "error", reason, None, (), (), (), (), self.book.info, tuple(errors))

    def routes(self, verdict: Verdict, states: Mapping[str, RuleState], env: Mapping[str, Any]) -> list[str]:
        """The permitting rules that could make this denial a permit if they held.

        None, if a general prohibition that nothing overrides applies: what the requester could add would
        not change the answer. Under a controlling prohibition that is itself an exception (a court order
        over § 6103(i)(2)), the routes it bars, since they are what the request invoked (each then also
        lists the prohibition among what it lacks). Under a prohibition that has exceptions, only those
        exceptions (the routes around § 6103(a), say, not the Privacy Act's). With no prohibition deciding,
        any permitting rule. Either way, never a route that cannot serve this holder, recipient and
        purpose: those are the question, not facts the requester could add.
        """
        # What follows reads the verdict's status, rule and prohibitions, and the question's own fields.
        key = (verdict.status, verdict.rule, verdict.prohibitions, *[env.get(p) for p in _QUESTION_ORDER])
        return _remembered(self.route_memo, key, lambda: self._routes(verdict, env))

    def _routes(self, verdict: Verdict, env: Mapping[str, Any]) -> list[str]:
        rules = self.book.rules
        exceptions = self.compiled.exceptions
        if any(not rules[rid].exception_to and not exceptions[rid] for rid in verdict.prohibitions):
            return []
        if verdict.status == "prohibited" and verdict.rule is not None:
            controlling = rules[verdict.rule]
            if exceptions[verdict.rule] or not controlling.exception_to:
                candidates = [rid for rid in exceptions[verdict.rule] if rules[rid].kind == "permit"]
            else:
                candidates = [rid for rid in controlling.exception_to if rules[rid].kind == "permit"]
        else:
            candidates = [rid for rid, rule in rules.items() if rule.kind == "permit"]
        return [rid for rid in candidates if not self.out_of_scope(rid, env)]

    def out_of_scope(self, rid: str, env: Mapping[str, Any]) -> bool:
        """Whether a requirement that reads only the question's own fields fails (e.g. the wrong holder)."""
        return any(u.unit.reads.paths <= QUESTION_FIELDS and u.unit.test(env) is False for u in self.units[rid])

    def missing(
        self,
        verdict: Verdict,
        states: Mapping[str, RuleState],
        failed_units: _Failures,
        env: Mapping[str, Any],
    ) -> tuple[Missing, ...]:
        rules = self.book.rules
        barred = {
            rid: [e for e in self.compiled.exceptions[rid] if rules[e].kind == "forbid" and states[e].applies is True]
            for rid in self.routes(verdict, states, env)
            if states[rid].holds is not True
        }
        # Of those routes, the closest only: those that lack the fewest requirements, if at most `near_miss`.
        counts = {
            rid: len(failed_units.of(rid)) + (0 if states[rid].in_force else 1) + len(barred[rid]) for rid in barred
        }
        closest = min((c for c in counts.values() if c > 0), default=0)
        if not closest or closest > self.near_miss:
            return ()
        found: list[Missing] = []
        for rule in rules.values():  # in declaration order; every route found lacks `closest`
            if counts.get(rule.id) != closest:
                continue
            failures: list[Failure] = []
            if not states[rule.id].in_force:
                failures.append(
                    Failure(
                        "effective",
                        f"the rule must be in force ({_window(rule.effective)})",
                        f"the date of the disclosure is {self.date_text('date', env['date'])}" if "date" in env else "",
                    )
                )
            failed = failed_units.of(rule.id)
            failures.extend(Failure(u.source, u.requirement, self.observed(u, v, env)) for u, v in failed)
            failures.extend(
                Failure(
                    f"not {e}",
                    f"no exception to it may apply, but {rules[e].citation} bars the disclosure",
                    f"`{e}` applies ({_window(rules[e].effective)})",
                )
                for e in barred[rule.id]
            )
            found.append(Missing(rule.id, rule.title, rule.citation, tuple(failures)))
        return tuple(found)

    def trace(
        self,
        states: Mapping[str, RuleState],
        failed_units: _Failures,
        env: Mapping[str, Any],
    ) -> tuple[TraceEntry, ...]:
        entries = []
        for rid in self.tree_order:
            rule = self.book.rules[rid]
            state = states[rid]
            if not state.in_force:
                result, detail = (
                    "not_in_force",
                    f"not in force on the date of the disclosure ({_window(rule.effective)})",
                )
            elif state.applies is True:
                result, detail = "applies", "its conditions are met and no exception to it applies"
            elif state.holds is True and state.applies is False:
                winners = [e for e in self.compiled.exceptions[rule.id] if states[e].applies is True]
                result = "overridden"
                detail = (
                    "its conditions are met, but "
                    + _join([f"`{e}` ({self.book.rules[e].citation})" for e in winners])
                    + " overrides it"
                )
            elif state.holds is False:
                said = [u.negation if v is False else f"unknown whether {u.statement}" for u, v in failed_units.of(rid)]
                result, detail = "not_met", "not met: " + "; ".join(said)
            else:
                unknown = sorted(
                    {p for p in self.compiled.rules[rule.id].reads.paths if p not in env},
                    key=lambda p: self.path_order.get(p, 0),
                )
                result = "unknown"
                if state.holds is None:
                    detail = "depends on facts the request does not state: " + ", ".join(f"`{p}`" for p in unknown)
                else:
                    detail = "its conditions are met, but whether an exception to it applies is unknown"
            # Looked up by a plain tuple: hashing and comparing attrs values runs Python code per rule.
            entry = self.shared.get((rid, result, detail))
            if entry is None:
                entry = TraceEntry(rule.id, rule.kind, rule.citation, result, detail)  # type: ignore[arg-type]
                self.shared[rid, result, detail] = entry
            entries.append(entry)
        if len(self.shared) > MAX_SHARED_ENTRIES:
            self.shared.clear()
        return tuple(entries)
