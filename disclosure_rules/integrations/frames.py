"""pandas data frames of flat records: ``decide_frame(checker, df)``, or ``Rules.records(columns).decide_frame(df)``.

Each distinct combination of the mapped columns is decided once and the decisions joined back to every row, so a
frame of a million rows that holds a few thousand distinct requests costs a few thousand decisions. A missing
value (``None``, ``NaN``, ``NaT``, ``pd.NA``) leaves its path out of the request, as a missing column does.

Needs pandas: ``pip install "disclosure-rules[dataframe]"``.
"""

from __future__ import annotations

import datetime
import math
from typing import TYPE_CHECKING, Any

from ..decisions.decision import Decision
from ..diagnostics import Diagnostic
from ..records import ColumnsError, RecordChecker

if TYPE_CHECKING:
    import pandas as pd

DECISION_COLUMNS = ("decision", "status", "rule", "reason")
"""The columns added to a frame, in this order (and ``missing`` after them, on request)."""


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError('deciding data frames needs pandas: pip install "disclosure-rules[dataframe]"') from None
    return pandas


def _absent(value: object) -> bool:
    # pd.NA and NaT compare strangely; a float NaN is not equal to itself. Each of them is "no value".
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")


def _plain(value: object) -> object:
    """The JSON value a cell stands for: numpy scalars as Python ones, a day (a ``date``, or a ``datetime`` at
    midnight such as a ``Timestamp``) as its ISO date, an array or tuple as a list; anything else as it is (and
    the checker says if it is the wrong type for its path)."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, datetime.datetime):
        midnight = value.time() == datetime.time(0) and value.tzinfo is None
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, tuple) or (type(value).__module__ == "numpy" and hasattr(value, "tolist")):
        return [_plain(v) for v in (value if isinstance(value, tuple) else value.tolist())]  # type: ignore[attr-defined]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _hashable(value: object) -> object:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def missing_text(decision: Decision) -> str:
    """What would have to be shown for each rule that did not permit: one line per rule."""
    return "\n".join(f"{m.rule} ({m.citation}): " + "; ".join(f.text for f in m.failed) for m in decision.missing)


def decide_frame(checker: RecordChecker, df: pd.DataFrame, *, missing: bool = False) -> pd.DataFrame:
    """``df`` with ``decision``, ``status``, ``rule`` and ``reason`` columns (and ``missing``, if asked), its
    index and row order kept. Columns the mapping does not name are carried along, not decided.

    Raises :class:`~disclosure_rules.records.ColumnsError` if a mapped column is not in ``df``, or if ``df``
    already has a column of the name of one to be added.
    """
    pd = _pandas()
    added = [*DECISION_COLUMNS, *(["missing"] if missing else [])]
    problems = [
        Diagnostic("missing_column", f"the frame has no column `{column}`, which the column mapping names")
        for column in checker.columns
        if column not in df.columns
    ]
    problems += [
        Diagnostic("duplicate_path", f"the frame already has a column `{column}`, which deciding adds")
        for column in added
        if column in df.columns
    ]
    if problems:
        raise ColumnsError(problems)
    names = list(checker.columns)
    cells = []
    for name in names:
        column = df[name]
        absent = column.isna().tolist() if column.dtype != object else [_absent(v) for v in column.tolist()]
        cells.append(
            [
                None if gone else (v if v.__class__ is str else _plain(v))
                for v, gone in zip(column.tolist(), absent, strict=True)
            ]
        )
    # Number each row by its distinct combination of values, in order of first appearance.
    first: dict[object, int] = {}
    codes: list[int] = []
    uniques: list[dict[str, object]] = []
    for values in zip(*cells, strict=True) if cells else ((),) * len(df):
        try:
            key: object = values
            code = first.get(key)
        except TypeError:  # a list (a set of values, a chain): compared as tuples
            key = _hashable(list(values))
            code = first.get(key)
        if code is None:
            code = first[key] = len(uniques)
            uniques.append({name: value for name, value in zip(names, values, strict=True) if value is not None})
        codes.append(code)
    decisions = list(checker.check_many(uniques))
    columns: dict[str, list[object]] = {
        "decision": [d.decision for d in decisions],
        "status": [d.status for d in decisions],
        "rule": [d.rule for d in decisions],
        "reason": [_reason(d) for d in decisions],
    }
    if missing:
        columns["missing"] = [missing_text(d) for d in decisions]
    result = df.copy(deep=False)
    for name, per_unique in columns.items():
        result[name] = pd.Series([per_unique[c] for c in codes], index=df.index, dtype=object)
    return result


def _reason(decision: Decision) -> str:
    if decision.status != "error":
        return decision.reason
    # An error's reason alone does not say which column was wrong: add each error, its column in its path.
    return decision.reason + "".join(f"\n{e}" for e in decision.errors)


__all__ = ["DECISION_COLUMNS", "decide_frame", "missing_text"]
