"""Flat records: rows whose columns stand for request paths, checked without first nesting them.

A data pipeline holds flat rows (a database table, a data frame's records, the
peer benchmark's dicts), not the nested request of
:mod:`disclosure_rules.intake.request`. Values keep their JSON types: a boolean column
holds booleans, not the text ``"true"``.
A *column mapping* says which request path each column gives::

    checker = rules.records({
        "disclosed_on": "date", "element": "element", "holder": "holder", "origin": "origin",
        "recipient": "recipient", "purpose": "purpose", "signed_by": "facts.request.signed_by",
    })
    checker.check(row)          # one Decision
    checker.check_many(rows)    # one Decision per row, in order

A row means exactly the request made by putting each column's value at its
path, and is decided as that request: ``checker.check(row)`` equals
``rules.check(checker.request(row))`` except that an error's JSON path names
the row's column (``$.signed_by``), not the request path. A column that the
mapping does not name is an error, as an undeclared key is; a missing column
leaves its path out of the request, and a null means the same.

Speed. Building the nested request costs about as much as deciding a known
case, so the common path skips it: a second cache maps the row's raw values
(see :func:`~disclosure_rules.intake.cases.build_record_functions`) to the decision
the long way gave. Its keys are stored with one shared object per distinct
string, which keeps the lookups in the processor's cache. A row of a new case is
read by column and decided by its rules' signature in one generated function
(:mod:`disclosure_rules.decisions.rows`), the first row of each signature the long
way. A batch that stops hitting the cache stops filling it: it is decided without
the key until a sampled window hits again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from .decisions.decision import Decision
from .diagnostics import Diagnostic, DisclosureRulesError, did_you_mean_or_list, quote
from .intake.cases import BYPASS_WINDOW, DateBuckets, build_record_functions, skipped_after
from .intake.request import REQUEST_ID, json_type_name, member_path
from .intake.requestgen import build_record_reader
from .rulebook.vocabulary import Vocabulary

Fallback = Callable[[object, Any], Decision]
"""Decides a row of a new case: ``(row, its record key or None)``."""
Keep = Callable[[Any, Decision], None] | None


class ColumnsError(DisclosureRulesError, ValueError):
    """A column mapping names a path the vocabulary does not declare, or cannot make a valid request."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        count = len(self.diagnostics)
        summary = f"{count} error{'s' if count != 1 else ''} in the column mapping"
        super().__init__(summary + ":\n" + "\n".join(str(d) for d in self.diagnostics))


def mappable_paths(vocabulary: Vocabulary) -> list[str]:
    """The request paths a column may give: each field, each fact, the whole ``chain``, and the request's
    ``id``."""
    return [*vocabulary.fields, *vocabulary.facts, *(["chain"] if vocabulary.hop else []), REQUEST_ID]


def check_columns(vocabulary: Vocabulary, columns: object) -> list[Diagnostic]:
    """What is wrong with a column mapping (nothing, if the list is empty)."""
    if not isinstance(columns, Mapping):
        found = json_type_name(columns)
        return [Diagnostic("wrong_type", f"a column mapping must be an object of column: request path, not {found}")]
    errors: list[Diagnostic] = []
    targets = mappable_paths(vocabulary)
    used: dict[str, str] = {}
    for column, target in columns.items():
        where = member_path("$", column)
        if not isinstance(column, str) or not column:
            errors.append(Diagnostic("wrong_type", f"a column name must be non-empty text, not {quote(column)}"))
            continue
        if not isinstance(target, str) or target not in targets:
            errors.append(
                Diagnostic(
                    "unknown_path",
                    f"column {quote(column)} names {quote(target)}, which is not a request path",
                    path=where,
                    help=did_you_mean_or_list(target, targets, "request paths"),
                )
            )
            continue
        if target in used:
            errors.append(
                Diagnostic(
                    "duplicate_path",
                    f"columns {quote(used[target])} and {quote(column)} both give `{target}`",
                    path=where,
                )
            )
            continue
        used[target] = column
    for name, slot in vocabulary.fields.items():
        if slot.required and name not in used:
            errors.append(
                Diagnostic(
                    "unmapped_field",
                    f"no column gives `{name}` ({slot.label}), which every request needs",
                    help=f"add a column mapped to `{name}`",
                )
            )
    return errors


class RecordChecker:
    """Checks flat records whose columns map to request paths. Build it with ``Rules.records(columns)``."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        buckets: Mapping[str, DateBuckets],
        columns: Mapping[str, str],
        *,
        check: Callable[[object], Decision],
        invalid: Callable[[list[Diagnostic]], Decision],
        cache_size: int,
        read: Iterable[str] | None = None,
        decide: Callable[[dict[str, Any]], Decision] | None = None,
        shared_set: Callable[[frozenset[Any]], frozenset[Any]] | None = None,
        rows: Callable[[Mapping[str, str], Callable[[object], dict[str, Any] | None], Fallback, Keep], Fallback | None]
        | None = None,
    ) -> None:
        errors = check_columns(vocabulary, columns)
        if errors:
            raise ColumnsError(errors)
        self.columns: dict[str, str] = dict(columns)
        # "facts.request.signed_by" is request["facts"]["request"]["signed_by"].
        self._parts = {column: tuple(target.split(".")) for column, target in self.columns.items()}
        # An error at the request path on the left is reported at the column on the right; longest first,
        # so that `$.facts.a.b` is not taken for `$.facts.a`.
        relocations = []
        for column, parts in self._parts.items():
            request_path = "$"
            for part in parts:
                request_path = member_path(request_path, part)
            relocations.append((request_path, member_path("$", column)))
        self._relocations = sorted(relocations, key=lambda pair: -len(pair[0]))
        self._key, self._batch = build_record_functions(vocabulary, buckets, self.columns, read)
        # A row of a new case whose values are plainly valid is read by column and decided at once; any
        # other goes the long way, as the request it stands for.
        self._read: Callable[[object], dict[str, Any] | None] | None = None
        self._decide = decide
        if decide is not None:
            self._read = build_record_reader(vocabulary, self.columns, shared_set or (lambda s: s))
        self._check = check
        self._invalid = invalid
        self._cache: dict[Any, Decision] = {}
        self._canonical: dict[Any, Any] = {}
        self._cache_size = cache_size
        self._id_column = next((c for c, target in self.columns.items() if target == REQUEST_ID), None)
        # Records seen in this window, how many met a cached case, and how many more skip the cache (see
        # build_record_functions), for one call at a time and batches alike. Two threads may miscount, which
        # changes only which records skip the cache, never a decision.
        self._bypass = [0, 0, 0]
        # A row of a new case is decided by one generated function where its columns allow (see
        # decisions.rows); the first row of each combination of the rules' states goes through ``_miss``.
        self._fresh: Fallback = self._miss_or_long_way
        # A row of a batch that is not hitting the cache: decided without its key, so not kept.
        self._alone: Callable[[object], Decision] = self._long_way
        decide_row = None
        if rows is not None and self._read is not None:
            decide_row = rows(self.columns, self._read, self._miss_or_long_way, self._keep if cache_size else None)
        if decide_row is not None:
            self._fresh = decide_row
            self._alone = decide_row  # type: ignore[assignment]  # its key is None by default: one call less

    def request(self, row: object) -> tuple[dict[str, Any], list[Diagnostic]]:
        """The nested request ``row`` stands for, and the problems that keep it from being one."""
        if not isinstance(row, dict):
            return {}, [
                Diagnostic("not_an_object", f"a record must be a JSON object, not {json_type_name(row)}", path="$")
            ]
        request: dict[str, Any] = {}
        errors: list[Diagnostic] = []
        for column, value in row.items():
            parts = self._parts.get(column) if isinstance(column, str) else None
            if parts is None:
                errors.append(
                    Diagnostic(
                        "unknown_column",
                        f"the column mapping has no column {quote(column)}",
                        path=member_path("$", column),
                        help=did_you_mean_or_list(column, self.columns, "mapped"),
                    )
                )
                continue
            node = request
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        return request, errors

    def check(self, row: object) -> Decision:
        """Decide one record. Never raises for a bad record: it is denied with status ``error``."""
        state = self._bypass
        if state[2]:  # records that have not been hitting the cache (see build_record_functions)
            state[2] -= 1
            return self._fresh(row, None)
        state[0] += 1
        if state[0] == BYPASS_WINDOW:
            state[:] = 0, 0, skipped_after(state[1])
        key = None
        try:
            key = self._key(row)
            cached = self._cache.get(key) if key is not None else None
        except Exception:  # whatever the quick key trips on (an unhashable key...), the long way reports
            key, cached = None, None
        if cached is None:
            return self._fresh(row, key)
        state[1] += 1
        # A cached decision is its case's; the row's id (valid, or the key would have refused it) is its own.
        return cached if self._id_column is None else cached.with_id(row.get(self._id_column))  # type: ignore[attr-defined]

    def check_many(self, rows: Iterable[object]) -> Iterator[Decision]:
        """Decide each record in turn, yielding decisions in order; memory does not grow with the input."""
        return self._batch(rows, self._cache.get, self._long_way, self._fresh, self._alone, self._bypass)

    def decide_frame(self, df: Any, *, missing: bool = False) -> Any:
        """A pandas DataFrame of records with ``decision``, ``status``, ``rule`` and ``reason`` columns added
        (and ``missing``, if asked); each distinct combination of the mapped columns decided once. Needs pandas
        (``pip install "disclosure-rules[dataframe]"``); see :mod:`disclosure_rules.integrations.frames`."""
        # Imported here: pandas is an optional extra, and the core never loads it unless a frame is decided.
        from .integrations.frames import decide_frame

        return decide_frame(self, df, missing=missing)

    def _long_way(self, row: object) -> Decision:
        request, errors = self.request(row)
        if errors:
            return self._invalid(errors)
        decision = self._check(request)
        if decision.status == "error":
            relocated = sorted(map(self._relocate, decision.errors), key=lambda d: (d.path or "", d.code, d.message))
            return self._invalid(relocated).with_id(decision.id)
        self._remember(row, decision)
        return decision

    def _miss(self, row: object, key: Any) -> Decision:
        """Decide a row whose key no cached case has: read by column if its values are plainly valid (then
        kept under ``key``, the row's record key), else the long way."""
        env = self._read(row) if self._read is not None else None
        if env is None:
            return self._long_way(row)
        assert self._decide is not None
        decision = self._decide(env)
        if decision.status == "error":  # the rules could not be evaluated: the long way says so, at its column
            return self._long_way(row)
        if self._cache_size:
            self._keep(key, decision)
        return decision if self._id_column is None else decision.with_id(row.get(self._id_column))  # type: ignore[attr-defined]

    def _miss_or_long_way(self, row: object, key: Any) -> Decision:
        return self._long_way(row) if key is None else self._miss(row, key)

    def _relocate(self, error: Diagnostic) -> Diagnostic:
        path = error.path
        if path is None:
            return error
        for request_path, column_path in self._relocations:
            if path == request_path or (path.startswith(request_path) and path[len(request_path)] in ".["):
                return attrs.evolve(error, path=column_path + path[len(request_path) :])
        return error

    def _remember(self, row: object, decision: Decision) -> None:
        if not self._cache_size or not isinstance(row, dict):
            return
        try:
            key = self._key(row)
            if key is None:
                return
            hash(key)
        except Exception:  # an unhashable value (a chain), say: such a row always goes the long way
            return
        self._keep(key, decision.with_id(None))  # the cache holds the case's decision; a row's id is its own

    def _keep(self, key: tuple[Any, ...], decision: Decision) -> None:
        """Remember a case's decision (without an id) under its record key."""
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
            self._canonical.clear()
        # One object per distinct value (a JSON parser gives each row its own strings), keeping the cache's
        # keys small and close together; every value of a key is hashable (it was looked up).
        self._cache[tuple(map(self._canonical.setdefault, key, key))] = decision


__all__ = ["ColumnsError", "RecordChecker", "check_columns", "mappable_paths"]
