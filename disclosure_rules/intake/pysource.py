"""Python source written line by line from the checked vocabulary, and run with almost no builtins.

The case keys (:mod:`.cases`) and the request reader's quick path (:mod:`.requestgen`) are such source. Names
from the vocabulary enter it only as ``repr`` string constants or as values bound to the module's own
identifiers (``K3``, ``v7``); no text from a request ever reaches it, as it is written before any request is
read.
"""

from __future__ import annotations

from typing import Any

BUILTINS = {t.__name__: t for t in (len, dict, list, tuple, frozenset, str, int, float, bool, Exception)}
"""All the generated code can reach of Python's builtins."""


class Source:
    """The lines of a module being written, and the values its names are bound to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}
        self.counter = 0

    def var(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def const(self, value: Any, prefix: str = "K") -> str:
        name = self.var(prefix)
        self.names[name] = value
        return name

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def run(self, filename: str) -> dict[str, Any]:
        """The module's namespace once run, with its text as ``__source__`` (for reading, when debugging)."""
        code = "\n".join(self.lines)
        namespace: dict[str, Any] = dict(self.names)
        # The generated code needs only these; no other builtin is reachable from it.
        namespace["__builtins__"] = dict(BUILTINS)
        exec(compile(code, filename, "exec"), namespace)
        namespace["__source__"] = code
        return namespace


__all__ = ["BUILTINS", "Source"]
