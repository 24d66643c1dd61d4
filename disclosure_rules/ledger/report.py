"""Reports from a ledger: the accounting of disclosures for one individual, and counts for oversight.

The accounting answers 5 U.S.C. § 552a(c)(1) — the date, nature and purpose of each disclosure and the name
of the agency it went to — with the legal basis the rules found; the counts answer the questions of
§ 6103(p)(3)(C) reports and of courts and inspectors general (how many, to whom, under which route).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import attrs

from .ledger import Ledger

GroupBy = Literal["route", "recipient", "holder"]
GROUPS: dict[str, str] = {"route": "d.rule", "recipient": "q.recipient", "holder": "q.holder"}
_JOIN = "FROM records r JOIN requests q ON q.sha = r.request_sha JOIN decisions d ON d.sha = r.decision_sha"


@attrs.frozen
class Disclosure:
    """One recorded decision about a subject's data: a line of the accounting."""

    seq: int
    decision_id: str
    recorded_at: str
    disclosed_on: str | None
    element: str | None
    holder: str | None
    recipient: str | None
    purpose: str | None
    decision: str
    status: str
    rule: str | None
    citations: str
    request_id: str | None


@attrs.frozen
class Count:
    """How many recorded decisions share one value of the grouping (a route, a recipient, a holder)."""

    key: str | None
    permitted: int
    denied: int

    @property
    def total(self) -> int:
        return self.permitted + self.denied


def accounting(ledger: Ledger, subject: str, *, include_denials: bool = False) -> Iterator[Disclosure]:
    """The decisions recorded about ``subject``, oldest first; permits only unless ``include_denials``."""
    where = "r.subject = ?" + ("" if include_denials else " AND d.decision = 'permit'")
    sql = (
        "SELECT r.seq, r.decision_id, r.recorded_at, q.disclosed_on, q.element, q.holder, q.recipient, q.purpose, "
        f"d.decision, d.status, d.rule, d.citations, r.request_id {_JOIN} WHERE {where} ORDER BY r.seq"
    )
    for row in ledger.store.query(sql, (subject,)):
        yield Disclosure(*row)


def counts(ledger: Ledger, by: GroupBy, *, since: str | None = None, until: str | None = None) -> list[Count]:
    """Recorded decisions counted by ``by``, for disclosure dates (the requests' ``date``) from ``since`` to
    ``until`` inclusive (``YYYY-MM-DD``; either may be left open)."""
    column = GROUPS[by]
    conditions, params = [], []
    if since is not None:
        conditions.append("q.disclosed_on >= ?")
        params.append(since)
    if until is not None:
        conditions.append("q.disclosed_on <= ?")
        params.append(until)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    sql = (
        f"SELECT {column}, SUM(CASE WHEN d.decision = 'permit' THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN d.decision = 'permit' THEN 0 ELSE 1 END) {_JOIN} {where} GROUP BY {column} ORDER BY {column}"
    )
    return [Count(key, int(p), int(d)) for key, p, d in ledger.store.query(sql, params)]


DISCLOSURE_FIELDS = tuple(f.name for f in attrs.fields(Disclosure))
COUNT_FIELDS = ("key", "permitted", "denied", "total")


def _count_dict(count: Count, by: str) -> dict[str, Any]:
    return {by: count.key, "permitted": count.permitted, "denied": count.denied, "total": count.total}


def format_accounting(rows: Sequence[Disclosure], subject: str, fmt: str) -> str:
    """The accounting as ``text`` (for the individual or a clerk), ``json`` or ``csv``."""
    if fmt == "json":
        return (
            json.dumps({"subject": subject, "disclosures": [attrs.asdict(r) for r in rows]}, ensure_ascii=False) + "\n"
        )
    if fmt == "csv":
        return _csv(DISCLOSURE_FIELDS, [attrs.astuple(r) for r in rows])
    lines = [f"Accounting of disclosures for {subject}: {len(rows)} recorded"]
    for r in rows:
        lines.append(
            f"- {r.disclosed_on or '?'}: {r.element or '?'} held by {r.holder or '?'} to {r.recipient or '?'} "
            f"for {r.purpose or '?'}; {r.decision} ({r.status}) under {r.rule or '-'}"
            f"{f' ({r.citations})' if r.citations else ''}; recorded {r.recorded_at}, decision {r.decision_id}"
            f"{f', request {r.request_id}' if r.request_id else ''}"
        )
    return "\n".join(lines) + "\n"


def format_counts(rows: Sequence[Count], by: str, fmt: str) -> str:
    """Counts as ``text`` (an aligned table), ``json`` or ``csv``."""
    if fmt == "json":
        return json.dumps({"by": by, "counts": [_count_dict(c, by) for c in rows]}, ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv((by, *COUNT_FIELDS[1:]), [(c.key, c.permitted, c.denied, c.total) for c in rows])
    width = max([len(by), *(len(c.key or "-") for c in rows)])
    lines = [f"{by:<{width}}  {'permitted':>10}  {'denied':>10}  {'total':>10}"]
    for c in rows:
        lines.append(f"{c.key or '-':<{width}}  {c.permitted:>10}  {c.denied:>10}  {c.total:>10}")
    total = Count("total", sum(c.permitted for c in rows), sum(c.denied for c in rows))
    lines.append(f"{'total':<{width}}  {total.permitted:>10}  {total.denied:>10}  {total.total:>10}")
    return "\n".join(lines) + "\n"


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
