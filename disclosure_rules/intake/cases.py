"""Case keys: group requests that must get the same decision, so each case is decided once.

Rules read a few fields and compare dates only with a few boundary dates, so a
large batch holds few distinct *cases*. A case key is a tuple built from a raw
request without validating it in full: every value the rules read as given
(lists as sets, so that their order does not matter, as it does not to the
rules), except dates that the rules only compare with literal dates, which
are replaced by the interval between boundary dates they fall in.

A value no rule reads (nor any template quotes) is left out of the key: its
value cannot change the decision, so it must not split the cache. Its
*validity* can (an invalid request is an error), so the key function checks
it exactly as validation would (a text's type and length, an enumeration's
value, a flag's type) and returns ``None`` for anything validation would
refuse; only values that validation accepts are left out. The request's
``id`` is never part of the key (it is echoed, not decided on); it must be a
JSON scalar. Two requests
with equal keys are either both invalid or both valid with the same decision
(dates in one interval satisfy exactly the same comparisons), and a decision
never quotes such a date, only its interval. The property tests check this
against the uncached path.

Where a value cannot be keyed cheaply and safely (a wrong type, an unknown
key, a value of the wrong kind that would compare equal to a valid one, as
``1 == True`` does), the key function returns ``None`` and the request takes
the full path: validation, evaluation and explanation.

The one rule that keeps an invalid request from meeting a valid one's key:
every key of every object the function reads is matched against the declared
names *before* its value is looked at, and a name that is not declared
returns ``None`` whatever its value. Only then may a null stand for an
absent value, as it does for validation. (A null under an undeclared name was
once dropped first, and an invalid request got a valid one's cached permit.)

For speed the key function is Python source generated from the *checked
vocabulary* (names are validated identifiers and are embedded with ``repr``);
no text from a request or a condition ever reaches it.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..rulebook.vocabulary import Slot, Vocabulary, fact_tree
from .pysource import Source
from .request import MAX_SET_ITEMS, MAX_TEXT_CHARS, REQUEST_ID, is_request_id, parse_date

KeyFunction = Callable[[Any], "tuple[Any, ...] | None"]
MAX_MEMO = 50_000
ONE_DAY = datetime.timedelta(days=1)


class DateBuckets:
    """The boundary dates of one date path, and which interval a date falls in."""

    def __init__(self, path: str, boundaries: Iterable[datetime.date]) -> None:
        self.path = path
        self.boundaries = sorted(set(boundaries))
        self.memo: dict[str, int] = {}

    def bucket(self, text: object) -> int | None:
        """The interval index of a date written YYYY-MM-DD, or None if it is not one."""
        day = parse_date(text)
        if day is None:
            return None
        index = bisect.bisect_right(self.boundaries, day)
        if len(self.memo) >= MAX_MEMO:
            self.memo.clear()
        self.memo[text] = index  # type: ignore[index]
        return index

    def describe(self, day: datetime.date) -> str:
        """The interval ``day`` falls in, in words ("before 2025-11-21", "on 2025-11-21"...)."""
        b = self.boundaries
        if not b:
            return "any date"
        i = bisect.bisect_right(b, day)
        if i == 0:
            return f"before {b[0]}"
        if i == len(b):
            return f"on or after {b[-1]}"
        last = b[i] - ONE_DAY
        if last == b[i - 1]:
            return f"on {last}"
        return f"between {b[i - 1]} and {last}"


def plan_buckets(
    vocabulary: Vocabulary,
    date_literals: Mapping[str, Iterable[datetime.date]],
    compared_to_paths: Iterable[str],
    quoted: Iterable[str],
    windows: Iterable[tuple[datetime.date | None, datetime.date | None]],
) -> dict[str, DateBuckets]:
    """Which date paths may be bucketed, and at which boundaries.

    A date is bucketed unless a rule compares it with another date path or a
    template quotes it. ``windows`` are the rules' effective windows (read
    against the ``date`` field); an end date is inclusive, so the day after it
    is a boundary.
    """
    excluded = set(compared_to_paths) | set(quoted)
    plans: dict[str, DateBuckets] = {}
    for path, slot in [*vocabulary.fields.items(), *vocabulary.facts.items()]:
        if slot.type.kind != "date" or path in excluded:
            continue
        bounds: set[datetime.date] = set()
        for literal in date_literals.get(path, ()):
            bounds.add(literal)
            bounds.add(_day_after(literal))
        if path == "date":
            for start, end in windows:
                if start is not None:
                    bounds.add(start)
                if end is not None:
                    bounds.add(_day_after(end))
        plans[path] = DateBuckets(path, bounds)
    return plans


def _day_after(day: datetime.date) -> datetime.date:
    """The next day; the last day there is (9999-12-31) has none, and no date falls after it either, so it
    is its own boundary."""
    return day if day == datetime.date.max else day + ONE_DAY


def _exact_type(slot: Slot | None, v: str) -> str | None:
    """A cheap test that a raw value is null or of the one type a valid value of ``slot`` has, where a value
    of another type could compare equal to a valid one (``1 == True``); None where no test is needed."""
    if slot is None:
        return None
    kind = slot.type.kind
    if kind == "bool":
        return f"({v}.__class__ is bool or {v} is None)"
    if kind == "number":
        return f"({v}.__class__ is int or {v}.__class__ is float or {v} is None)"
    return None


def _transform(
    src: Source,
    slot: Slot,
    v: str,
    indent: int,
    buckets: Mapping[str, DateBuckets],
    index_of_values: Mapping[str, Mapping[str, int]],
    unread: bool = False,
) -> None:
    """Emit code that checks one raw value cheaply and turns it into its key component, in place.

    For a value no rule reads (``unread``), the component is None whatever the value, once it is checked to
    be one that validation accepts; a value that would need validation proper is kept.
    """
    kind = slot.type.kind
    if unread and (refused := _refused(src, slot, v, index_of_values)) is not None:
        src.emit(indent, f"if {v} is not None and ({refused}): return None")
        src.emit(indent, f"{v} = None")
        return
    if (exact := _exact_type(slot, v)) is not None:
        # 1 == True and 0 == False: only a real boolean (or number) may reach the key.
        src.emit(indent, f"if not {exact}: return None")
    elif kind == "text":
        src.emit(indent, f"if {v} is not None and {v}.__class__ is not str: return None")
    elif kind == "set":
        # A set of declared values becomes one integer, a bit per value: the same whatever the order or
        # repeats of its items, as the rules see it (validation makes it a set), and, unlike a frozenset, no
        # work for the garbage collector while its case is cached. A value outside the enumeration, a tuple
        # (from a Python caller: validation refuses it) and a list longer than validation allows, even of
        # repeats that would make a valid set, have no key: validity depends on the list, not only the set.
        index = src.const(index_of_values.get(slot.type.enum or "", {}), "IDX")
        bits, item, bit = src.var("m"), src.var("x"), src.var("i")
        src.emit(indent, f"if {v}.__class__ is str: {v} = ({v},)")
        src.emit(indent, f"elif {v}.__class__ is not list:")
        src.emit(indent + 1, f"if {v} is not None: return None")
        src.emit(indent, f"if {v} is not None:")
        src.emit(indent + 1, f"if len({v}) > {MAX_SET_ITEMS}: return None")
        src.emit(indent + 1, f"{bits} = 0")
        src.emit(indent + 1, f"for {item} in {v}:")
        src.emit(indent + 2, f"{bit} = {index}.get({item}) if {item}.__class__ is str else None")
        src.emit(indent + 2, f"if {bit} is None: return None")
        src.emit(indent + 2, f"{bits} |= 1 << {bit}")
        src.emit(indent + 1, f"{v} = {bits}")
    elif kind == "date":
        plan = buckets.get(slot.path)
        if plan is None:
            src.emit(indent, f"if {v} is not None and {v}.__class__ is not str: return None")
        else:
            memo = src.const(plan.memo, "MEMO")
            bucket = src.const(plan.bucket, "BUCKET")
            b = src.var("b")
            src.emit(indent, f"if {v} is not None:")
            src.emit(indent + 1, f"{b} = {memo}.get({v}) if {v}.__class__ is str else None")
            src.emit(indent + 1, f"if {b} is None:")
            src.emit(indent + 2, f"{b} = {bucket}({v})")
            src.emit(indent + 2, f"if {b} is None: return None")
            src.emit(indent + 1, f"{v} = {b}")
    elif kind == "enum":
        # Declared values become small integers: cheap to hash and compare (a JSON parser gives
        # every request its own string objects), and an undeclared value goes the long way.
        index = src.const(index_of_values.get(slot.type.enum or "", {}), "IDX")
        src.emit(indent, f"if {v} is not None:")
        src.emit(indent + 1, f"{v} = {index}.get({v})")
        src.emit(indent + 1, f"if {v} is None: return None")


def _refused(src: Source, slot: Slot, v: str, index_of_values: Mapping[str, Mapping[str, int]]) -> str | None:
    """An expression true when validation would refuse the raw value ``v`` (not null), for the kinds whose
    check is this cheap and exact; None for the others (sets, dates), whose values stay in the key."""
    kind = slot.type.kind
    if kind == "text":
        return f"{v}.__class__ is not str or len({v}) > {MAX_TEXT_CHARS}"
    if kind == "enum":
        index = src.const(index_of_values.get(slot.type.enum or "", {}), "IDX")
        return f"{v}.__class__ is not str or {v} not in {index}"
    if kind == "bool":
        return f"{v}.__class__ is not bool"
    if kind == "number":
        # x - x is 0 for a finite number, NaN for infinity and NaN, which validation refuses.
        return f"({v}.__class__ is not int and {v}.__class__ is not float) or {v} - {v} != 0"
    return None


def unread_paths(vocabulary: Vocabulary, read: Iterable[str]) -> frozenset[str]:
    """The optional fields and the facts that are not in ``read`` (what the rules read or templates quote):
    what the key leaves out once checked. A required field is always kept: its absence is an error."""
    wanted = set(read)
    optional = [p for p, s in vocabulary.fields.items() if not s.required] + list(vocabulary.facts)
    return frozenset(p for p in optional if p not in wanted)


def _object(
    src: Source,
    tree: Mapping[str, Slot],
    obj: str,
    indent: int,
    index_of_values: Mapping[str, Mapping[str, int]],
) -> list[str]:
    """Emit code reading a small flat dict ``obj`` (a chain hop) whose keys are all declared.

    Every declared key is fetched, and ``len(obj)`` must equal the number fetched that are not None: a key
    that is not declared, or an explicit null, sends the request the long way.
    """
    fetched = {name: src.var() for name in tree}
    for name, var in fetched.items():
        src.emit(indent, f"{var} = {obj}.get({name!r})")
    src.emit(indent, f"if len({obj}) != {len(fetched)} - ({', '.join(fetched.values())},).count(None): return None")
    for name, slot in tree.items():
        _transform(src, slot, fetched[name], indent, {}, index_of_values)
    return list(fetched.values())


def _sparse_object(
    src: Source,
    tree: Mapping[str, Any],
    obj: str,
    indent: int,
    buckets: Mapping[str, DateBuckets],
    index_of_values: Mapping[str, Mapping[str, int]],
    counter: str | None,
    unread: frozenset[str] = frozenset(),
) -> list[str]:
    """Emit code reading the dict ``obj`` (known to be a dict) by looping over the keys it has.

    Facts are many and a request states few, so the cost follows what is stated. Returns one variable per
    child of ``tree``: a component for a fact, a tuple for a group of facts, None when absent or null. A key
    that is not declared sends the request the long way. ``counter``, if given, names a variable that
    counts the keys of every dict read.
    """
    if counter:
        src.emit(indent, f"{counter} += len({obj})")
    children = {name: src.var("c") for name in tree}
    if not children:
        src.emit(indent, f"if {obj}: return None")
        return []
    src.emit(indent, " = ".join(children.values()) + " = None")
    key, value = src.var("k"), src.var("x")
    src.emit(indent, f"for {key}, {value} in {obj}.items():")
    # Every key is matched to a declared name before its value is looked at: a null is keyed as an absent
    # fact only under a declared name (which validation also skips), never under one it refuses.
    for position, (name, child) in enumerate(tree.items()):
        src.emit(indent + 1, f"{'if' if position == 0 else 'elif'} {key} == {name!r}:")
        target = children[name]
        if isinstance(child, dict):
            src.emit(indent + 2, f"if {value} is None: continue")
            src.emit(indent + 2, f"if {value}.__class__ is not dict: return None")
            inner = _sparse_object(src, child, value, indent + 2, buckets, index_of_values, counter, unread)
            src.emit(indent + 2, f"{target} = ({', '.join(inner)},)")
        else:
            _transform(src, child, value, indent + 2, buckets, index_of_values, child.path in unread)
            src.emit(indent + 2, f"{target} = {value}")
    src.emit(indent + 1, "else: return None")
    return list(children.values())


RecordBatchFunction = Callable[
    [
        Iterable[Any],
        Callable[[Any], Any],
        Callable[[Any], Any],
        Callable[[Any, Any], Any],
        Callable[[Any], Any],
        list[int],
    ],
    Iterator[Any],
]


BYPASS_WINDOW = 1024
"""Records sampled to tell whether a batch repeats its cases (see :func:`build_record_functions`)."""
BYPASS_RATIO = 20
"""A window with fewer than one hit in this many records is a batch of new cases."""
BYPASS_SKIP = 16_384
"""Records then decided without the key and the cache, before the next window is sampled."""


def skipped_after(hits: int) -> int:
    """How many records skip the key and the cache after a window of :data:`BYPASS_WINDOW` records of which
    ``hits`` met a cached case: the one rule every batch loop and one call at a time follow."""
    return BYPASS_SKIP if hits * BYPASS_RATIO < BYPASS_WINDOW else 0


def build_record_functions(
    vocabulary: Vocabulary,
    buckets: Mapping[str, DateBuckets],
    columns: Mapping[str, str],
    read_paths: Iterable[str] | None = None,
) -> tuple[KeyFunction, RecordBatchFunction]:
    """The key of a flat record whose ``columns`` map to request paths, and a batch loop built on it.

    A record key is the tuple of the record's raw values in column order (None for a missing column, as
    for a null: both leave the path out of the request), with each bucketed date replaced by its interval
    and a list of values by a tuple. There is a key only if every value is hashable, each bucketed date is a
    valid date (for the batch loop, one already seen), booleans and numbers are of exactly their type, and
    the record has no other key; otherwise the key function returns None or raises, and the caller takes
    the long way. A key is stored
    only after its record was validated and decided, so a later record with an equal key holds equal values
    of the same types: it is the same request.

    The batch function inlines the key and the cache lookup, since a call per record would cost as much
    as the rest: ``batch(records, get, slow, miss, fresh)`` yields ``get(key)`` on a hit, ``miss(record, key)``
    for a record that has a key no case has yet (the key, once the record is found valid, is the one to keep
    its decision under), and ``slow(record)`` for a record that has no key. A batch of new cases gains nothing
    from the key and pays for filling the cache: when a window of :data:`BYPASS_WINDOW` records has fewer hits
    than one in :data:`BYPASS_RATIO`, the next :data:`BYPASS_SKIP` records are decided by ``fresh(record)``
    alone, and then a window is sampled again. Which records skip the cache changes only the time taken, never
    a decision.
    A record with every column present is read by subscripts, the cheapest way; one with columns missing
    by ``get``, counting what it has.
    """
    src = Source()
    index_of_values = {name: {v: i for i, v in enumerate(e.values)} for name, e in vocabulary.enums.items()}
    names = list(columns)
    vars_ = {name: src.var() for name in names}
    dense = [f"{vars_[name]} = r[{name!r}]" for name in names]
    sparse = [f"{vars_[name]} = r.get({name!r})" for name in names]
    sparse_check = f"len(r) != {len(names)} - ({', '.join(vars_.values())},).count(None)"
    normalize: list[str] = []
    guards: list[str] = []
    parts: list[str] = []
    first_sight: list[str] = []
    batch_parts: list[str] = []
    batch_dates: list[str] = []
    unhashable = src.const([], "UNHASHABLE")
    unread = unread_paths(vocabulary, read_paths) if read_paths is not None else frozenset()
    id_var = "None"
    for name in names:
        v, path = vars_[name], columns[name]
        slot = vocabulary.slot(path)
        if path == REQUEST_ID:
            # Echoed, never decided on: not in the key, but it must be one validation accepts.
            guards.append(f"({v} is None or {src.const(is_request_id, 'IS_ID')}({v}))")
            id_var = v
            continue
        if slot is not None and path in unread and (refused := _refused(src, slot, v, index_of_values)) is not None:
            guards.append(f"({v} is None or not ({refused}))")
            continue
        if slot is not None and slot.type.kind == "set":
            # A list becomes a frozenset (its order and repeats do not matter); anything else but a single
            # string or null (a tuple from a Python caller, which validation refuses) becomes unhashable, so
            # that it never meets a stored key.
            # A list longer than validation allows has no key, even if its repeats make a valid set.
            normalize.append(
                f"if {v}.__class__ is list: {v} = frozenset({v}) if len({v}) <= {MAX_SET_ITEMS} else {unhashable}"
            )
            normalize.append(f"elif {v}.__class__ is str: {v} = frozenset(({v},))")
            normalize.append(f"elif {v} is not None: {v} = {unhashable}")
        if (guard := _exact_type(slot, v)) is not None:
            guards.append(guard)
        plan = buckets.get(path)
        batch_parts.append(v)
        if plan is None:
            parts.append(v)
            continue
        memo = src.const(plan.memo, "MEMO")
        bucket = src.const(plan.bucket, "BUCKET")
        # The key function puts a date it has not seen into the memo (if it is a date).
        first_sight.append(f"if {v}.__class__ is str and {v} not in {memo}: {bucket}({v})")
        if slot is not None and slot.required:
            parts.append(f"{memo}[{v}]")
        else:
            parts.append(f"({memo}[{v}] if {v} is not None else None)")
        # The batch loop buckets a date it has not seen itself (a batch of new cases has new dates); text that
        # is not a date makes the key unhashable, never the key of an absent date.
        b = src.var("b")
        batch_dates.extend(
            [
                f"if {v} is None: {b} = None",
                "else:",
                f"    {b} = {memo}.get({v}) if {v}.__class__ is str else None",
                f"    if {b} is None: {b} = {bucket}({v})",
                f"    if {b} is None: {b} = {unhashable}",
            ]
        )
        batch_parts[-1:] = [b]
    key = f"({', '.join(parts)},)"
    batch_key = f"({', '.join(batch_parts)},)"

    def read(indent: int, on_extra_key: str) -> None:
        src.emit(indent, f"if len(r) == {len(names)}:")
        for line in dense:
            src.emit(indent + 1, line)
        src.emit(indent, "else:")
        for line in sparse:
            src.emit(indent + 1, line)
        src.emit(indent + 1, f"if {sparse_check}: {on_extra_key}")
        for line in normalize:
            src.emit(indent, line)

    src.emit(0, "def record_key(r):")
    read(1, "return None")
    if guards:
        src.emit(1, f"if not ({' and '.join(guards)}): return None")
    for line in first_sight:
        src.emit(1, line)
    src.emit(1, f"return {key}")

    src.emit(0, "def record_batch(records, get, slow, miss, fresh, state):")
    # A cache that is not hit is not filled: when fewer than one record in twenty of a window met a cached
    # case, the next records skip the key and the cache (``fresh`` decides them), then a window is sampled again.
    # The counts carry over from one call to the next (``state``, the caller's), as a batch may come in chunks.
    src.emit(1, "n, hits, skip = state")
    src.emit(1, "try:")
    src.emit(2, "for r in records:")
    src.emit(3, "if skip:")
    src.emit(4, "skip -= 1")
    src.emit(4, "yield fresh(r)")
    src.emit(4, "continue")
    src.emit(3, "n += 1")
    src.emit(3, f"if n == {BYPASS_WINDOW}:")
    src.emit(4, f"skip = {src.const(skipped_after, 'SKIPPED_AFTER')}(hits)")
    src.emit(4, "n = hits = 0")
    src.emit(3, "k = None")
    src.emit(3, "try:")
    # A key not among the columns sends the record the long way, which reports it. (A sentinel put in the
    # first column's place was once taken for an empty set when that column held a set, and such a record
    # met the cached decision of a valid one.)
    read(4, f"raise {src.const(LookupError, 'EXTRA_KEY')}")
    for line in batch_dates:
        src.emit(4, line)
    src.emit(4, f"if {' and '.join(guards) or 'True'}:")
    src.emit(5, f"k = {batch_key}")
    src.emit(5, "d = get(k)")
    src.emit(5, "if d is not None:")
    src.emit(6, "hits += 1")
    # A cached decision is shared by its case; a row's id goes on a copy sharing the rest.
    src.emit(6, f"yield d if {id_var} is None else d.with_id({id_var})")
    src.emit(6, "continue")
    # Whatever the quick path trips on (a list, an object that is not a dict...), the long way validates
    # and reports; a record with a key that no case has yet is decided by ``miss``, which may keep it.
    src.emit(3, "except Exception:")
    src.emit(4, "k = None")
    src.emit(3, "yield slow(r) if k is None else miss(r, k)")
    src.emit(1, "finally:")
    src.emit(2, "state[:] = n, hits, skip")
    namespace = src.run("<disclosure_rules generated>")
    return namespace["record_key"], namespace["record_batch"]


def build_key_function(
    vocabulary: Vocabulary,
    buckets: Mapping[str, DateBuckets],
    *,
    counted: bool = False,
    read: Iterable[str] | None = None,
) -> KeyFunction:
    """The case key of a request (a parsed JSON object), or None where the request must go the long way.

    With ``counted``, the function returns ``(key, n)`` instead, ``n`` being how many keys the dicts it
    read have: a caller holding the JSON text can then tell that no object of it repeated a key (see
    :meth:`~disclosure_rules.checker.Rules.check_json`).

    ``read`` lists the paths the rules read or templates quote (None: all of them); the others are checked
    and left out (see :func:`unread_paths`).
    """
    src = Source()
    unread = unread_paths(vocabulary, read) if read is not None else frozenset()
    index_of_values = {name: {v: i for i, v in enumerate(e.values)} for name, e in vocabulary.enums.items()}
    tree: dict[str, Any] = dict(vocabulary.fields)
    tree["facts"] = fact_tree(vocabulary.facts)
    counter = "n" if counted else None
    src.emit(0, "def case_key(r):")
    src.emit(1, "if r.__class__ is not dict: return None")
    if counter:
        src.emit(1, f"{counter} = len(r)")
    fetched_chain = src.var("chain") if vocabulary.hop else None
    # Fetch the top level, including the chain (read below: a list of hops), in one length check.
    names = list(tree) + (["chain"] if fetched_chain else []) + [REQUEST_ID]
    vars_ = {name: src.var() for name in tree}
    if fetched_chain:
        vars_["chain"] = fetched_chain
    vars_[REQUEST_ID] = request_id = src.var("rid")
    for name in names:
        src.emit(1, f"{vars_[name]} = r.get({name!r})")
    src.emit(1, f"if len(r) != {len(names)} - ({', '.join(vars_[n] for n in names)},).count(None): return None")
    # The id is not part of the key, but a request whose id validation refuses must go the long way.
    src.emit(1, f"if {request_id} is not None and not {src.const(is_request_id, 'IS_ID')}({request_id}): return None")
    parts: list[str] = []
    # The request's date as given: the key holds only its interval, but a hop dated after it gives no route
    # (provenance.hop_environment), so such a request is sent the long way rather than share a key.
    raw_date = src.var("day")
    src.emit(1, f"{raw_date} = {vars_['date']}" if "date" in vars_ else f"{raw_date} = None")
    for name, child in tree.items():
        var = vars_[name]
        if isinstance(child, dict):
            # `facts`: a tuple of what the request states, None when it states nothing.
            src.emit(1, f"if {var} is not None:")
            src.emit(2, f"if {var}.__class__ is not dict: return None")
            inner = _sparse_object(src, child, var, 2, buckets, index_of_values, counter, unread)
            src.emit(2, f"{var} = ({', '.join(inner)},)")
            parts.append(var)
        else:
            _transform(src, child, var, 1, buckets, index_of_values, child.path in unread)
            parts.append(var)
    if fetched_chain:
        hops = src.var("hops")
        src.emit(1, f"if {fetched_chain} is not None:")
        src.emit(2, f"if {fetched_chain}.__class__ is not list: return None")
        src.emit(2, f"{hops} = []")
        src.emit(2, "for h in " + fetched_chain + ":")
        src.emit(3, "if h.__class__ is not dict: return None")
        if counter:
            src.emit(3, f"{counter} += len(h)")
        hop_vars = _object(src, vocabulary.hop, "h", 3, index_of_values)
        if "date" in vocabulary.hop and vocabulary.hop["date"].type.kind == "date":
            # The hop's date is kept as given (a string, checked above, or None).
            hop_day = dict(zip(vocabulary.hop, hop_vars, strict=True))["date"]
            src.emit(
                3, f"if {hop_day} is None or {raw_date}.__class__ is not str or {hop_day} > {raw_date}: return None"
            )
        src.emit(3, f"{hops}.append(({', '.join(hop_vars)},))")
        src.emit(2, f"{fetched_chain} = tuple({hops})")
        parts.append(fetched_chain)
    key = f"({', '.join(parts)},)"
    src.emit(1, f"return ({key}, {counter})" if counter else f"return {key}")
    namespace = src.run("<disclosure_rules generated>")
    function: KeyFunction = namespace["case_key"]
    return function
