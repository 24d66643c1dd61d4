"""The decision as text for a person at a terminal."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Protocol

from ..decisions.decision import Decision

WIDTH = 100

_GLUE = "\u00a0"
"""A no-break space: textwrap breaks only at its own white space (not this one), so a word joined to the next
by it stays on the same line. Put back as a plain space once the text is wrapped."""
_BOUND = re.compile(r"(§§?|\b\d+ U\.S\.C\.|\b\d+ C\.F\.R\.|U\.S\.C\.|C\.F\.R\.) ")
"""A citation's sign or title and the number after it: "§ 6103(i)(2)" read as "§" at the end of one line and
"6103(i)(2)" at the start of the next is two half-citations."""


class _Wrap(Protocol):
    def __call__(self, text: str, indent: str = "  ", first: str | None = None) -> list[str]: ...


def _wrapper(width: int | None) -> _Wrap:
    """Wrap to ``width`` columns, or not at all (None: output that is not a terminal, read by a program or
    a pager that wraps it itself)."""

    def wrap(text: str, indent: str = "  ", first: str | None = None) -> list[str]:
        first = first if first is not None else indent
        if width is None:
            return [first + text] if text else [indent.rstrip()]
        glued = _BOUND.sub(lambda m: m.group(1).replace(" ", _GLUE) + _GLUE, text)
        lines = textwrap.wrap(glued, width, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False) or [
            indent.rstrip()
        ]
        return [line.replace(_GLUE, " ") for line in lines]

    return wrap


def render_text(decision: Decision, *, trace: bool = False, width: int | None = WIDTH) -> str:
    """The decision for a person; lines wrapped to ``width`` columns (None: one line per item)."""
    _wrap = _wrapper(width)
    lines = [f"{decision.decision.upper()} ({decision.status.replace('_', ' ')})"]
    if decision.id is not None:
        # Unwrapped: an id is matched against the caller's own, character for character.
        lines.append("Request id: " + json.dumps(decision.id, ensure_ascii=False))
    if decision.rule:
        cite = decision.citations[0] if decision.citations else ""
        lines += _wrap(f"{decision.rule} — {cite}", first="Rule: ", indent="  ")
    lines += _wrap(decision.reason, first="Reason: ", indent="  ")
    if len(decision.chain) > 1:
        lines.append("Exception path:")
        for depth, link in enumerate(decision.chain):
            verb = "permits" if link.kind == "permit" else "forbids"
            lines += _wrap(
                f"{link.citation} {verb}: {link.title}", first="  " * (depth + 1) + "- ", indent="  " * (depth + 2)
            )
    if decision.conflicts:
        lines += _wrap(
            "also permitted by " + ", ".join(decision.conflicts) + ", but a forbidding rule prevails",
            first="Conflict: ",
        )
    if decision.obligations:
        lines.append("Obligations:")
        for ob in decision.obligations:
            lines += _wrap(f"{ob.text} ({ob.citation})", first="  - ", indent="    ")
    if decision.unknown_facts:
        lines.append("Unknown facts that would settle it: " + ", ".join(decision.unknown_facts))
    if decision.missing:
        lines.append("What is missing:")
        for m in decision.missing:
            lines += _wrap(f"{m.citation} ({m.title}):", first="  - ", indent="    ")
            for f in m.failed:
                lines += _wrap(f.text, first="      * ", indent="        ")
    if decision.provenance:
        lines.append("How the holder received it:")
        for hop in decision.provenance:
            verdict = f"{hop.decision} ({hop.status.replace('_', ' ')})" + (f" by {hop.rule}" if hop.rule else "")
            lines += _wrap(
                f"{hop.holder} → {hop.recipient} on {hop.date}, named {hop.route}: {verdict}. {hop.reason}",
                first="  - ",
                indent="    ",
            )
    for error in decision.errors:
        lines += _wrap(str(error), first="Error: ", indent="  ")
    if trace and decision.trace:
        lines.append("Trace:")
        for t in decision.trace:
            lines += _wrap(f"{t.rule} [{t.kind}] {t.result.replace('_', ' ')}: {t.detail}", first="  - ", indent="    ")
    if decision.ruleset:
        lines.append(f"Rules: {', '.join(decision.ruleset.names)} ({decision.ruleset.hash[:19]}…)")
    return "\n".join(lines) + "\n"
