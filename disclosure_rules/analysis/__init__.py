"""Analysis of a rule set over every request: checks, queries and diffs, each answer with witness requests.

The vocabulary is finite (enumerations, booleans, sets of values, and dates that matter only between the
rules' boundary dates), so questions about *all* requests can be answered completely by a search over
that domain with three-valued partial evaluation: the evaluator itself (:func:`~disclosure_rules.engine.evaluator.
decide`) is run on partial requests, and Kleene's monotonicity means an answer it gives while some facts are
still unassigned holds for every way of assigning them. The search splits only on facts that a rule still
undecided reads, and only into the classes of values those rules can tell apart. See ``docs/analysis.md``.

Modules: :mod:`.domain` (what a request may be, in classes of values), :mod:`.search` (the search),
:mod:`.oracle` (the evaluator as a black box), :mod:`.witness` (complete requests, re-decided),
:mod:`.checks` (the checks of ``analyze``), :mod:`.query` (``analyze --can``), :mod:`.diff` (``diff``),
:mod:`.outcomes` (which outcomes a partial request may still come to, for ``diff``),
:mod:`.report` (findings and regions in words and JSON).
"""

from __future__ import annotations

from .checks import CHECKS, analyze
from .diff import diff_dates, diff_rules
from .query import query
from .report import Finding, Region

__all__ = ["CHECKS", "Finding", "Region", "analyze", "diff_dates", "diff_rules", "query"]
