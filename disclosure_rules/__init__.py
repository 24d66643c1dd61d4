"""disclosure-rules: data-sharing law as code.

May this data element, held by this agency, derived from this origin, be
disclosed to this recipient for this purpose on this date, given these facts?
And why, under which rule?

    >>> import disclosure_rules
    >>> rules = disclosure_rules.load()
    >>> decision = rules.check(request)
    >>> decision.decision, decision.status, decision.reason
"""

from .checker import Rules, bundled_rules_path, load
from .decisions.decision import Decision
from .diagnostics import Diagnostic, DisclosureRulesError, LoadError
from .records import ColumnsError, RecordChecker
from .version import __version__

__all__ = [
    "ColumnsError",
    "Decision",
    "Diagnostic",
    "DisclosureRulesError",
    "LoadError",
    "RecordChecker",
    "Rules",
    "__version__",
    "bundled_rules_path",
    "load",
]
