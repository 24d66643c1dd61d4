"""Typed reading of YAML mappings for the loaders, with every problem collected as a diagnostic.

A :class:`MappingReader` wraps one mapping of a rule or vocabulary file: it reads text, dates, booleans,
lists and nested mappings, and reports a wrong type, a missing key or an unknown key (with the closest
known key) to a shared :class:`DiagnosticSink` instead of stopping, so one run reports every mistake.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from ..diagnostics import Diagnostic, Position, did_you_mean_or_list
from .yamlsource import YMap, YNode, YScalar, YSeq


class DiagnosticSink:
    """Collects diagnostics while loading continues, so every mistake is reported at once."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, position: Position | None, help: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, position, help=help))


class MappingReader:
    """Typed access to one YAML mapping, reporting wrong types and unknown keys."""

    def __init__(self, node: YMap, what: str, sink: DiagnosticSink) -> None:
        self.node = node
        self.what = what
        self.sink = sink

    def only(self, *allowed: str) -> None:
        for key, scalar in self.node.keys.items():
            if key not in allowed:
                self.sink.add(
                    "unknown_key",
                    f"{self.what} has no key `{key}`",
                    scalar.position,
                    help=did_you_mean_or_list(key, allowed),
                )

    def has(self, key: str) -> bool:
        return key in self.node.items

    def raw(self, key: str, required: bool = False) -> YNode | None:
        node = self.node.items.get(key)
        if node is None and required:
            self.sink.add("missing_key", f"{self.what} needs `{key}`", self.node.position)
        return node

    def scalar(self, key: str, required: bool = False) -> YScalar | None:
        node = self.raw(key, required)
        if node is None:
            return None
        if not isinstance(node, YScalar) or node.value is None:
            self.sink.add("wrong_type", f"`{key}` of {self.what} must be a single value", node.position)
            return None
        return node

    def text(self, key: str, required: bool = False) -> str | None:
        node = self.scalar(key, required)
        if node is None:
            return None
        if not isinstance(node.value, str):
            self.sink.add(
                "wrong_type",
                f"`{key}` of {self.what} must be text, not `{show(node.value)}`",
                node.position,
                help="put it in quotes",
            )
            return None
        if not node.value.strip():
            self.sink.add("wrong_type", f"`{key}` of {self.what} is empty", node.position)
            return None
        return node.value.strip()

    def date(self, key: str) -> datetime.date | None:
        node = self.scalar(key)
        if node is None:
            return None
        if isinstance(node.value, datetime.date):
            return node.value
        self.sink.add("bad_date", f"`{key}` of {self.what} must be a date written YYYY-MM-DD", node.position)
        return None

    def boolean(self, key: str, default: bool) -> bool:
        node = self.scalar(key)
        if node is None:
            return default
        if not isinstance(node.value, bool):
            self.sink.add("wrong_type", f"`{key}` of {self.what} must be true or false", node.position)
            return default
        return node.value

    def mapping(self, key: str, required: bool = False) -> YMap | None:
        node = self.raw(key, required)
        if node is None:
            return None
        if not isinstance(node, YMap):
            self.sink.add("wrong_type", f"`{key}` of {self.what} must be a mapping", node.position)
            return None
        return node

    def sequence(self, key: str) -> YSeq | None:
        node = self.raw(key)
        if node is None:
            return None
        if not isinstance(node, YSeq):
            self.sink.add("wrong_type", f"`{key}` of {self.what} must be a list", node.position)
            return None
        return node

    def texts(self, key: str) -> list[tuple[str, YScalar]]:
        """A text or a list of texts."""
        node = self.raw(key)
        if node is None:
            return []
        items = node.items if isinstance(node, YSeq) else (node,)
        out = []
        for item in items:
            if isinstance(item, YScalar) and isinstance(item.value, str) and item.value.strip():
                out.append((item.value.strip(), item))
            else:
                self.sink.add("wrong_type", f"`{key}` of {self.what} must be text or a list of texts", item.position)
        return out


def show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def entries(node: YMap) -> Iterable[tuple[str, YScalar, YNode]]:
    for key, value in node.items.items():
        yield key, node.keys[key], value


# -- vocabulary -------------------------------------------------------------------------------
