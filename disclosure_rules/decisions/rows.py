"""A new case decided by its rules' signature: read into variables, evaluated as one tuple, given its decision.

The records path (:mod:`disclosure_rules.records`) answers a row whose case it has seen from its cache. A row
of a new case used to be read into an environment (a dict), evaluated by the rule set's generated function,
turned into a verdict and then into a decision, each step a few Python calls and objects; on a batch of new
cases that was all of the time. This module generates, per column mapping, one function (:class:`RowDecider`)
that:

1. reads each column's value and checks that it is plainly valid (anything else goes the long way, which
   says what is wrong: this function never decides what is valid, it only recognises what plainly is);
2. calls the rule set's *signature* function (:func:`~disclosure_rules.engine.codegen.build_signature`) on
   those values, which returns every rule's state as one tuple, without building a dict;
3. looks the tuple up among the signatures it has met: the decision, status, controlling rule, citations,
   obligations and conflicts depend on the rules' states alone, and new cases share a few hundred of them.
   The reason depends on the states and on the values its template quotes, and is remembered by both;
4. returns a :class:`RowDecision`, which holds the signature's shared fields, the reason and the row's own
   values, and builds the chain, ``missing``, trace and provenance from them only when they are read.

:class:`RequestDecider` does the same for a nested request of ``Rules.check_many``, its values read into one
tuple by a generated reader (:func:`~disclosure_rules.intake.requestgen.build_values_reader`).

The first row of each signature is decided the usual way (reader, evaluator, explainer), and its verdict's
states are checked equal to the signature: the two paths agree by construction, and a row for which they
would not is decided the usual way. A signature whose verdict is indeterminate names, in its reason, the facts
each row leaves out: those of the facts its undecided rules read (the same for every row of the signature)
that the row does not state, so its heads are remembered by those too. ``tests/test_rows.py`` checks, on
generated and hostile rows, that every decision equals the long way's.

Safety: the function is Python source written from the checked vocabulary and column mapping before any row
is read, and run by :mod:`~disclosure_rules.intake.pysource`: column names and values from the vocabulary
enter it only as ``repr`` constants or names bound to values.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import operator
from collections.abc import Callable, Mapping
from typing import Any

from ..engine.codegen import build_signature, load_generated
from ..engine.compiler import UNKNOWN, CompiledRulebook
from ..engine.evaluator import RuleState, Verdict, decide, undecided_reads
from ..intake.cases import DateBuckets
from ..intake.pysource import Source
from ..intake.request import EMPTY, REQUEST_ID, is_request_id
from ..intake.requestgen import agreeing, build_values_reader, emit_value
from ..language.template import Template
from ..rulebook.vocabulary import HOPS, RECEIVED_UNDER, Vocabulary
from .decision import Decision, Deferred, Explanation
from .explain import Explainer

MAX_SIGNATURES = 10_000
"""Signatures remembered at most (then forgotten, all at once): a rule set's rows show a few hundred."""
MAX_REASONS = 10_000
"""Reasons remembered at most per signature."""

Fallback = Callable[[object, Any], Decision]
"""Decides a row the usual way: ``(row, record key or None)``."""
EnvironmentReader = Callable[[object], "dict[str, Any] | None"]

_KINDS = ("enum", "set", "bool", "number", "text", "date")
"""The kinds of value a column may hold for rows to be read here (a chain goes the long way)."""


class _Signature:
    """What the rows whose rules are in the same states share: the verdict, and the head of their decisions
    (one, or one per combination of the values its reason quotes, picked from a row's values by ``pick``)."""

    __slots__ = (
        "common",
        "decider",
        "fields",
        "head",
        "heads",
        "pick",
        "prohibitions",
        "reads",
        "slow",
        "states",
        "template",
    )

    def __init__(
        self, decider: _SignatureDecider | None, verdict: Verdict | None = None, template: Template | None = None
    ) -> None:
        self.decider = decider
        self.slow = verdict is None
        """Decided the usual way: an indeterminate verdict, whose reason names what each row leaves out."""
        self.template = template
        self.pick: Callable[[tuple[Any, ...]], Any] | None = None
        self.head: _Head | None = None
        self.heads: dict[Any, _Head] = {}
        self.reads: tuple[tuple[str, int], ...] | None = None
        """An indeterminate verdict's: the facts its undecided rules read (each with its place among a row's
        values), of which the verdict names those the row leaves out."""
        if verdict is not None:
            v = verdict
            self.fields = (v.decision, v.status, v.rule, v.chain, v.conflicts, v.undecided, v.unknown_facts)
            self.states, self.prohibitions = v.states, v.prohibitions
        self.common: tuple[Any, ...] = ()
        """The explainer's head of the first decision (see :meth:`.Explainer.head`): all but its reason (and,
        if indeterminate, the facts it names) is every decision's of this signature."""

    def unstated(self, env: Mapping[str, Any]) -> tuple[str, ...] | None:
        """The facts an indeterminate verdict names for a row whose environment is ``env`` (None if not
        indeterminate)."""
        if self.reads is None:
            return None
        return tuple([p for p, _ in self.reads if env.get(p, UNKNOWN) is UNKNOWN])

    def verdict(self, env: Mapping[str, Any]) -> Verdict:
        """The verdict on a row of this signature whose environment is ``env``."""
        unstated = self.unstated(env)
        fields = self.fields if unstated is None else (*self.fields[:6], unstated)
        return Verdict(*fields, self.states, self.prohibitions, env, None)


class _Head:
    """A decision's fields but its explanation and id: shared by every row decision of a signature whose reason
    quotes the same values."""

    __slots__ = (
        "citations",
        "conflicts",
        "decision",
        "obligations",
        "reason",
        "rule",
        "ruleset",
        "signature",
        "status",
        "unknown_facts",
    )

    def __init__(self, signature: _Signature, reason: str, unstated: tuple[str, ...] | None = None) -> None:
        self.signature = signature
        self.decision, self.status, _, self.rule, self.citations, *rest = signature.common
        self.obligations, self.unknown_facts, self.conflicts, self.ruleset = rest
        if unstated is not None:
            self.unknown_facts = unstated
        self.reason = reason


class _RowExplanation(Deferred):
    """A row decision's explanation, built from its signature and the row's values when first read."""

    __slots__ = ("raw", "signature")

    def __init__(self, signature: _Signature, raw: tuple[Any, ...]) -> None:
        self._make = None
        self._value = None
        self.signature: _Signature | None = signature
        self.raw = raw

    def _build(self) -> Explanation:
        signature = self.signature
        assert signature is not None and signature.decider is not None
        return signature.decider.explanation(signature, self.raw)

    def _release(self) -> None:
        self.signature = None
        self.raw = ()


class RowDecision(Decision):
    """A :class:`Decision` of a row decided by :class:`RowDecider`: its fields are its head's (shared by the
    rows in the same states whose reason quotes the same values), and its explanation is built from the row's
    own values when first read. It equals, field for field, the decision the long way gives the same row.

    It has no id: a row's id goes on a copy (:meth:`Decision.with_id`), as on a cached decision."""

    __slots__ = ("_h", "_raw", "_x")

    _h: _Head
    _raw: tuple[Any, ...]
    _x: Deferred
    id = None  # type: ignore[assignment]  # a class attribute, not a slot: one less to set per row

    # The fields a decision says, read from the head; a row decision's are never set (`errors` are a valid
    # row's: none).
    decision = property(operator.attrgetter("_h.decision"))  # type: ignore[assignment]
    status = property(operator.attrgetter("_h.status"))  # type: ignore[assignment]
    reason = property(operator.attrgetter("_h.reason"))  # type: ignore[assignment]
    rule = property(operator.attrgetter("_h.rule"))  # type: ignore[assignment]
    citations = property(operator.attrgetter("_h.citations"))  # type: ignore[assignment]
    obligations = property(operator.attrgetter("_h.obligations"))  # type: ignore[assignment]
    unknown_facts = property(operator.attrgetter("_h.unknown_facts"))  # type: ignore[assignment]
    conflicts = property(operator.attrgetter("_h.conflicts"))  # type: ignore[assignment]
    ruleset = property(operator.attrgetter("_h.ruleset"))  # type: ignore[assignment]
    errors = ()  # type: ignore[assignment]

    def __repr__(self) -> str:
        # Written as any decision is: how it was decided is not part of what it says.
        return "Decision" + Decision.__repr__(self).removeprefix(type(self).__name__)

    @property  # type: ignore[misc]
    def explanation(self) -> Deferred:
        try:
            return self._x
        except AttributeError:  # not read before: made on first read, and kept (two threads make equal ones)
            made = _RowExplanation(self._h.signature, self._raw)
            object.__setattr__(self, "_x", made)
            return made


class _SignatureDecider:
    """What deciding by signature needs, whatever reads the new case: the signatures met, the reasons written,
    and the usual way to decide the first case of a signature."""

    def __init__(
        self, compiled: CompiledRulebook, explainer: Explainer, read_env: EnvironmentReader, fallback: Fallback
    ) -> None:
        self.compiled = compiled
        self.explainer = explainer
        self.vocabulary: Vocabulary = compiled.book.vocabulary
        self.read_env = read_env
        self.fallback = fallback
        self.signatures: dict[tuple[Any, ...], _Signature] = {}
        self.reasons: dict[tuple[str, str | None, Any], str] = {}
        self.paths = signature_paths(compiled, self.vocabulary)
        self.position = {p: i for i, p in enumerate(self.paths)}
        # Generated as `evaluate` is, and loaded the same way; it returns the flat tuple of states.
        self.signature_of: Callable[..., tuple[Any, ...]] = load_generated(  # type: ignore[assignment]
            build_signature(compiled, self.paths), RuleState
        )

    def explanation(self, signature: _Signature, raw: tuple[Any, ...]) -> Explanation:  # pragma: no cover
        raise NotImplementedError

    # -- the first case of a signature, and the head its decisions share ---------------------------------

    def first(self, row: object, key: Any, signature: tuple[Any, ...]) -> Decision:
        """Decide a row of a signature not met before (or one always decided so) the usual way; learn what the
        decisions of a new signature share."""
        if signature not in self.signatures:
            self._learn(row, signature)
        return self.fallback(row, key)

    def _learn(self, row: object, signature: tuple[Any, ...]) -> None:
        env = self.read_env(row)
        if env is None:
            return
        verdict = decide(self.compiled, env, env["date"])
        if tuple(itertools.chain.from_iterable(verdict.states.values())) != signature or verdict.hop is not None:
            return  # pragma: no cover - the two paths evaluate the same rules on the same values
        if len(self.signatures) >= MAX_SIGNATURES:
            self.signatures.clear()
        learned = _Signature(self, verdict, self.explainer.head_template(verdict))
        if verdict.status == "indeterminate":
            reads = undecided_reads(self.compiled, verdict.undecided, verdict.states)
            learned.reads = tuple((p, self.position[p]) for p in reads)
            if learned.unstated(env) != verdict.unknown_facts:  # pragma: no cover - the evaluator's own rule
                self.signatures[signature] = _Signature(None)
                return
        learned.common = self.explainer.head(verdict, verdict.env)
        indices = [self.paths.index(p) for p in learned.template.paths] if learned.template is not None else []
        learned.pick = self._picker(indices, learned.reads)
        if learned.pick is None:
            learned.head = self.head(learned, ())
        self.signatures[signature] = learned

    def _picker(
        self, indices: list[int], reads: tuple[tuple[str, int], ...] | None = None
    ) -> Callable[[tuple[Any, ...]], Any] | None:
        """What picks, from a row's values, those a template quotes: what its reason depends on. A number is
        picked with its type, since `1` and `1.0` are equal keys but are written differently. An indeterminate
        reason depends on which of the facts its rules read the row leaves out, too (``reads``)."""
        if reads is not None:
            quoted = self._picker(indices)
            unknown = UNKNOWN

            def pick_unstated(values: tuple[Any, ...]) -> Any:
                return (
                    quoted(values) if quoted is not None else (),
                    tuple([p for p, i in reads if values[i] is unknown]),
                )

            return pick_unstated
        if not indices:
            return None
        get = operator.itemgetter(*indices)
        numbers = [i for i in indices if (s := self.vocabulary.slot(self.paths[i])) and s.type.kind == "number"]
        if not numbers:
            return get

        def pick(values: tuple[Any, ...]) -> Any:
            return get(values), tuple([values[i].__class__ for i in numbers])

        return pick

    def head(self, signature: _Signature, values: tuple[Any, ...]) -> _Head:
        """The head of a signature's decisions on rows whose values are ``values`` (or any, if its reason quotes
        none): its reason remembered by the template and the values it quotes."""
        template = signature.template
        assert template is not None
        quoted: Any = signature.pick(values) if signature.pick is not None else ()
        key = (signature.fields[1], signature.fields[2], quoted)  # the status and the rule name the template
        reason = self.reasons.get(key)
        if reason is None:
            # A reason that quotes nothing is written without values; it is the explainer's own, for its status.
            # It reads only the values its template quotes (head_template's), so only those are put in.
            position = self.position
            quotes = template.paths if values else ()
            env = {p: v for p in quotes if (v := values[position[p]]) is not UNKNOWN}
            if signature.reads is not None:  # the facts it names: those it reads that the row leaves out
                env.update((p, v) for p, i in signature.reads if (v := values[i]) is not UNKNOWN)
            reason = self.explainer.reason_for(signature.verdict(env), env)
            if len(self.reasons) >= MAX_SHARED:
                self.reasons.clear()
            self.reasons[key] = reason
        head = _Head(signature, reason, quoted[1] if signature.reads is not None else None)
        if len(signature.heads) >= MAX_REASONS:
            signature.heads.clear()
        signature.heads[quoted] = head
        return head


class RowDecider(_SignatureDecider):
    """Decides rows of one column mapping by one generated function; see the module's docstring."""

    def __init__(
        self,
        compiled: CompiledRulebook,
        explainer: Explainer,
        columns: Mapping[str, str],
        buckets: Mapping[str, DateBuckets],
        read_env: EnvironmentReader,
        fallback: Fallback,
        keep: Callable[[Any, Decision], None] | None,
        shared_set: Callable[[frozenset[Any]], frozenset[Any]] = lambda s: s,
    ) -> None:
        super().__init__(compiled, explainer, read_env, fallback)
        self.shared_set = shared_set
        self.columns = dict(columns)
        self.raw_columns = tuple(c for c, p in self.columns.items() if p != REQUEST_ID)
        self.decide_row: Fallback = _generate(self, buckets, keep)

    def explanation(self, signature: _Signature, raw: tuple[Any, ...]) -> Explanation:
        """The explanation of a row decision: the row's environment read again from its values (as the long
        way reads it), and the verdict its signature holds."""
        # A list was kept as the set it stands for; a set's order and repeats do not matter to the reader.
        row = {c: list(v) if v.__class__ is frozenset else v for c, v in zip(self.raw_columns, raw, strict=True)}
        env = self.read_env(row)
        assert env is not None  # the row was read once already
        if RECEIVED_UNDER in self.vocabulary.chain_projections:
            env[RECEIVED_UNDER] = EMPTY  # a row has no chain (see provenance.received_under)
        return self.explainer.explanation(signature.verdict(env), env)


class RequestDecider(_SignatureDecider):
    """Decides a plainly valid request of a new case by its signature: its values read into one tuple by a
    generated reader (:func:`~disclosure_rules.intake.requestgen.build_values_reader`), without building its
    environment. A request with a chain, or anything out of the ordinary, goes the usual way."""

    def __init__(
        self,
        compiled: CompiledRulebook,
        explainer: Explainer,
        read_env: EnvironmentReader,
        fallback: Fallback,
        keep: Callable[[Any, Decision], None] | None,
        shared_set: Callable[[frozenset[Any]], frozenset[Any]],
    ) -> None:
        super().__init__(compiled, explainer, read_env, fallback)
        self.read_values = build_values_reader(self.vocabulary, shared_set, self.paths, UNKNOWN)
        self.keep = keep

    def decide(self, request: object, key: Any) -> Decision:
        """The decision on ``request`` (without its id), kept under ``key`` if there is one."""
        values = self.read_values(request)
        if values is None:
            return self.fallback(request, key)
        signature = self.signature_of(values)
        known = self.signatures.get(signature)
        if known is None or known.slow:
            return self.first(request, key, signature)
        head = known.head if known.pick is None else known.heads.get(known.pick(values))
        if head is None:
            head = self.head(known, values)
        decision = _NEW(RowDecision)
        _SET(decision, "_h", head)
        _SET(decision, "_raw", values)
        if key is not None and self.keep is not None:
            self.keep(key, decision)
        return decision

    def explanation(self, signature: _Signature, raw: tuple[Any, ...]) -> Explanation:
        """The explanation of a request's decision: its environment, as the reader builds it for what the rules
        read and the reasons quote (a request decided here has no chain), and the verdict its signature holds."""
        env = {p: v for p, v in zip(self.paths, raw, strict=True) if v is not UNKNOWN}
        for projection in self.vocabulary.chain_projections:
            env.setdefault(projection, EMPTY)
        env[HOPS] = ()
        return self.explainer.explanation(signature.verdict(env), env)


_NEW = RowDecision.__new__
_SET = object.__setattr__


MAX_SHARED = 100_000


def signature_paths(compiled: CompiledRulebook, vocabulary: Vocabulary) -> list[str]:
    """The paths a signature is given, in order: every path the rules read or a reason quotes, and the date."""
    quoted = {p for r in compiled.book.rules.values() for p in r.reason.paths}
    if vocabulary.disclosure is not None:
        quoted.update(vocabulary.disclosure.paths)
    return sorted(compiled.reads.paths | quoted | {"date"})


def supported(vocabulary: Vocabulary, columns: Mapping[str, str]) -> bool:
    """Whether rows of ``columns`` can be read here: no column gives the chain (provenance reads it)."""
    for path in columns.values():
        if path == REQUEST_ID:
            continue
        slot = vocabulary.slot(path)
        if slot is None or slot.type.kind not in _KINDS:
            return False
    return "date" in columns.values()


def representative(plan: DateBuckets) -> list[datetime.date]:
    """A date of each interval of ``plan`` (index ``i`` for ``plan.bucket``'s ``i``): the rules see a bucketed
    date only through its interval, as the case keys do."""
    bounds = plan.boundaries
    before = bounds[0] - datetime.timedelta(days=1) if bounds and bounds[0] > datetime.date.min else None
    found = [before or datetime.date.min, *bounds]
    for index, day in enumerate(found):
        # Only a first boundary of 0001-01-01 leaves interval 0 empty; its date is never looked up.
        if bisect.bisect_right(bounds, day) != index and not (index == 0 and before is None and bounds):
            raise AssertionError(f"interval {index} of {plan.path} has no representative date")  # pragma: no cover
    return found


def _generate(
    decider: RowDecider, buckets: Mapping[str, DateBuckets], keep: Callable[[Any, Decision], None] | None
) -> Fallback:
    vocabulary = decider.vocabulary
    src = Source()
    miss = src.const(decider.fallback, "MISS")
    first = src.const(decider.first, "FIRST")
    head = src.const(decider.head, "HEAD")
    signatures = src.const(decider.signatures, "SIGS")
    signature = src.const(decider.signature_of, "SIG")
    unknown = src.const(UNKNOWN, "U")
    new = src.const(RowDecision.__new__, "NEW")
    row_class = src.const(RowDecision, "ROW")
    put = src.const(object.__setattr__, "SET")
    shared = src.const(decider.shared_set, "SHARED")
    by_path: dict[str, str] = {}
    raw: list[str] = []
    id_var = None
    src.emit(0, "def decide_row(r, k=None):")
    src.emit(1, f"if r.__class__ is not dict or not {src.const(frozenset(decider.columns), 'COLUMNS')}.issuperset(r):")
    src.emit(2, f"return {miss}(r, k)")
    names = {column: src.var("c") for column in decider.columns}
    # A row with every column is read in one call (its keys are the columns: none is missing); one with
    # columns missing, column by column.
    getter = src.const(operator.itemgetter(*decider.columns), "GET")
    unpacked = ", ".join(names.values()) + ("," if len(names) == 1 else "")
    src.emit(1, f"if len(r) == {len(names)}: {unpacked} = {getter}(r)")
    src.emit(1, "else:")
    for column, var in names.items():
        src.emit(2, f"{var} = r.get({column!r})")
    for column, path in decider.columns.items():
        var = names[column]
        if path == REQUEST_ID:
            src.emit(1, f"if {var} is not None and not {src.const(is_request_id, 'IS_ID')}({var}): return {miss}(r, k)")
            id_var = var
            continue
        raw.append(var)
        slot = vocabulary.slot(path)
        assert slot is not None
        arg = by_path[path] = src.var("a")
        absent = unknown if slot.default is None or slot.default_when is not None else src.const(slot.default, "D")
        src.emit(1, f"if {var} is None:")
        src.emit(2, f"return {miss}(r, k)" if slot.required else f"{arg} = {absent}")
        src.emit(1, "else:")
        _value(src, slot, var, arg, vocabulary, buckets.get(path), miss, shared)
    # Two facts that agree, stated differently (see Slot.agrees_with): the full reader refuses the row.
    column_of = {path: names[column] for column, path in decider.columns.items()}
    for mine, theirs in [(s.path, str(s.agrees_with)) for s in agreeing(vocabulary)]:
        if mine in column_of and theirs in column_of:
            a, b = column_of[mine], column_of[theirs]
            src.emit(1, f"if {a} is not None and {b} is not None and {a} != {b}: return {miss}(r, k)")
    args = []
    for path in decider.paths:
        slot = vocabulary.slot(path)
        if slot is not None and slot.default_when is not None:
            # Tied to another column's set (see Slot.default_when), as the reader reads it.
            where, member = slot.default_when
            arg = by_path.get(path) or src.var("a")
            if path not in by_path:
                src.emit(1, f"{arg} = {unknown}")
            if where in by_path:  # tied to that column's set: see Slot.default_when
                src.emit(1, f"if {by_path[where]} is not {unknown}:")
                src.emit(2, f"if {member!r} not in {by_path[where]}: {arg} = {src.const(not slot.default, 'D')}")
                src.emit(2, f"elif {arg} is {unknown}: {arg} = {src.const(slot.default, 'D')}")
            args.append(arg)
            continue
        if path in by_path:
            args.append(by_path[path])
            continue
        if path in vocabulary.chain_projections:
            args.append(src.const(EMPTY, "EMPTY"))  # a row has no chain
        elif slot is not None and slot.default is not None:
            args.append(src.const(slot.default, "D"))
        else:
            args.append(unknown)
    src.emit(1, f"v = ({', '.join(args)},)")
    src.emit(1, f"sig = {signature}(v)")
    src.emit(1, f"s = {signatures}.get(sig)")
    src.emit(1, f"if s is None or s.slow: return {first}(r, k, sig)")
    src.emit(1, "if s.pick is None: h = s.head")
    src.emit(1, "else:")
    src.emit(2, "h = s.heads.get(s.pick(v))")
    src.emit(2, f"if h is None: h = {head}(s, v)")
    src.emit(1, f"d = {new}({row_class})")
    src.emit(1, f"{put}(d, '_h', h)")
    src.emit(1, f"{put}(d, '_raw', ({', '.join(raw)},))")
    if keep is not None:
        src.emit(1, f"if k is not None: {src.const(keep, 'KEEP')}(k, d)")
    if id_var is not None:
        src.emit(1, f"if {id_var} is not None: return d.with_id({id_var})")
    src.emit(1, "return d")
    namespace = src.run("<disclosure_rules rows>")
    function: Fallback = namespace["decide_row"]
    return function


def _value(
    src: Source,
    slot: Any,
    var: str,
    arg: str,
    vocabulary: Vocabulary,
    plan: DateBuckets | None,
    miss: str,
    shared: str,
) -> None:
    """Put the plainly valid value of ``var`` in ``arg``, checked as the quick readers check it, or decide the
    row the usual way."""
    fail = f"return {miss}(r, k)"
    if slot.type.kind == "date" and plan is not None:
        # The interval's date, where the rules see only the interval (as the case keys do).
        memo = src.const(plan.memo, "MEMO")
        days = src.const(representative(plan), "DAYS")
        index = src.var("i")
        src.emit(2, f"{index} = {memo}.get({var}) if {var}.__class__ is str else None")
        src.emit(2, f"if {index} is None: {index} = {src.const(plan.bucket, 'BUCKET')}({var})")
        src.emit(2, f"if {index} is None: {fail}")
        src.emit(2, f"{arg} = {days}[{index}]")
        return
    # A set is kept as the set it stands for in the row's values too: the row's own list may change after it
    # is decided; the set does not.
    also = f"{var} = " if slot.type.kind == "set" else ""
    emit_value(src, slot, var, 2, slot.path, shared, vocabulary, lambda _path, value: f"{also}{arg} = {value}", fail)


__all__ = ["RequestDecider", "RowDecider", "RowDecision", "signature_paths", "supported"]
