"""Read YAML safely into nodes that remember where they came from.

PyYAML's ``safe_load`` loses positions and accepts surprises: ``no`` is
false, ``010`` is eight, a repeated key silently wins, an alias can multiply a
small file into a huge one. Rule files are law, so this module composes the
YAML node graph itself with a YAML 1.2-style resolver (only ``true``/``false``
are booleans, only plain decimals are numbers, only ``YYYY-MM-DD`` is a date),
rejects any tag outside the core schema, duplicate keys and aliases, and keeps
each scalar's span so that an error inside a condition can point at the exact
``file:line:column``.
"""

from __future__ import annotations

import bisect
import datetime
import os
import re
import stat
from pathlib import Path
from typing import Any

import attrs
import yaml
import yaml.cyaml

from .diagnostics import Diagnostic, Position

MAX_FILE_BYTES = 1_000_000
"""The largest rule or scenario file read (the bundled ones are under 30 KB); a larger one is refused
before it is read."""
MAX_FILE_CHARS = MAX_FILE_BYTES
RULE_FILE_SUFFIXES = (".yaml", ".yml")
"""What names a rule (or scenario) file, in any case; a name starting with a dot (an editor's lock or
backup file) does not."""

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


class _StrictResolver(yaml.resolver.Resolver):
    """Implicit types of YAML 1.2's core schema, minus the surprises of 1.1."""


_StrictResolver.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$", "-+.0123456789"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:timestamp", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "0123456789"),
):
    _StrictResolver.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


class _StrictLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    _StrictResolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _StrictResolver.__init__(self)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # An alias can multiply a small file into a huge one ("billion laughs"); refuse it
        # where it is written, before the composer expands it.
        if self.check_event(yaml.events.AliasEvent):
            raise _AliasError(
                None,
                None,
                "anchors and aliases are not allowed in rule files",
                self.peek_event().start_mark,  # type: ignore[no-untyped-call]
            )
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


class _AliasError(yaml.MarkedYAMLError):
    pass


# PyYAML's binding to libyaml, when the installed wheel has it.
_CParser: Any = vars(yaml.cyaml).get("CParser") if getattr(yaml, "__with_libyaml__", False) else None
_FastLoader: type[Any] | None = None
if _CParser is not None:

    class _CStrictLoader(_CParser, yaml.constructor.SafeConstructor, _StrictResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _StrictResolver.__init__(self)

    _FastLoader = _CStrictLoader


@attrs.frozen
class SourceText:
    """The text of one file, with an index of where its lines start."""

    name: str
    text: str
    line_starts: tuple[int, ...] = attrs.field(eq=False, repr=False)

    @classmethod
    def of(cls, name: str, text: str) -> SourceText:
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        return cls(name, text, tuple(starts))

    def position(self, index: int) -> Position:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return Position(self.name, line + 1, index - self.line_starts[line] + 1)


Scalar = str | int | float | bool | None | datetime.date


@attrs.frozen
class YScalar:
    value: Scalar
    position: Position
    source: SourceText = attrs.field(eq=False, repr=False)
    start: int = attrs.field(eq=False, repr=False)
    end: int = attrs.field(eq=False, repr=False)
    style: str | None = attrs.field(eq=False, repr=False)

    def position_at(self, offset: int) -> Position:
        """Where character ``offset`` of this (string) scalar's value sits in the file.

        Quoting, folding and block indentation only change whitespace and the
        delimiters, so the value's characters are matched to the raw text in
        order; an escape sequence that cannot be matched falls back to the
        nearest known place.
        """
        value = self.value if isinstance(self.value, str) else str(self.value)
        raw = self.source.text[self.start : self.end]
        j = 0
        if self.style in ("'", '"'):
            j = 1
        elif self.style in ("|", ">"):
            j = raw.find("\n") + 1 if "\n" in raw else len(raw)
        offset = max(0, min(offset, len(value)))
        for i, ch in enumerate(value):
            k = j
            while (
                k < len(raw)
                and raw[k] != ch
                and (
                    raw[k] in " \t\r\n"
                    or (self.style == '"' and raw[k] == "\\")
                    or (self.style == "'" and raw[k] == "'" and raw[k - 1] == "'")
                )
            ):
                k += 1
            matched = k < len(raw) and raw[k] == ch
            if i == offset:
                return self.source.position(self.start + (k if matched else j))
            if matched:
                j = k + 1
        return self.source.position(self.start + min(j, len(raw)))


@attrs.frozen
class YSeq:
    items: tuple[YNode, ...]
    position: Position


@attrs.frozen
class YMap:
    """A mapping with string keys; ``keys`` keeps each key's own scalar for positions."""

    items: dict[str, YNode] = attrs.field(eq=False)
    keys: dict[str, YScalar] = attrs.field(eq=False, repr=False)
    position: Position

    def get(self, key: str) -> YNode | None:
        return self.items.get(key)


YNode = YScalar | YSeq | YMap


class YamlError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def is_yaml_name(path: Path) -> bool:
    """Whether ``path`` is named like a rule or scenario file."""
    return path.suffix.lower() in RULE_FILE_SUFFIXES and not path.name.startswith(".")


def _kind_of(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _unreadable(path: Path, exc: OSError) -> str:
    if path.is_symlink() and not path.exists():
        return f"it is a symbolic link to `{os.readlink(path)}`, which does not exist"
    return f"cannot read the file: {exc.strerror or exc}"


def read_source(path: Path) -> bytes:
    """The bytes of one rule or scenario file; raise :class:`YamlError` (at ``file:1:1``) if it is not a
    regular file, cannot be read or is larger than :data:`MAX_FILE_BYTES`, all decided before reading it.

    A rule directory loads completely or not at all, so a file that cannot be read is an error, never a
    file skipped: a missing court order would turn a denial into a permit.
    """
    where = Position(str(path), 1, 1)
    try:
        # Look before opening: opening a FIFO waits for a writer, and opening a device can act on it.
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise YamlError(
                Diagnostic(
                    "not_a_file",
                    f"this is {_kind_of(info.st_mode)}, not a regular file",
                    where,
                    help=f"a rule directory holds only files; rename it so it does not end in "
                    f"{' or '.join(RULE_FILE_SUFFIXES)}",
                )
            )
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())  # what was opened, if the name changed since
            if not stat.S_ISREG(info.st_mode):
                raise YamlError(Diagnostic("not_a_file", f"this is {_kind_of(info.st_mode)}", where))
            if info.st_size > MAX_FILE_BYTES:
                raise YamlError(_too_large(where, f"{info.st_size:,} bytes"))
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlError(Diagnostic("io", _unreadable(path, exc), where)) from None
    if len(data) > MAX_FILE_BYTES:  # it grew while being read
        raise YamlError(_too_large(where, f"more than {MAX_FILE_BYTES:,} bytes"))
    return data


def _too_large(where: Position, size: str) -> Diagnostic:
    return Diagnostic(
        "file_too_large",
        f"the file has {size}; the limit is {MAX_FILE_BYTES:,}",
        where,
        help="split it into several files",
    )


def decode_source(path: Path, data: bytes) -> str:
    """The text of a file read by :func:`read_source`; raise :class:`YamlError` if it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(
            Diagnostic(
                "encoding",
                f"the file is not UTF-8 ({exc.reason} at byte {exc.start})",
                _position_of_byte(str(path), data, exc.start),
            )
        ) from None


def _position_of_byte(name: str, data: bytes, index: int) -> Position:
    before = data[:index]
    line_start = before.rfind(b"\n") + 1
    column = len(before[line_start:].decode("utf-8", "replace")) + 1
    return Position(name, before.count(b"\n") + 1, column)


def parse_yaml(name: str, text: str) -> YNode:
    """Parse one YAML document into positioned nodes; raise :class:`YamlError` on any problem."""
    if len(text) > MAX_FILE_CHARS:
        raise YamlError(_too_large(Position(name, 1, 1), f"{len(text):,} characters"))
    source = SourceText.of(name, text)
    if _FastLoader is not None:
        # libyaml is several times faster; any problem is re-read by the pure-Python loader below, so
        # that every message and position comes from one parser.
        fast = _FastLoader(text)
        try:
            root = fast.get_single_node()
            return _Converter(source, fast).convert_root(root, name)
        except (yaml.YAMLError, _SharedNode, YamlError):
            pass
        finally:
            fast.dispose()
    loader = _StrictLoader(text)
    try:
        root = loader.get_single_node()
    except _AliasError as exc:
        mark = exc.problem_mark
        raise YamlError(
            Diagnostic(
                "yaml_alias",
                "anchors and aliases are not allowed in rule files",
                Position(name, mark.line + 1, mark.column + 1) if mark else Position(name, 1, 1),
                help="write the value out where it is needed",
            )
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(name, mark.line + 1, mark.column + 1) if mark else Position(name, 1, 1)
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise YamlError(Diagnostic("yaml_syntax", problem, pos)) from None
    except yaml.YAMLError as exc:
        raise YamlError(Diagnostic("yaml_syntax", str(exc).strip(), Position(name, 1, 1))) from None
    finally:
        loader.dispose()
    return _Converter(source, loader).convert_root(root, name)


class _SharedNode(Exception):
    """libyaml composed an alias into a shared node; the pure-Python loader reports where it is written."""


class _Converter:
    def __init__(self, source: SourceText, loader: yaml.constructor.SafeConstructor) -> None:
        self.source = source
        self.loader = loader
        self.seen: set[int] = set()

    def convert_root(self, root: yaml.Node | None, name: str) -> YNode:
        if root is None:
            return YMap({}, {}, Position(name, 1, 1))
        return self.convert(root)

    def _pos(self, node: yaml.Node) -> Position:
        return self.source.position(node.start_mark.index)

    def convert(self, node: yaml.Node) -> YNode:
        if id(node) in self.seen:
            raise _SharedNode()
        self.seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise YamlError(self._bad_tag(node))
            value = self.loader.construct_object(node, deep=True)
            if isinstance(value, datetime.datetime):
                value = value.date()
            return YScalar(value, self._pos(node), self.source, node.start_mark.index, node.end_mark.index, node.style)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                raise YamlError(self._bad_tag(node))
            return YSeq(tuple(self.convert(item) for item in node.value), self._pos(node))
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                raise YamlError(self._bad_tag(node))
            items: dict[str, YNode] = {}
            keys: dict[str, YScalar] = {}
            for key_node, value_node in node.value:
                key = self.convert(key_node)
                if not isinstance(key, YScalar) or not isinstance(key.value, str):
                    raise YamlError(Diagnostic("yaml_key", "mapping keys must be plain text", self._pos(key_node)))
                if key.value in items:
                    raise YamlError(
                        Diagnostic(
                            "duplicate_key",
                            f"the key `{key.value}` appears twice in this mapping",
                            key.position,
                            help=f"the first is at {keys[key.value].position}",
                        )
                    )
                keys[key.value] = key
                items[key.value] = self.convert(value_node)
            return YMap(items, keys, self._pos(node))
        raise YamlError(Diagnostic("yaml_syntax", "unsupported YAML node", self._pos(node)))  # pragma: no cover

    def _bad_tag(self, node: yaml.Node) -> Diagnostic:
        return Diagnostic(
            "yaml_unsafe_tag",
            f"the tag `{node.tag}` is not allowed in rule files",
            self._pos(node),
            help="use plain YAML values: text, numbers, true/false, dates, lists and mappings",
        )
