"""Pages for the rules themselves: an index, one page per rule set, one page per rule.

Everything on a page is read from the loaded :class:`~disclosure_rules.rulebook.model.Rulebook` (and
the worked examples from decisions the engine made), so a page cannot say what the rules do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..decisions.decision import Decision
from ..decisions.english import Phraser
from ..language.ast import Expr
from ..language.template import TemplateField
from ..language.typecheck import references
from ..language.unparse import unparse
from ..rulebook.literate import units
from ..rulebook.model import Clause, Definition, Note, Rule, Rulebook, RuleSet
from .markdown import (
    DefinitionLink,
    GroupFolder,
    cite,
    code,
    condition_lines,
    details,
    escape,
    folded_list,
    one_line,
    prose,
    relative,
    short_citation,
    table,
    unique_slugs,
    window,
)
from .words import Words, request_json, status_words

KIND_VERB = {"permit": "permits", "forbid": "forbids"}


@attrs.frozen
class Example:
    """A worked example: one scenario test, and what the engine decided on its request."""

    name: str
    suite: str
    source: str
    request: Any
    decision: Decision
    expected: Mapping[str, Any]
    passed: bool
    description: str | None = None


@attrs.frozen
class ClauseTests:
    """The scenario tests that exercise a rule's clauses: where the whole condition held, and, for each clause in
    order, where that clause alone failed."""

    held: tuple[str, ...]
    fails_alone: tuple[tuple[str, ...], ...]


class Linker:
    """Where each rule, rule set and definition is documented, as paths under the output directory."""

    def __init__(self, book: Rulebook) -> None:
        self.book = book
        self.rule_slugs = unique_slugs(book.rules)
        self.set_slugs = unique_slugs(rs.name for rs in book.rulesets)

    def rule(self, rid: str) -> str:
        return f"rules/{self.rule_slugs[rid]}.md"

    def ruleset(self, name: str) -> str:
        return f"rulesets/{self.set_slugs[name]}.md"

    def definition(self, name: str) -> str:
        return f"{self.ruleset(self.book.definitions[name].ruleset)}#def-{_anchor(name)}"

    def obligation(self, oid: str) -> str:
        return f"{self.ruleset(self.book.obligations[oid].ruleset)}#ob-{_anchor(oid)}"


def _anchor(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def _notes(notes: Sequence[Note]) -> list[str]:
    lines: list[str] = []
    for note in notes:
        extra = []
        if note.confidence:
            extra.append(f"confidence: **{note.confidence}**")
        if note.source:
            extra.append(f"source: {cite(one_line(note.source))}")
        tail = f" ({'; '.join(extra)})" if extra else ""
        lines.append(f"- {prose(one_line(note.text))}{tail}")
    return [*lines, ""] if lines else []


class RulePages:
    """Writes the index, rule-set and rule pages of one rulebook."""

    def __init__(
        self,
        book: Rulebook,
        examples: Mapping[str, Sequence[Example]],
        more: Mapping[str, Sequence[Example]],
        docs_prefix: str | None = None,
        clause_tests: Mapping[str, ClauseTests] | None = None,
    ) -> None:
        """``docs_prefix`` is the path from the output directory to the hand-written pages (None: no links)."""
        self.book = book
        self.docs_prefix = docs_prefix
        self.link = Linker(book)
        self.phraser = Phraser(book.vocabulary, book.definitions)
        self.words = Words(book.vocabulary, self.phraser)
        self.fold = GroupFolder(self.phraser)
        self.examples = examples
        self.more = more
        self.clause_tests = clause_tests or {}

    # -- shared pieces ------------------------------------------------------------------------

    def rule_ref(self, rid: str, page: str) -> str:
        rule = self.book.rules[rid]
        return f"[{escape(short_citation(rule.citation))}]({relative(page, self.link.rule(rid))})"

    def _definition_link(self, page: str) -> DefinitionLink:
        def link(name: str) -> str | None:
            return relative(page, self.link.definition(name)) if name in self.book.definitions else None

        return link

    def tree(self, page: str, include: set[str] | None = None, focus: str | None = None) -> list[str]:
        """The rules as a tree of exceptions from each general rule down (a rule may sit under two)."""
        rules = self.book.rules
        lines: list[str] = []

        def visit(rid: str, depth: int, stack: tuple[str, ...]) -> None:
            rule = rules[rid]
            verb = f"**{KIND_VERB[rule.kind]}**"
            rest = _after_citation(rule)
            if rid == focus:
                text = f"{verb} — **{escape(heading(rule))}** (this rule)"
            else:
                text = f"{verb} — {self.rule_ref(rid, page)}{': ' + escape(rest) if rest else ''}"
            lines.append(f"{'    ' * depth}- {text}")
            for child in self.book.exceptions_of(rid):
                if child not in stack and (include is None or child in include):
                    visit(child, depth + 1, (*stack, child))

        for rid, rule in rules.items():
            if not rule.exception_to and (include is None or rid in include):
                visit(rid, 0, (rid,))
        return [*lines, ""]

    def related(self, rid: str) -> set[str]:
        """The rule, every rule above it (what it is an exception to) and every rule below it."""
        found = {rid}
        up = [rid]
        while up:
            for parent in self.book.rules[up.pop()].exception_to:
                if parent not in found:
                    found.add(parent)
                    up.append(parent)
        down = [rid]
        below: set[str] = set()
        while down:
            for child in self.book.exceptions_of(down.pop()):
                if child not in below:
                    below.add(child)
                    down.append(child)
        return found | below

    def see(self, page: str, text: str) -> str:
        """A pointer to a hand-written page, when the pages sit beside them."""
        return f" (see [{text}]({self.docs_prefix}{page}))" if self.docs_prefix is not None else ""

    # -- the index ----------------------------------------------------------------------------

    def index(self, suites: int, scenarios: int, failed: int) -> str:
        page = "index.md"
        book = self.book
        lines = [
            "# The rules",
            "",
            f"Generated from the rule files: {len(book.rulesets)} rule sets, "
            f"{len(book.rules)} rules, {len(book.definitions)} definitions, {len(book.obligations)} obligations. "
            f"Rule-set hash `{book.info.hash}`, the same as in the `ruleset` of every decision these rules make.",
            "",
            "## Rule sets",
            "",
        ]
        rows = [
            [f"[{escape(rs.title)}]({relative(page, self.link.ruleset(rs.name))})", _source(rs), str(len(rs.rules))]
            for rs in book.rulesets
        ]
        lines += table(["Rule set", "Source of law", "Rules"], rows)
        lines += [
            "## How the rules fit together",
            "",
            "Each general rule, with the rules that are exceptions to it below it. An exception overrides the "
            f"rule above it when it applies{self.see('semantics.md', 'semantics')}.",
            "",
            *self.tree(page),
            "## Reference",
            "",
            "- [Vocabulary](vocabulary.md): every value, field and fact a request may use.",
            "- [Overview matrix](matrix.md): what the engine decides for each data element, origin and recipient.",
            "- [JSON schemas](schemas.md) of the request and of the decision.",
            "",
            "## Scenario tests",
            "",
        ]
        if scenarios:
            state = "all pass" if not failed else f"**{failed} fail** with these rules"
            lines.append(
                f"{scenarios} scenarios in {suites} files test these rules ({state}); each rule page shows "
                "those that concern it as worked examples."
            )
        else:
            lines.append("No scenario tests were found beside these rules, so the rule pages have no worked examples.")
        return "\n".join([*lines, ""])

    # -- a rule set ---------------------------------------------------------------------------

    def ruleset(self, rs: RuleSet) -> str:
        page = self.link.ruleset(rs.name)
        book = self.book
        lines = [f"# {escape(rs.title)}", "", f"**Source of law:** {_source(rs)}", ""]
        if rs.description:
            lines += [prose(one_line(rs.description)), ""]
        lines += [f"Rule file: `{Path(rs.file).name}`.", ""]
        lines += ["## Rules", ""]
        if rs.rules:
            rows = []
            for rid in rs.rules:
                rule = book.rules[rid]
                parents = ", ".join(self.rule_ref(p, page) for p in rule.exception_to) or "—"
                rows.append(
                    [
                        self.rule_ref(rid, page),
                        escape(rule.title),
                        KIND_VERB[rule.kind],
                        window(rule.effective),
                        parents,
                        code(rid),
                    ]
                )
            lines += table(["Citation", "Title", "Kind", "In force", "Exception to", "Rule id"], rows)
            lines += ["### How they fit together", ""]
            include: set[str] = set()
            for rid in rs.rules:
                include |= self.related(rid)
            lines += self.tree(page, include)
        else:
            lines += ["This rule set has no rules of its own; it defines terms and obligations for others.", ""]
        if rs.definitions:
            lines += ["## Definitions", ""]
            for name in rs.definitions:
                lines += self.definition(book.definitions[name], page)
        if rs.obligations:
            lines += ["## Obligations", ""]
            for oid in rs.obligations:
                ob = book.obligations[oid]
                users = [r.id for r in book.rules.values() if oid in r.obligations]
                lines += [f"### {code(oid)} {{#ob-{_anchor(oid)}}}", "", prose(one_line(ob.text)), ""]
                lines += [f"Citation: {cite(ob.citation)}.", ""]
                if users:
                    lines += ["Comes with: " + ", ".join(self.rule_ref(r, page) for r in users) + ".", ""]
        return self.fold("\n".join(lines))

    def definition(self, definition: Definition, page: str) -> list[str]:
        name = definition.name
        lines = [f"### {code(name)} {{#def-{_anchor(name)}}}", "", f"*{escape(definition.label)}*", ""]
        if definition.citation:
            lines += [f"Citation: {cite(definition.citation)}.", ""]
        lead = f"{code(name)} holds when"
        lines += condition_lines(self.phraser.outline(definition.condition), lead, self._definition_link(page))
        lines += details("Condition as written", definition.source)
        if definition.statute:
            nodes = {unparse(u): u for u in units(definition.condition)}
            lines += ["The law beside the definition:", ""]
            lines += table(["Clause of the law", "Encoded by"], self.clause_cells(definition.statute, nodes))
        if definition.must:
            lines += [f"When it is missing, explanations say: “{prose(one_line(definition.must))}”.", ""]
        lines += _notes(definition.notes)
        users = [r.id for r in self.book.rules.values() if name in references(r.condition)]
        users_of_defs = [d for d, other in self.book.definitions.items() if name in references(other.condition)]
        used = [self.rule_ref(r, page) for r in users] + [
            f"[{code(d)}]({relative(page, self.link.definition(d))})" for d in users_of_defs
        ]
        if used:
            lines += ["Used by: " + ", ".join(used) + ".", ""]
        return lines

    # -- a rule -------------------------------------------------------------------------------

    def rule(self, rid: str) -> str:
        book = self.book
        rule = book.rules[rid]
        page = self.link.rule(rid)
        rs = next(r for r in book.rulesets if r.name == rule.ruleset)
        where = f"`{Path(rule.position.file).name}`, line {rule.position.line}" if rule.position else "—"
        lines = [f"# {escape(heading(rule))}", ""]
        lines += table(
            ["Rule", code(rid)],
            [
                ["Kind", f"**{rule.kind}** — it {KIND_VERB[rule.kind]} the disclosure when it applies"],
                ["Citation", cite(rule.citation)],
                ["Rule set", f"[{escape(rs.title)}]({relative(page, self.link.ruleset(rs.name))})"],
                ["In force", window(rule.effective)],
                ["Exception to", ", ".join(self.rule_ref(p, page) for p in rule.exception_to) or "— (a general rule)"],
                ["Defined in", where],
            ],
        )
        lines += ["## When it applies", ""]
        lead = f"This rule **{KIND_VERB[rule.kind]}** the disclosure when"
        lines += condition_lines(self.phraser.outline(rule.condition, expand=True), lead, self._definition_link(page))
        exceptions = book.exceptions_of(rid)
        if exceptions:
            names = ", ".join(self.rule_ref(e, page) for e in exceptions)
            lines += [f"…unless an exception to it applies: {names}.", ""]
        if not rule.effective.always:
            lines += [f"It is in force {window(rule.effective)} (both dates inclusive).", ""]
        lines += details("Condition as written in the rule file", rule.source)
        lines += self.law_beside(rule)
        lines += ["## Place among the exceptions", ""]
        lines += self.tree(page, self.related(rid), focus=rid)
        lines += ["## Reason it gives", ""]
        lines += ["> " + self._template(rule), "", "Words in brackets are filled in from the request.", ""]
        if rule.obligations:
            lines += ["## Obligations", "", "When this rule permits a disclosure, these duties come with it:", ""]
            for oid in rule.obligations:
                ob = book.obligations[oid]
                target = relative(page, self.link.obligation(oid))
                lines.append(f"- [{code(oid)}]({target}): {prose(one_line(ob.text))} ({cite(ob.citation)})")
            lines.append("")
        if rule.notes:
            lines += ["## Notes", "", *_notes(rule.notes)]
        lines += self.worked_examples(rid, page)
        return self.fold("\n".join(lines))

    def law_beside(self, rule: Rule) -> list[str]:
        """The law the rule quotes, clause by clause, beside the parts of the condition that encode each clause
        and the scenario tests that exercise it (issue 14: a lawyer reviews a rule by reading one page)."""
        if not rule.statute:
            return []
        nodes = {unparse(u): u for u in units(rule.condition)}
        tests = self.clause_tests.get(rule.id)
        lines = [
            "## The law beside the rule",
            "",
            "Each clause of the law this rule encodes, quoted, beside the part of the condition that encodes it (or "
            "why it is not modelled), and the scenario tests in which that clause alone failed.",
            "",
        ]
        rows = []
        for i, (law, encoded) in enumerate(self.clause_cells(rule.statute, nodes)):
            fails = tests.fails_alone[i] if tests else ()
            tested = ("fails alone in: " + _some(fails)) if fails else "—"
            rows.append([law, encoded, tested])
        lines += table(["Clause of the law", "Encoded by", "Scenario tests"], rows)
        if tests is not None:
            if tests.held:
                lines += [
                    f"The whole condition held in {len(tests.held)} scenario"
                    f"{'s' if len(tests.held) != 1 else ''}: " + _some(tests.held) + ".",
                    "",
                ]
            else:
                lines += ["No scenario test meets the whole condition.", ""]
        return lines

    def clause_cells(self, statute: Sequence[Clause], nodes: Mapping[str, Expr]) -> list[tuple[str, str]]:
        """For each clause: the quoted law with its citation, and the requirements (in words) that encode it."""
        cells = []
        for clause in statute:
            law = f"**{cite(clause.cite)}** — “{escape(one_line(clause.text))}”"
            encoded = [prose(one_line(self.phraser.requirement(nodes[t]))) for t in clause.encodes if t in nodes]
            if clause.not_modelled is not None:
                # A note beside encoded parts says what of the clause they leave out, or how they read it.
                what = "How it is read" if clause.encodes else "Not modelled"
                confidence = clause.confidence or "unstated"
                encoded.append(f"*{what}* (confidence: **{confidence}**): {prose(one_line(clause.not_modelled))}")
            cells.append((law, "<br>".join(f"• {e}" for e in encoded) or "**nothing: a gap**"))
        return cells

    def _template(self, rule: Rule) -> str:
        out = []
        for part in rule.reason.parts:
            if isinstance(part, TemplateField):
                name = part.path.rsplit(".", 1)[-1].replace("_", " ")
                out.append(f"*\\[{escape(name)}\\]*")
            else:
                out.append(escape(part))
        return one_line("".join(out))

    def worked_examples(self, rid: str, page: str) -> list[str]:
        examples = self.examples.get(rid, ())
        if not examples:
            return []
        lines = [
            "## Worked examples",
            "",
            "From the scenario tests; each decision was made by the engine on this page's rules.",
            "",
        ]
        for example in examples:
            lines += [f"### {escape(example.name[:1].upper() + example.name[1:])}", ""]
            lines += [f"*{escape(example.suite)}* — `{example.source}`", ""]
            if example.description:
                lines += [prose(one_line(example.description)), ""]
            lines += self.words.request(example.request)
            lines += self.words.decision(example.decision, lambda rid: self.rule_ref(rid, page))
            if not example.passed:
                lines += [
                    "**This scenario fails with these rules:** it expects " + _expectation(example.expected) + ".",
                    "",
                ]
            lines += details("The request as JSON", request_json(example.request))
        rest = self.more.get(rid, ())
        if rest:
            items = [f"{e.name} — {e.decision.decision}, {status_words(e.decision.status)} ({e.source})" for e in rest]
            lines += folded_list(f"{len(rest)} more scenario{'s' if len(rest) != 1 else ''} concern this rule", items)
        return lines


def _some(names: Sequence[str], shown: int = 6) -> str:
    """The first scenario names, and how many more: a long list would bury the clause it tests."""
    text = "; ".join(escape(n) for n in names[:shown])
    return text + (f"; and {len(names) - shown} more" if len(names) > shown else "")


def heading(rule: Rule) -> str:
    """A rule's name for a page title: its short citation and its title, without saying a case name twice."""
    rest = _after_citation(rule)
    short = short_citation(rule.citation)
    return f"{short}: {rest}" if rest else short


def _after_citation(rule: Rule) -> str:
    short = short_citation(rule.citation)
    title = rule.title.strip()
    if title.startswith(short):
        return title[len(short) :].lstrip(" :—-")
    return title


def _expectation(expected: Mapping[str, Any]) -> str:
    return ", ".join(f"{code(str(k))} {code(str(v))}" for k, v in expected.items()) or "nothing"


def _source(rs: RuleSet) -> str:
    return f"[{escape(rs.source)}]({rs.url})" if rs.url else escape(rs.source)
