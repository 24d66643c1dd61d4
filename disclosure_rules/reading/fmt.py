"""`disclosure-rules fmt`: the canonical layout of rule, vocabulary and scenario files, keeping every comment.

A line-based canonicalizer rather than a round-trip YAML library (ruamel.yaml): the files are law with the
reasons written beside it in comments, and a rewriter that re-emits YAML from a tree would move, merge or drop
them in the cases it handles least well. This one changes only what carries no meaning:

* line endings become ``\\n``, and the file ends with exactly one;
* white space at the end of a line goes (but not inside a block scalar, ``|`` or ``>``, where it is text);
* blank lines at the start of the file go, and a run of blank lines outside a block scalar becomes one.

Flow and block style, quoting, key order and indentation are the author's. Every rewrite is checked: the file
must parse to the same data before and after, or it is left alone and reported (fail closed), so the command
can never change what a rule says. Applied twice, it changes nothing the second time.
"""

from __future__ import annotations

import re

import attrs
import yaml

from ..diagnostics import Diagnostic, Position

_BLOCK_SCALAR = re.compile(r"""(?:^|[:\-]\s+|^\s*-\s+)[|>][-+0-9]*\s*(?:#.*)?$""")
"""A line that opens a block scalar (``key: |``, ``- >-``): the lines indented more deeply after it are its
text, where white space is content."""


@attrs.frozen
class Formatted:
    """The canonical text of one file, or why it has none."""

    text: str | None
    problem: Diagnostic | None = None


def canonical(text: str) -> str:
    """The canonical layout of ``text`` (see the module docstring); no check that the meaning is kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    block_indent: int | None = None  # the indentation of the line that opened the current block scalar
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None and (not line.strip() or indent > block_indent):
            out.append(line)  # the block scalar's own text, blank lines included
            continue
        block_indent = None
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue  # a blank line at the start, or after another one
        out.append(line)
        if _BLOCK_SCALAR.search(_without_comment(line)):
            block_indent = indent
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def _without_comment(line: str) -> str:
    """``line`` without a trailing comment, when the ``#`` cannot be inside a quoted string (a simple test:
    no quote before it); the block-scalar opener is looked for in what is left."""
    found = re.search(r"\s#", line)
    if found is None or any(q in line[: found.start()] for q in "'\""):
        return line
    return line[: found.start()]


def format_text(name: str, text: str) -> Formatted:
    """The canonical text of the file ``name``, checked to mean what ``text`` means."""
    before = _data(name, text)
    if isinstance(before, Diagnostic):
        return Formatted(None, before)
    result = canonical(text)
    after = _data(name, result)
    if isinstance(after, Diagnostic) or after != before:
        return Formatted(
            None,
            Diagnostic(
                "fmt_unsafe",
                "the canonical layout would change what the file means; it was left as it is (please report this)",
                Position(name, 1, 1),
            ),
        )
    return Formatted(result)


def _data(name: str, text: str) -> object:
    """What ``text`` means as YAML (comments and layout aside); a Diagnostic if it is not YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = Position(name, mark.line + 1, mark.column + 1) if mark is not None else Position(name, 1, 1)
        return Diagnostic("yaml_syntax", f"not valid YAML: {exc.problem or exc}", where)
    except yaml.YAMLError as exc:
        return Diagnostic("yaml_syntax", f"not valid YAML: {exc}", Position(name, 1, 1))
