"""Findings and regions as frozen values, and how they read: plain English and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..rulebook.model import Rulebook
from .oracle import Outcome


@attrs.frozen
class Finding:
    """One thing a check found, with a witness request the evaluator was asked about again."""

    check: str
    """``reach``, ``conflict``, ``vacuous``, ``unknowns`` or ``errors``."""
    kind: str
    """What exactly, e.g. ``unreachable``, ``always_false``, ``permit_forbid``, ``empty_set``."""
    rules: tuple[str, ...]
    message: str
    witness: Mapping[str, Any] | None
    decided: str
    """The witness as the evaluator decides it, in a few words."""
    confirmed: bool
    """Whether deciding the witness again showed what the finding says."""
    path: str | None = None
    part: str | None = None
    """The condition part concerned, as written."""
    intended: str | None = None
    """Why the rules say it is intended, when they declare it."""

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=False) | {"witness": dict(self.witness) if self.witness else None}


@attrs.frozen
class Region:
    """Requests whose outcome moves the same way between two rule sets (or two dates)."""

    before: Outcome
    after: Outcome
    description: str
    fields: Mapping[str, tuple[str, ...]]
    """For each field the region limits, the values it covers."""
    facts: Mapping[str, Any]
    """Facts that have one value throughout the region (None: left out)."""
    witness: Mapping[str, Any]
    cells: int
    """How many leaves of the search the region merges."""
    confirmed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "before": outcome_json(self.before),
            "after": outcome_json(self.after),
            "description": self.description,
            "fields": {k: list(v) for k, v in self.fields.items()},
            "facts": dict(self.facts),
            "witness": dict(self.witness),
            "cells": self.cells,
            "confirmed": self.confirmed,
        }


def value_text(value: Any) -> str:
    """A fact's value as a region's description gives it: true/false as in JSON, anything else as itself."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def where_text(fields: Mapping[str, Sequence[str]], facts: Mapping[str, Any]) -> str:
    """Which requests a region holds: the values of the fields it limits, and the facts fixed throughout."""
    where = "; ".join(f"{path}: {' or '.join(values)}" for path, values in fields.items()) or "any request"
    if facts:
        where += "; with " + ", ".join(
            f"{p} {'left out' if v is None else '= ' + value_text(v)}" for p, v in facts.items()
        )
    return where


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    decision, status, rule, obligations = outcome
    return {"decision": decision, "status": status, "rule": rule, "obligations": list(obligations)}


def short_citation(book: Rulebook, rid: str | None) -> str:
    """A rule as a reader names it: "§ 6103(i)(2)" or "Center for Taxpayer Rights v. IRS"."""
    if rid is None:
        return "no rule"
    rule = book.rules.get(rid)
    if rule is None:
        return rid
    citation = rule.citation.split(", No.")[0].split(" (")[0]
    return citation.replace("26 U.S.C. ", "")


def describe_outcome(book: Rulebook, outcome: Outcome) -> str:
    decision, status, rule, obligations = outcome
    if decision == "permit":
        text = f"permit under {short_citation(book, rule)} ({rule})"
        return text + (f" with {', '.join(obligations)}" if obligations else "")
    if status == "prohibited":
        return f"deny by {short_citation(book, rule)} ({rule})"
    if status == "indeterminate":
        return "deny, indeterminate (it turns on facts the request leaves out)"
    if status == "error":
        return "deny, error"
    return "deny, no rule authorizes it"


# -- text -----------------------------------------------------------------------------------


def findings_text(findings: Sequence[Finding], checks: Iterable[str]) -> str:
    lines: list[str] = []
    undeclared = [f for f in findings if f.intended is None]
    declared = [f for f in findings if f.intended is not None]
    for finding in undeclared:
        lines += _finding_lines(finding)
    if declared:
        lines.append(f"Declared as intended by the rules ({len(declared)}):")
        for finding in declared:
            lines.append(f"  - [{finding.check}] {', '.join(finding.rules)}: {finding.intended}")
        lines.append("")
    checked = ", ".join(checks)
    lines.append(
        f"{len(undeclared)} finding{'s' if len(undeclared) != 1 else ''} not declared as intended "
        f"({len(declared)} declared); checks run: {checked}."
    )
    return "\n".join(lines) + "\n"


def _finding_lines(finding: Finding) -> list[str]:
    lines = [f"[{finding.check}: {finding.kind}] {finding.message}"]
    lines.append(f"  rules: {', '.join(finding.rules)}")
    if finding.part:
        lines.append(f"  condition part: {finding.part}")
    if finding.witness is not None:
        lines.append(f"  witness: {json.dumps(finding.witness, ensure_ascii=False, sort_keys=True)}")
        check = "confirmed" if finding.confirmed else "NOT CONFIRMED (a bug in the analysis: please report it)"
        lines.append(f"  decided again: {finding.decided} [{check}]")
    lines.append("")
    return lines


def regions_text(book: Rulebook, regions: Sequence[Region], header: str) -> str:
    lines = [header, ""]
    if not regions:
        lines.append("No decision, controlling rule or obligation changes.")
    for i, region in enumerate(regions, start=1):
        lines.append(f"{i}. {region.description}")
        lines.append(f"   before: {describe_outcome(book, region.before)}")
        lines.append(f"   after:  {describe_outcome(book, region.after)}")
        lines.append(f"   witness: {json.dumps(region.witness, ensure_ascii=False, sort_keys=True)}")
        if not region.confirmed:
            lines.append("   (the witness did NOT decide as stated: a bug in the analysis, please report it)")
        lines.append("")
    lines.append(f"{len(regions)} region{'s' if len(regions) != 1 else ''} of requests change.")
    return "\n".join(lines) + "\n"
