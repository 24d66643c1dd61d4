"""Markdown building blocks for the rule documentation: escaping, links to the law, tables, outlines.

The pages are Python-Markdown as MkDocs renders it (with the ``tables`` and ``attr_list``
extensions): nested lists are indented by four spaces, and heading anchors are written
``{#id}`` so links between pages do not depend on how a heading is worded.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence

from ..decisions.english import OutlineItem, Phraser
from ..rulebook.model import Effective

# The public text of the United States Code; one page per section.
USC_URL = "https://www.law.cornell.edu/uscode/text/{title}/{section}"
_USC = re.compile(
    r"(?P<title>\d+)\s+U\.?\s?S\.?\s?C\.?\s+§§?\s*(?P<section>\d+[A-Za-z]*(?:-\d+)?)(?:\([A-Za-z0-9]+\))*"
)
_PINPOINTS = re.compile(r"(?:,\s*\([A-Za-z0-9]+\)(?:\([A-Za-z0-9]+\))*)*")
_ESCAPED = re.compile(r"([\\`*_\[\]|])")

MODE_PHRASE = {
    "all": "**all** of the following",
    "any": "**any** of the following",
    "none": "**none** of the following",
    "notall": "**not all** of the following",
}

DefinitionLink = Callable[[str], str | None]


def escape(text: str) -> str:
    """Text that Markdown shows as written (no emphasis, links, raw HTML or table cells)."""
    return _ESCAPED.sub(r"\\\1", text).replace("<", "&lt;")


def prose(text: str) -> str:
    """Engine-written text (a reason, a requirement) as Markdown: its `backticked` values stay code."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: nothing is code
        return escape(text)
    return "".join(escape(part) if i % 2 == 0 else code(part) for i, part in enumerate(parts))


def dotted_code(path: str) -> str:
    """A dotted name as inline code that a narrow table cell may break after each dot (raw HTML)."""
    return '<code class="path">' + ".<wbr>".join(html.escape(part) for part in path.split(".")) + "</code>"


def code(text: str) -> str:
    """An identifier as inline code; a backtick inside gets a longer fence."""
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def one_line(text: str) -> str:
    return " ".join(text.split())


def statute_url(citation: str) -> str | None:
    """The public text of the first U.S. Code section the citation names (court cases have none)."""
    match = _USC.search(citation)
    return USC_URL.format(**match.groupdict()) if match else None


def cite(citation: str) -> str:
    """A citation as Markdown, each U.S. Code reference in it linked to the section's public text."""
    out: list[str] = []
    last = 0
    for match in _USC.finditer(citation):
        out.append(escape(citation[last : match.start()]))
        out.append(f"[{escape(match.group(0))}]({USC_URL.format(**match.groupdict())})")
        last = match.end()
    out.append(escape(citation[last:]))
    return "".join(out)


def short_citation(citation: str) -> str:
    """A citation short enough for a table cell or a menu: ``§ 6103(i)(2)``, or a case's name.

    Only the first authority of a list (``42 U.S.C. § 1306(a); 20 C.F.R. part 401``) is kept; the
    rule's page gives the whole citation.
    """
    first = citation.split(";")[0].strip()
    match = _USC.match(first)
    if match:
        tail = first[match.end() :]
        kept = tail if _PINPOINTS.fullmatch(tail) else ""
        return first[first.index("§") : match.end()] + kept
    head = first.split(",")[0].strip()
    return head if len(head) <= 60 else head[:57] + "..."


def slug(text: str) -> str:
    """A file name for an id: letters, digits, ``-`` and ``_`` only (ids may hold ``.`` and brackets)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "rule"


def unique_slugs(ids: Iterable[str]) -> dict[str, str]:
    """A distinct file name for each id, in order; a clash gets a number."""
    taken: set[str] = set()
    out: dict[str, str] = {}
    for ident in ids:
        base = candidate = slug(ident)
        n = 2
        while candidate in taken:
            candidate = f"{base}-{n}"
            n += 1
        taken.add(candidate)
        out[ident] = candidate
    return out


def relative(from_page: str, to_target: str) -> str:
    """A link from one generated page to another page (with an optional ``#anchor``)."""
    target, _, anchor = to_target.partition("#")
    path = posixpath.relpath(target, posixpath.dirname(from_page) or ".") if target else ""
    return path + (f"#{anchor}" if anchor else "")


def window(effective: Effective) -> str:
    text = effective.describe()
    return f"{text}, with no end date" if effective.start and not effective.end else text


def details(summary: str, body: str) -> list[str]:
    """A folded block (HTML ``<details>``) of preformatted text: shown on request, for authors."""
    return [
        f"<details><summary>{html.escape(summary)}</summary>",
        f"<pre><code>{html.escape(body)}</code></pre>",
        "</details>",
        "",
    ]


def folded_list(summary: str, items: Sequence[str]) -> list[str]:
    """A folded bullet list of plain sentences (HTML, as Markdown does not reach inside ``<details>``)."""
    entries = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return [f"<details><summary>{html.escape(summary)}</summary><ul>{entries}</ul></details>", ""]


FOLD_OVER = 8
"""A group of more values than this has its list folded where a page writes it out: the eighteen federal agencies
would otherwise fill the line of every condition that names them, on every rule that does."""


def folded_values(listed: str, count: int) -> str:
    """A list of values, in words, folded (HTML ``<details>``) so that it opens on request, in the line it ends."""
    return f'<details class="values"><summary>list of {count}</summary>{escape(listed)}</details>'


class GroupFolder:
    """Folds the long value lists of groups in text the pages escaped: the English for a condition names a group
    and lists its values, "the federal agencies (the Internal Revenue Service, ...)"; the page shows the name, and
    the list folded."""

    def __init__(self, phraser: Phraser, over: int = FOLD_OVER) -> None:
        self.replacements: dict[str, str] = {}
        for name, group in phraser.vocabulary.groups.items():
            if len(group.values) <= over:
                continue
            for joiner in ("or", "and"):
                listed = phraser.value_list(group.type, group.values, joiner)
                written = escape(phraser.group_phrase(name, joiner))
                self.replacements[written] = (
                    f"{escape(phraser.group_name(name))} {folded_values(listed, len(group.values))}"
                )

    def __call__(self, text: str) -> str:
        for written, folded in self.replacements.items():
            text = text.replace(written, folded)
        return text


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A pipe table; cells must already be escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows)
    lines.append("")
    return lines


def bullets(items: Iterable[str], depth: int = 0) -> list[str]:
    pad = "    " * depth
    return [f"{pad}- {item}" for item in items]


# -- conditions ---------------------------------------------------------------------------------


def _reference(name: str, link: DefinitionLink) -> str:
    url = link(name)
    return f"[{code(name)}]({url})" if url else code(name)


def outline_lines(item: OutlineItem, link: DefinitionLink, depth: int = 0) -> list[str]:
    """A condition outline as a nested Markdown list; definitions are linked and, if expanded, opened."""
    pad = "    " * depth
    if item.mode != "leaf":
        lines = [f"{pad}- {MODE_PHRASE.get(item.mode, escape(item.text))}:"]
        for child in item.children:
            lines.extend(outline_lines(child, link, depth + 1))
        return lines
    text = escape(item.text)
    if item.definition is None:
        return [f"{pad}- {text}"]
    reference = _reference(item.definition, link)
    if item.detail is None:
        return [f"{pad}- {text} ({reference})"]
    return [f"{pad}- {text} — {reference} means {_detail_lead(item.detail)}:", *_detail_lines(item.detail, link, depth)]


def _detail_lead(detail: OutlineItem) -> str:
    return MODE_PHRASE.get(detail.mode, "") if detail.mode != "leaf" else "that"


def _detail_lines(detail: OutlineItem, link: DefinitionLink, depth: int) -> list[str]:
    children = detail.children if detail.mode != "leaf" else (detail,)
    lines: list[str] = []
    for child in children:
        lines.extend(outline_lines(child, link, depth + 1))
    return lines


def condition_lines(item: OutlineItem, lead: str, link: DefinitionLink) -> list[str]:
    """A whole condition as a lead sentence and a list: ``lead`` is e.g. "This rule **permits** ... when"."""
    if item.mode != "leaf":
        lines = [f"{lead} {MODE_PHRASE.get(item.mode, escape(item.text))} hold:", ""]
        for child in item.children:
            lines.extend(outline_lines(child, link))
        return [*lines, ""]
    text = escape(item.text)
    if item.definition is None and item.text in ("always", "never"):  # a condition that is just `true`/`false`
        return [f"{lead.removesuffix(' when')} {text}.", ""]
    if item.definition is None:
        return [f"{lead} {text}.", ""]
    reference = _reference(item.definition, link)
    if item.detail is None:
        return [f"{lead} {text} ({reference}).", ""]
    return [
        f"{lead} {text}; {reference} means {_detail_lead(item.detail)}:",
        "",
        *_detail_lines(item.detail, link, -1),
        "",
    ]
