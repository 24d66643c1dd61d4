"""Reason templates: text with ``{path}`` placeholders that quote request values.

``"The IRS may disclose the {element} to {recipient} under § 6103(i)(2)."``
A placeholder names a field, fact or chain projection; it is replaced by the
value's label from the vocabulary. ``{{`` and ``}}`` are literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import attrs


@attrs.frozen
class TemplateField:
    """A ``{path}`` inside a template."""

    path: str


@attrs.frozen
class Template:
    text: str
    parts: tuple[str | TemplateField, ...]
    paths: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    """The paths the placeholders name, in order: read with every decision's reason, so worked out once."""

    @paths.default
    def _paths(self) -> tuple[str, ...]:
        return tuple(p.path for p in self.parts if isinstance(p, TemplateField))

    def render(self, show: Callable[[str], str]) -> str:
        """Fill each placeholder with ``show(path)``."""
        return "".join(p if isinstance(p, str) else show(p.path) for p in self.parts)


@attrs.frozen
class TemplateProblem:
    offset: int
    message: str
    help: str | None = None


_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def parse_template(text: str, known: Callable[[str], bool]) -> tuple[Template, list[TemplateProblem]]:
    """Split a template into text and fields; report lone braces and unknown paths."""
    parts: list[str | TemplateField] = []
    problems: list[TemplateProblem] = []
    buffer = ""
    last = 0
    for match in _TOKEN.finditer(text):
        buffer += text[last : match.start()]
        last = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            buffer += token[0]
        elif token in ("{", "}"):
            problems.append(
                TemplateProblem(match.start(), f"a lone `{token}`", "write `{{` or `}}` for a literal brace")
            )
        else:
            path = (match.group(1) or "").strip()
            if not known(path):
                problems.append(TemplateProblem(match.start() + 1, f"`{{{path}}}` is not declared in the vocabulary"))
                continue
            if buffer:
                parts.append(buffer)
                buffer = ""
            parts.append(TemplateField(path))
    buffer += text[last:]
    if buffer:
        parts.append(buffer)
    return Template(text, tuple(parts)), problems


def fields(templates: Iterator[Template] | list[Template]) -> set[str]:
    out: set[str] = set()
    for template in templates:
        out.update(template.paths)
    return out
