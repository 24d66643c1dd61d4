"""The accounting ledger: every decision recorded, tamper-evident, and reportable per person.

26 U.S.C. § 6103(p)(3)(A) requires a permanent, standardized record of disclosures; the Privacy Act
(5 U.S.C. § 552a(c)) an accounting of each disclosure (date, nature, purpose, recipient), kept five years and
available to the individual. A ledger records each decision in a SHA-256 hash chain, in SQLite or PostgreSQL:

>>> from disclosure_rules.ledger import open_ledger
>>> with open_ledger("ledger.db") as ledger:
...     decision = ledger.check(rules, request, subject="person-123")  # recorded before it is returned
...     verify(ledger).intact

See ``docs/ledger.md``.
"""

from .canonical import DecisionDoc, RequestDoc, canonical_json, decision_doc, request_doc
from .ledger import BATCH, Entry, Envelope, Ledger, open_ledger
from .lines import LineRecorder
from .report import Count, Disclosure, accounting, counts, format_accounting, format_counts
from .store import LedgerError, LedgerFormatError, latest_schema_version
from .verify import Problem, Verification, verify

__all__ = [
    "BATCH",
    "Count",
    "DecisionDoc",
    "Disclosure",
    "Entry",
    "Envelope",
    "Ledger",
    "LedgerError",
    "LedgerFormatError",
    "LineRecorder",
    "Problem",
    "RequestDoc",
    "Verification",
    "accounting",
    "canonical_json",
    "counts",
    "decision_doc",
    "format_accounting",
    "format_counts",
    "latest_schema_version",
    "open_ledger",
    "request_doc",
    "verify",
]
