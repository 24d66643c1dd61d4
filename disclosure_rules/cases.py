"""Case keys: group requests that must get the same decision, so each case is decided once.

Rules read a few fields and compare dates only with a few boundary dates, so a
large batch holds few distinct *cases*. A case key is a tuple built from a raw
request without validating it in full: every declared value as given (lists as
tuples), except dates that the rules only compare with literal dates, which
are replaced by the interval between boundary dates they fall in. Two requests
with equal keys are either both invalid or both valid with the same decision
(dates in one interval satisfy exactly the same comparisons), and a decision
never quotes such a date, only its interval. The property tests check this
against the uncached path.

Where a value cannot be keyed cheaply and safely (a wrong type, an unknown
key, a value of the wrong kind that would compare equal to a valid one, as
``1 == True`` does), the key function returns ``None`` and the request takes
the full path: validation, evaluation and explanation.

For speed the key function is Python source generated from the *checked
vocabulary* (names are validated identifiers and are embedded with ``repr``);
no text from a request or a condition ever reaches it.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .request import parse_date
from .vocabulary import Slot, Vocabulary

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
            bounds.add(literal + ONE_DAY)
        if path == "date":
            for start, end in windows:
                if start is not None:
                    bounds.add(start)
                if end is not None:
                    bounds.add(end + ONE_DAY)
        plans[path] = DateBuckets(path, bounds)
    return plans


class _Source:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self.counter = 0

    def var(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any, prefix: str = "K") -> str:
        name = self.var(prefix)
        self.names[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


def _component(src: _Source, slot: Slot, expr: str, indent: int, buckets: Mapping[str, DateBuckets]) -> str:
    """Emit code that turns one raw value into its key component; return the variable."""
    v = src.var()
    src.emit(indent, f"{v} = {expr}")
    kind = slot.type.kind
    if kind == "bool":
        src.emit(indent, f"if {v} is not None and {v} is not True and {v} is not False: return None")
    elif kind == "number":
        src.emit(indent, f"if {v} is not None and {v}.__class__ is not int and {v}.__class__ is not float: return None")
    elif kind == "text":
        src.emit(indent, f"if {v} is not None and {v}.__class__ is not str: return None")
    elif kind == "set":
        src.emit(indent, f"if {v}.__class__ is list: {v} = tuple({v})")
    elif kind == "date":
        plan = buckets.get(slot.path)
        if plan is None:
            src.emit(indent, f"if {v} is not None and {v}.__class__ is not str: return None")
        else:
            memo = src.const(plan.memo, "MEMO")
            fn = src.const(plan.bucket, "BUCKET")
            b = src.var("b")
            src.emit(indent, f"if {v} is not None:")
            src.emit(indent + 1, f"{b} = {memo}.get({v}) if {v}.__class__ is str else None")
            src.emit(indent + 1, f"if {b} is None:")
            src.emit(indent + 2, f"{b} = {fn}({v})")
            src.emit(indent + 2, f"if {b} is None: return None")
            src.emit(indent + 1, f"{v} = {b}")
    # Enumerations are keyed as given: only a string can equal a valid value, and
    # an unknown string is refused by validation and never cached.
    return v


def _fact_tree(facts: Mapping[str, Slot]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path, slot in facts.items():
        parts = path.split(".")[1:]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = slot
    return root


def _facts(src: _Source, tree: dict[str, Any], obj: str, indent: int, buckets: Mapping[str, DateBuckets]) -> list[str]:
    """Emit code for a facts object ``obj`` (a dict or None); return one variable per declared fact."""
    declared: list[str] = []
    _declare(src, tree, declared)
    # Every variable starts as None, so that an absent group of facts leaves its facts unknown.
    src.emit(indent, " = ".join(declared) + " = None" if declared else "pass")
    keys = src.const(frozenset(tree), "KEYS")
    src.emit(indent, f"if {obj} is not None:")
    src.emit(indent + 1, f"if {obj}.__class__ is not dict or not ({obj}.keys() <= {keys}): return None")
    index = 0
    for name, child in tree.items():
        if isinstance(child, dict):
            inner = src.var("g")
            src.emit(indent + 1, f"{inner} = {obj}.get({name!r})")
            for var in _facts(src, child, inner, indent + 1, buckets):
                src.emit(indent + 1, f"{declared[index]} = {var}")
                index += 1
        else:
            var = _component(src, child, f"{obj}.get({name!r})", indent + 1, buckets)
            src.emit(indent + 1, f"{declared[index]} = {var}")
            index += 1
    return declared


def _declare(src: _Source, tree: dict[str, Any], out: list[str]) -> None:
    for child in tree.values():
        if isinstance(child, dict):
            _declare(src, child, out)
        else:
            out.append(src.var("f"))


def build_key_function(vocabulary: Vocabulary, buckets: Mapping[str, DateBuckets]) -> KeyFunction:
    src = _Source()
    top = src.const(frozenset([*vocabulary.fields, "facts", "chain"]), "TOP")
    src.emit(0, "def case_key(r):")
    src.emit(1, f"if r.__class__ is not dict or not (r.keys() <= {top}): return None")
    parts: list[str] = []
    for name, slot in vocabulary.fields.items():
        parts.append(_component(src, slot, f"r.get({name!r})", 1, buckets))
    facts_obj = src.var("facts")
    src.emit(1, f"{facts_obj} = r.get('facts')")
    parts.extend(_facts(src, _fact_tree(vocabulary.facts), facts_obj, 1, buckets))
    hop_keys = src.const(frozenset(vocabulary.hop), "HOP")
    chain = src.var("chain")
    src.emit(1, f"{chain} = r.get('chain')")
    src.emit(1, f"if {chain} is not None:")
    src.emit(2, f"if {chain}.__class__ is not list: return None")
    hop_parts = src.var("hops")
    src.emit(2, f"{hop_parts} = []")
    src.emit(2, f"for h in {chain}:")
    src.emit(3, f"if h.__class__ is not dict or not (h.keys() <= {hop_keys}): return None")
    hop_vars = [_component(src, slot, f"h.get({name!r})", 3, {}) for name, slot in vocabulary.hop.items()]
    src.emit(3, f"{hop_parts}.append(({', '.join(hop_vars)},))")
    src.emit(2, f"{chain} = tuple({hop_parts})")
    parts.append(chain)
    src.emit(1, f"return ({', '.join(parts)},)")
    code = "\n".join(src.lines)
    namespace: dict[str, Any] = dict(src.names)
    namespace["__builtins__"] = {
        "tuple": tuple,
        "dict": dict,
        "list": list,
        "str": str,
        "int": int,
        "float": float,
        "None": None,
        "True": True,
        "False": False,
    }
    exec(compile(code, "<disclosure_rules case key>", "exec"), namespace)
    function: KeyFunction = namespace["case_key"]
    function.source = code  # type: ignore[attr-defined]
    return function
