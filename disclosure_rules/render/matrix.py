"""The overview matrix: data element × origin × recipient, decided by the engine on a given date.

Each cell is the decision for a request that states the holder, purpose, element, one origin
and the recipient, and **no facts**. With the facts unknown the engine says which routes could
still permit the disclosure (``indeterminate``), which rule forbids it whatever the facts
(``prohibited``), whether a route permits it on those fields alone (``permitted``), or that
nothing could authorize it (``no_authority``). Rows whose cells agree are merged, so a table
stays readable: origins that decide alike share a row, and so do elements that decide alike.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Sequence

import attrs

from ..checker import Rules
from ..decisions.decision import Decision
from ..rulebook.vocabulary import Vocabulary
from .markdown import code, escape, relative, short_citation, table

# Request fields the matrix fills in; the vocabulary must declare them with these types.
MATRIX_FIELDS = {"element": "enum", "holder": "enum", "origin": "set", "recipient": "enum", "purpose": "enum"}


@attrs.frozen
class MatrixSpec:
    """Which tables to draw: one per holder and purpose, with these recipients as columns.

    Values the vocabulary does not declare are skipped, so a spec outlives changes to the law files;
    ``elements`` and ``origins`` default to every declared value.
    """

    holders: tuple[str, ...] = ("IRS", "SSA")
    purposes: tuple[str, ...] = ("nontax_criminal_investigation", "civil_immigration_enforcement")
    recipients: tuple[str, ...] = ("ICE", "DHS", "FBI", "DOJ", "state_law_enforcement")
    elements: tuple[str, ...] | None = None
    origins: tuple[str, ...] | None = None


@attrs.frozen
class Cell:
    status: str
    rule: str | None
    routes: tuple[str, ...] = ()
    unknown_facts: tuple[str, ...] = ()


@attrs.frozen
class Row:
    elements: tuple[str, ...]
    origins: tuple[str, ...]
    cells: tuple[Cell, ...]


@attrs.frozen
class Table:
    holder: str
    purpose: str
    recipients: tuple[str, ...]
    rows: tuple[Row, ...]


UNDATED = datetime.date(2000, 1, 1)
"""The date a matrix is decided on when no rule changes with the date: any date decides alike."""


@attrs.frozen
class AsOf:
    """The date the matrix is decided on, and what chose it: the caller, or the rules themselves.

    By default it is the last date on which what the rules decide may change (``changes``): from it on they
    decide alike until the rule files change, so the same rules always draw the same matrix, whatever the day
    of the build.
    """

    day: datetime.date
    changes: tuple[datetime.date, ...]
    given: bool = False

    @classmethod
    def of(cls, rules: Rules, day: datetime.date | None = None) -> AsOf:
        changes = deciding_dates(rules)
        if day is not None:
            return cls(day, changes, given=True)
        return cls(changes[-1] if changes else UNDATED, changes)


def deciding_dates(rules: Rules) -> tuple[datetime.date, ...]:
    """The dates on which what the rules decide may change, in order: the first day each rule is in force and the
    day after its last, and each date a condition compares the request's ``date`` with, and the day after it
    (``date > D`` turns on the day after D)."""
    found: set[datetime.date] = set()
    for rule in rules.book.rules.values():
        if rule.effective.start is not None:
            found.add(rule.effective.start)
        if rule.effective.end is not None:
            found.add(_day_after(rule.effective.end))
    for literal in rules.compiled.reads.date_literals.get("date", ()):
        found.update((literal, _day_after(literal)))
    return tuple(sorted(found))


def _day_after(day: datetime.date) -> datetime.date:
    return day if day == datetime.date.max else day + datetime.timedelta(days=1)


def cell_of(decision: Decision) -> Cell:
    """The part of a decision a cell shows; the permitting routes still open when facts are missing."""
    if decision.status != "indeterminate":
        return Cell(decision.status, decision.rule)
    routes = tuple(
        t.rule
        for t in decision.trace
        if t.kind == "permit" and t.result in ("applies", "unknown") and t.citation in decision.citations
    )
    return Cell(
        decision.status, decision.rule, routes or ((decision.rule,) if decision.rule else ()), decision.unknown_facts
    )


def _declared(vocabulary: Vocabulary, field: str, wanted: Sequence[str] | None) -> tuple[str, ...]:
    slot = vocabulary.fields.get(field)
    enum = vocabulary.enums.get(slot.type.enum or "") if slot else None
    if enum is None:
        return ()
    if wanted is None:
        return tuple(enum.values)
    return tuple(v for v in wanted if v in enum.values)


def supported(vocabulary: Vocabulary) -> bool:
    """Whether the vocabulary has the fields the matrix asks about."""
    for field, kind in MATRIX_FIELDS.items():
        slot = vocabulary.fields.get(field)
        if slot is None or slot.type.kind != kind:
            return False
    return True


def compute(rules: Rules, spec: MatrixSpec, day: datetime.date) -> list[Table]:
    """Decide every cell with the engine; merge rows that decide alike."""
    vocabulary = rules.vocabulary
    if not supported(vocabulary):
        return []
    elements = _declared(vocabulary, "element", spec.elements)
    origins = _declared(vocabulary, "origin", spec.origins)
    recipients = _declared(vocabulary, "recipient", spec.recipients)
    tables = []
    for holder in _declared(vocabulary, "holder", spec.holders):
        for purpose in _declared(vocabulary, "purpose", spec.purposes):
            by_element: dict[str, list[tuple[tuple[str, ...], tuple[Cell, ...]]]] = {}
            for element in elements:
                groups: dict[tuple[Cell, ...], list[str]] = {}
                for origin in origins:
                    cells = tuple(
                        cell_of(
                            rules.check(
                                {
                                    "date": day.isoformat(),
                                    "element": element,
                                    "holder": holder,
                                    "origin": [origin],
                                    "recipient": recipient,
                                    "purpose": purpose,
                                }
                            )
                        )
                        for recipient in recipients
                    )
                    groups.setdefault(cells, []).append(origin)
                by_element[element] = [(tuple(o), cells) for cells, o in groups.items()]
            merged: dict[tuple[tuple[tuple[str, ...], tuple[Cell, ...]], ...], list[str]] = {}
            for element, shape in by_element.items():
                merged.setdefault(tuple(shape), []).append(element)
            rows = [
                Row(tuple(members), origin_group, cells)
                for shape, members in merged.items()
                for origin_group, cells in shape
            ]
            tables.append(Table(holder, purpose, recipients, tuple(rows)))
    return tables


class MatrixPage:
    def __init__(self, rules: Rules, rule_page: dict[str, str]) -> None:
        self.rules = rules
        self.vocabulary = rules.vocabulary
        self.rule_page = rule_page

    def label(self, field: str, value: str) -> str:
        slot = self.vocabulary.fields[field]
        return self.vocabulary.label_of_value(slot.type.element(), value)

    def named(self, field: str, value: str) -> str:
        """A value's label, with its code when the code says something else ("the Department of Justice (DOJ)")."""
        label = self.label(field, value)
        if label.lower().removeprefix("the ") == value.lower():
            return escape(label)
        return f"{escape(label)} ({escape(value)})"

    def heading(self, field: str, value: str) -> str:
        """A column heading: the label, and the code a request writes in a code span that never breaks (a narrow
        column would otherwise split ``state_law_enforcement`` at an underscore); the label's words wrap instead."""
        label = self.label(field, value)
        if label.lower().removeprefix("the ") == value.lower():
            return escape(label)
        return f'{escape(label)} (<code class="identifier">{html.escape(value)}</code>)'

    def rule_link(self, rid: str) -> str:
        rule = self.rules.book.rules[rid]
        # A non-breaking space keeps "§ 6103(a)" whole in a narrow cell.
        text = escape(short_citation(rule.citation)).replace("§ ", "§\u00a0")
        return f"[{text}]({relative('matrix.md', self.rule_page[rid])})"

    def cell(self, cell: Cell) -> str:
        if cell.status == "permitted" and cell.rule:
            return f"**permitted** under {self.rule_link(cell.rule)}"
        if cell.status == "prohibited" and cell.rule:
            return f"**denied** by {self.rule_link(cell.rule)}"
        if cell.status == "indeterminate":
            routes = " or ".join(self.rule_link(r) for r in cell.routes)
            return f"*possible* under {routes} if the facts are shown"
        if cell.status == "no_authority":
            return "no authority"
        return escape(cell.status)

    def origins(self, origins: tuple[str, ...], all_origins: tuple[str, ...]) -> str:
        """An origin set in words: "any", a named group, "any but" a group, or the labels."""
        chosen = set(origins)
        if chosen == set(all_origins):
            return "any"
        for group in self.vocabulary.groups.values():
            values = set(group.values) & set(all_origins)
            if group.type.enum != self.vocabulary.fields["origin"].type.enum or not values:
                continue
            # The group by its label, linked to its entry on the vocabulary page: a code in a cell this narrow
            # would break at its underscores.
            named = f"[{escape(group.label)}]({group_link(group.name)})"
            if chosen == values:
                return named
            if chosen == set(all_origins) - values:
                return f"any but {named}"
        rest = [o for o in all_origins if o not in chosen]
        if len(rest) < len(origins):
            return "any but " + escape("; ".join(self.label("origin", o) for o in rest))
        return escape("; ".join(self.label("origin", o) for o in origins))

    def page(self, tables: Sequence[Table], as_of: AsOf, spec: MatrixSpec) -> str:
        lines = [
            "# Overview matrix",
            "",
            "What the engine decides when a request states only who holds the data, "
            "the data element, where the holder's copy came from, the recipient and the purpose — and **no "
            "facts**. Every cell was computed by running the rules, not written by hand:",
            "",
            "- **permitted** under a rule: that rule permits it on these fields alone;",
            "- **denied** by a rule: that rule forbids it, whatever the facts;",
            "- *possible under* a rule *if the facts are shown*: that rule could permit it, and the decision "
            "turns on facts the request would have to state (listed below each table); until they are "
            "shown the engine denies it as `indeterminate`;",
            "- **no authority**: no rule could authorize it (the rules encoded so far do not cover it).",
            "",
            _when(as_of),
            "",
            "Rows whose cells agree are merged: origins that decide alike share a row, and so do data elements.",
            "",
        ]
        if not tables:
            lines += ["These rules' vocabulary does not declare the fields the matrix asks about.", ""]
            return "\n".join(lines)
        all_origins = _declared(self.vocabulary, "origin", spec.origins)
        for t in tables:
            purpose = self.label("purpose", t.purpose)
            lines += [f"## Held by {self.named('holder', t.holder)}, for {escape(purpose)}", ""]
            header = ["Data element", "Origin of the holder's copy"] + [
                f"to {self.heading('recipient', r)}" for r in t.recipients
            ]
            rows = []
            previous: tuple[str, ...] = ()
            for row in t.rows:
                # A row that continues the elements above leaves their cell empty, as a merged cell would.
                elements = (
                    ""
                    if row.elements == previous
                    else escape("; ".join(self.label("element", e) for e in row.elements))
                )
                previous = row.elements
                rows.append([elements, self.origins(row.origins, all_origins), *(self.cell(c) for c in row.cells)])
            # The class lets the site's stylesheet give the matrix the window's width.
            lines += ['<div class="wide matrix" markdown="1">', "", *table(header, rows), "</div>", ""]
            lines += self.facts_note(t)
        return "\n".join(lines)

    def facts_note(self, t: Table) -> list[str]:
        by_route: dict[str, list[str]] = {}
        compiled = self.rules.compiled.rules
        for row in t.rows:
            for cell in row.cells:
                for route in cell.routes:
                    facts = by_route.setdefault(route, [])
                    reads = compiled[route].reads.paths
                    facts.extend(f for f in cell.unknown_facts if f in reads and f not in facts)
        if not by_route:
            return []
        lines = ["Where a cell says *possible*, the decision turns on these facts:", ""]
        order = {p: i for i, p in enumerate(self.vocabulary.readable_paths())}
        for route, facts in by_route.items():
            facts.sort(key=lambda f: order.get(f, len(order)))
            labels = [escape(s.label) if (s := self.vocabulary.slot(f)) else code(f) for f in facts]
            lines.append(f"- under {self.rule_link(route)}: " + ("; ".join(labels) or "(none listed)"))
        return [*lines, ""]


def _when(as_of: AsOf) -> str:
    """The date the matrix was decided on, and why that one: a build on another day draws the same matrix."""
    day = f"**{as_of.day.isoformat()}**"
    if as_of.given:
        return f"Decided as of {day}, the date asked for."
    if not as_of.changes:
        return "These rules decide alike on every date, so the matrix holds for any date."
    # A date stays on one line: a narrow screen would otherwise break it at a hyphen.
    earlier = [f'<span class="nowrap">{d.isoformat()}</span>' for d in as_of.changes[:-1]]
    before = f" Before it, they change on {_listed(earlier)}." if earlier else ""
    return (
        f"Decided as of {day}, the last date on which these rules change (a rule comes into force or leaves it, "
        "or a condition turns on the date): from then on they decide alike, whatever the day the pages are "
        f"built.{before} `disclosure-rules docs --date YYYY-MM-DD` draws the matrix for another date."
    )


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def group_link(name: str) -> str:
    """Where the vocabulary page describes a group (the matrix and the vocabulary are written side by side)."""
    return f"vocabulary.md#group-{name}"
