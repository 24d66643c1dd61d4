"""Dask data frames of flat records, decided partition by partition on a Dask cluster.

    >>> from disclosure_rules.integrations.dask import decide
    >>> decided = decide(ddf, rules, columns)         # lazy: a Dask DataFrame with the decision columns
    >>> decided.to_parquet("decided/")                # or .compute(), .persist(), ...

Each partition is decided with :func:`~disclosure_rules.integrations.frames.decide_frame` (each distinct
combination of the mapped columns once). The rules travel to the workers pickled by content (see
``Rules.__reduce__``), are checked against their content hash there, and are loaded once per worker process,
however many partitions it decides; each worker keeps one record checker, and so one case cache, per mapping.

Needs Dask: ``pip install "disclosure-rules[dask]"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..checker import Rules
from ..records import RecordChecker
from .frames import DECISION_COLUMNS, decide_frame

_CHECKERS: dict[tuple[str, int, tuple[tuple[str, str], ...]], RecordChecker] = {}
"""In a worker process: one record checker per rules and column mapping, kept across partitions."""


def _checker(rules: Rules, columns: tuple[tuple[str, str], ...]) -> RecordChecker:
    key = (rules.info.hash, id(rules), columns)
    checker = _CHECKERS.get(key)
    if checker is None:
        checker = _CHECKERS[key] = rules.records(dict(columns))
    return checker


def decide_partition(df: Any, rules: Rules, columns: tuple[tuple[str, str], ...], missing: bool) -> Any:
    """One partition: what :func:`decide` maps over the frame. The columns it adds are of pandas' ``string``
    type, not ``object``: Dask describes an object column by a placeholder that ``to_parquet`` cannot type."""
    decided = decide_frame(_checker(rules, columns), df, missing=missing)
    added = [*DECISION_COLUMNS, *(["missing"] if missing else [])]
    return decided.astype(dict.fromkeys(added, "string"))


def decide(ddf: Any, rules: Rules, columns: Mapping[str, str], *, missing: bool = False) -> Any:
    """``ddf`` with ``decision``, ``status``, ``rule`` and ``reason`` columns (and ``missing``, if asked), lazily,
    of pandas' ``string`` type (a rule that is absent is ``<NA>``), so that ``to_parquet`` writes them as text.

    Raises :class:`~disclosure_rules.records.ColumnsError` at once if the mapping is bad or a mapped column is
    not in ``ddf``; ``rules`` must be loaded by :func:`disclosure_rules.load` (so that it can be pickled).
    """
    pairs = tuple(columns.items())
    # The empty frame Dask describes the partitions with, decided here: the mapping and the frame's columns
    # are checked now, not on a worker in the middle of the run.
    meta = decide_partition(ddf._meta, rules, pairs, missing)
    return ddf.map_partitions(decide_partition, rules, pairs, missing, meta=meta)


__all__ = ["decide", "decide_partition"]
