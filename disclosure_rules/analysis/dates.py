"""The law by date: for each day on which a rule comes into force or leaves it, what that day changed.

Each such day is compared with the day before it by :func:`~.diff.diff_dates`, so a reader sees what each
court order did, region by region, each with a witness request the evaluator decided again on both days. A
diff that does not finish within its budget is reported as such, never as "nothing changed".
"""

from __future__ import annotations

import datetime

import attrs

from ..checker import Rules
from ..rulebook.model import Rulebook
from .diff import diff_dates
from .report import Region
from .search import Budget

DATE_LIMIT = 50_000
"""Partial requests each day's diff may visit (the D.D.C. order's day takes about 7,000)."""


@attrs.frozen
class DateChange:
    """What one day changed."""

    day: datetime.date
    entering: tuple[str, ...]
    """The rules in force from this day on."""
    leaving: tuple[str, ...]
    """The rules in force the day before and not this day."""
    regions: tuple[Region, ...] | None
    """Every region of requests whose outcome moves; None when the diff did not finish."""
    unfinished: str | None = None
    """Why the regions are not listed, when they are not."""


def change_days(book: Rulebook) -> list[datetime.date]:
    """The days on which some rule comes into force or leaves it, in order."""
    days: set[datetime.date] = set()
    for rule in book.rules.values():
        if rule.effective.start is not None:
            days.add(rule.effective.start)
        if rule.effective.end is not None:
            days.add(rule.effective.end + datetime.timedelta(days=1))
    return sorted(days)


def law_by_date(rules: Rules, *, limit: int = DATE_LIMIT) -> list[DateChange]:
    """What each day on which the rules change did, compared with the day before."""
    out: list[DateChange] = []
    for day in change_days(rules.book):
        before = day - datetime.timedelta(days=1)
        covers = {
            rid: (rule.effective.covers(before), rule.effective.covers(day)) for rid, rule in rules.book.rules.items()
        }
        entering = tuple(rid for rid, (was, now) in covers.items() if now and not was)
        leaving = tuple(rid for rid, (was, now) in covers.items() if was and not now)
        try:
            regions: tuple[Region, ...] | None = tuple(diff_dates(rules, before, day, limit=limit))
            unfinished = None
        except Budget as exceeded:
            regions, unfinished = None, str(exceeded)
        out.append(DateChange(day, entering, leaving, regions, unfinished))
    return out


__all__ = ["DATE_LIMIT", "DateChange", "change_days", "law_by_date"]
