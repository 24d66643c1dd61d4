"""Diagnostics: what went wrong, where, and what to do about it.

Every problem the library reports, in a rule file or in a request, is a
:class:`Diagnostic`: a stable ``code`` that tests and tools can match, a short
``message`` (lower case, no trailing period, the user's input in backticks), a
location (``file:line:column`` for rule files, a JSON path such as
``$.facts.request.signed_by`` for requests) and an optional ``help`` line.

Loading collects all diagnostics before failing, so an author sees every
mistake in one run; :class:`LoadError` carries them, sorted by location.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs


@attrs.frozen(order=True)
class Position:
    """A place in a source file; ``line`` and ``column`` count from 1."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@attrs.frozen
class Diagnostic:
    """One problem, with a stable code, a message and where it is."""

    code: str
    message: str
    position: Position | None = None
    path: str | None = None
    help: str | None = None

    def location(self) -> str:
        if self.position is not None:
            return str(self.position)
        if self.path is not None:
            return self.path
        return ""

    def __str__(self) -> str:
        where = self.location()
        head = f"{where}: " if where else ""
        text = f"{head}error[{self.code}]: {self.message}"
        if self.help:
            text += f" (help: {self.help})"
        return text

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "message": self.message}
        if self.position is not None:
            out["file"] = self.position.file
            out["line"] = self.position.line
            out["column"] = self.position.column
        if self.path is not None:
            out["path"] = self.path
        if self.help is not None:
            out["help"] = self.help
        return out


def _sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.position is None:
        return ("", 0, 0, d.message)
    return (d.position.file, d.position.line, d.position.column, d.message)


class DisclosureRulesError(Exception):
    """Base class of every exception this library raises on purpose."""


class LoadError(DisclosureRulesError):
    """A rule directory did not load; ``diagnostics`` lists every problem found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(sorted(diagnostics, key=_sort_key))
        count = len(self.diagnostics)
        summary = f"{count} error{'s' if count != 1 else ''} in the rules"
        super().__init__(summary + ":\n" + "\n".join(str(d) for d in self.diagnostics))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A help line proposing the closest known name, if one is close enough; a name that differs only in case
    (`ice` for `ICE`) first, since difflib scores case differences as much as any other letter."""
    names = list(candidates)
    same = [name for name in names if name.casefold() == word.casefold()]
    if same:
        return f"did you mean `{same[0]}`? case matters"
    import difflib  # only here: a suggestion is made for an error, and a cold start need not load it

    matches = difflib.get_close_matches(word, names, n=1, cutoff=0.75)
    return f"did you mean `{matches[0]}`?" if matches else None


def did_you_mean_or_list(word: object, candidates: Iterable[str], listing: str = "allowed") -> str:
    """A help line for an unknown name: the closest known one, or else the known ones (the first dozen)."""
    names = list(candidates)
    shown = ", ".join(f"`{name}`" for name in names[:12]) + (", ..." if len(names) > 12 else "")
    return did_you_mean(str(word), names) or f"{listing}: {shown}"


def quote(value: object, limit: int = 60) -> str:
    """Show a user's value in backticks, shortened so a huge input cannot flood a message."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"`{text}`"
