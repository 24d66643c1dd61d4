"""Read YAML safely into nodes that remember where they came from.

PyYAML's ``safe_load`` loses positions and accepts surprises: ``no`` is
false, ``010`` is eight, a repeated key silently wins, an alias can multiply a
small file into a huge one. Rule files are law, so this module composes the
YAML node graph itself with a YAML 1.2-style resolver (only ``true``/``false``
are booleans, only plain decimals are numbers, only ``YYYY-MM-DD`` is a date),
rejects any tag outside the core schema, duplicate keys and aliases, and keeps
each scalar's span so that an error inside a condition can point at the exact
``file:line:column``.

Nothing in a file makes reading it raise anything but :class:`YamlError`, or
take long: a file is refused before it is read if it is not a regular file or
is too large, nodes are composed from the parser's events without recursion
and within limits of depth and count, and a value its tag cannot construct (an
impossible date, ``!!int x``) is an error where it is written.
"""

from __future__ import annotations

import bisect
import datetime
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import attrs
import yaml
import yaml.cyaml

from ..diagnostics import Diagnostic, Position

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
    yaml.constructor.SafeConstructor,
    _StrictResolver,
):
    """PyYAML's own parser: its events, and its messages for syntax errors. Nodes are composed by
    :class:`_Composer`, not by PyYAML's recursive composer."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _StrictResolver.__init__(self)


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
        # libyaml is several times faster. A syntax error is re-read by the pure-Python parser below, so
        # that every message comes from one parser (what the composer refuses, it refuses the same way),
        # except in a large file, where the re-read would take seconds.
        try:
            fast = _FastLoader(text)
        except (yaml.YAMLError, UnicodeError):
            fast = None
        if fast is not None:
            try:
                return _Composer(source, fast).document()
            except yaml.MarkedYAMLError as exc:
                if len(text) > MAX_REREAD_CHARS and exc.problem_mark is not None:
                    raise YamlError(_syntax_error(source, exc)) from None
            except (yaml.YAMLError, UnicodeError):
                pass
            finally:
                fast.dispose()
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as exc:
        raise YamlError(_reader_error(source, exc)) from None
    try:
        return _Composer(source, loader).document()
    except yaml.reader.ReaderError as exc:
        raise YamlError(_reader_error(source, exc)) from None
    except yaml.MarkedYAMLError as exc:
        raise YamlError(_syntax_error(source, exc)) from None
    except yaml.YAMLError as exc:
        raise YamlError(Diagnostic("yaml_syntax", str(exc).strip(), Position(name, 1, 1))) from None
    finally:
        loader.dispose()


MAX_REREAD_CHARS = 100_000
"""Above this size, a syntax error is reported as libyaml words it, not re-read by the slower parser."""


def _syntax_error(source: SourceText, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    position = source.position(min(max(mark.index, 0), len(source.text))) if mark else Position(source.name, 1, 1)
    return Diagnostic("yaml_syntax", (exc.problem or exc.context or "invalid YAML").strip(), position)


def _reader_error(source: SourceText, exc: yaml.reader.ReaderError) -> Diagnostic:
    character = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return Diagnostic(
        "yaml_syntax",
        f"the character U+{ord(character):04X} is not allowed in YAML",
        source.position(min(max(exc.position, 0), len(source.text))),
        help="remove it, or write it as an escape (\\x..) in a double-quoted string",
    )


MAX_DEPTH = 32
"""How deep collections may nest (the bundled files nest 7 deep)."""
MAX_NODES = 20_000
"""How many values (scalars, lists and mappings) one file may hold (the bundled files hold at most 2,600)."""

_StartEvent = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_EndEvent = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


class _Open:
    """A list or mapping being composed: its items so far, and a mapping's key waiting for its value."""

    def __init__(self, event: yaml.Event, position: Position) -> None:
        self.is_map = isinstance(event, yaml.MappingStartEvent)
        self.position = position
        self.items: list[YNode] = []
        self.entries: dict[str, YNode] = {}
        self.keys: dict[str, YScalar] = {}
        self.key: YScalar | None = None

    def add(self, node: YNode, key_position: Position) -> None:
        if not self.is_map:
            self.items.append(node)
        elif self.key is None:
            if not isinstance(node, YScalar) or not isinstance(node.value, str):
                raise YamlError(Diagnostic("yaml_key", "mapping keys must be plain text", key_position))
            if node.value in self.entries or node.value in self.keys:
                raise YamlError(
                    Diagnostic(
                        "duplicate_key",
                        f"the key `{node.value}` appears twice in this mapping",
                        node.position,
                        help=f"the first is at {self.keys[node.value].position}",
                    )
                )
            self.key = node
        else:
            self.keys[self.key.value] = self.key  # type: ignore[index]
            self.entries[self.key.value] = node  # type: ignore[index]
            self.key = None

    def close(self) -> YNode:
        if self.is_map:
            return YMap(self.entries, self.keys, self.position)
        return YSeq(tuple(self.items), self.position)


class _Composer:
    """Builds positioned nodes from a parser's events, without recursion, within :data:`MAX_DEPTH` and
    :data:`MAX_NODES`, refusing aliases where they are written (an alias can multiply a small file into a
    huge one), tags outside the core schema, repeated keys and values their tag cannot construct."""

    def __init__(self, source: SourceText, loader: Any) -> None:
        self.source = source
        self.loader = loader
        self.count = 0

    def document(self) -> YNode:
        loader = self.loader
        loader.get_event()  # the stream starts
        if loader.check_event(yaml.StreamEndEvent):
            return YMap({}, {}, Position(self.source.name, 1, 1))
        loader.get_event()  # the document starts
        root = self.node()
        loader.get_event()  # the document ends
        if not loader.check_event(yaml.StreamEndEvent):
            raise YamlError(
                Diagnostic(
                    "yaml_syntax",
                    "a second YAML document starts here; a file holds one",
                    self._pos(loader.peek_event().start_mark),
                )
            )
        return root

    def _pos(self, mark: Any) -> Position:
        return self.source.position(mark.index)

    def node(self) -> YNode:
        stack: list[_Open] = []
        while True:
            event = self.loader.get_event()
            position = self._pos(event.start_mark)
            if isinstance(event, _EndEvent):
                node = stack.pop().close()
            elif isinstance(event, _StartEvent):
                self._count(event, position, len(stack) + 1)
                stack.append(_Open(event, position))
                continue
            elif isinstance(event, yaml.ScalarEvent):
                self._count(event, position, len(stack))
                node = self._scalar(event, position)
            elif isinstance(event, yaml.AliasEvent):
                raise YamlError(
                    Diagnostic(
                        "yaml_alias",
                        "anchors and aliases are not allowed in rule files",
                        position,
                        help="write the value out where it is needed",
                    )
                )
            else:  # pragma: no cover - the parser gives no other event inside a document
                raise YamlError(Diagnostic("yaml_syntax", "unexpected YAML event", position))
            if not stack:
                return node
            stack[-1].add(node, position)

    def _count(self, event: yaml.Event, position: Position, depth: int) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(
                Diagnostic(
                    "too_large", f"the file holds more than {MAX_NODES:,} values", position, help="split it into files"
                )
            )
        if depth > MAX_DEPTH:
            raise YamlError(
                Diagnostic(
                    "too_deep",
                    f"the YAML nests more than {MAX_DEPTH} levels deep",
                    position,
                    help="rule files need only a few levels",
                )
            )
        if isinstance(event, _StartEvent):
            kind, default = (
                (yaml.MappingNode, _MAP) if isinstance(event, yaml.MappingStartEvent) else (yaml.SequenceNode, _SEQ)
            )
            tag = event.tag if event.tag not in (None, "!") else self.loader.resolve(kind, None, event.implicit)
            if tag != default:
                raise YamlError(_bad_tag(tag, position))

    def _scalar(self, event: Any, position: Position) -> YScalar:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if tag not in _SCALAR_TAGS:
            raise YamlError(_bad_tag(tag, position))
        value: Scalar = event.value if tag == _STR else self._construct(tag, event, position)
        return YScalar(value, position, self.source, event.start_mark.index, event.end_mark.index, event.style)

    def _construct(self, tag: str, event: Any, position: Position) -> Scalar:
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.loader.yaml_constructors[tag](self.loader, node)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError("not finite")
        except Exception:  # each constructor fails its own way (ValueError, KeyError, AttributeError...)
            kind = tag.rsplit(":", 1)[-1]
            what = {"timestamp": "date", "int": "whole number", "float": "finite number", "bool": "true or false"}
            raise YamlError(
                Diagnostic(
                    "bad_value",
                    f"`{_shown(event.value)}` is not a valid {what.get(kind, kind)}",
                    position,
                    help="a date is a real day written YYYY-MM-DD; quote it to make it text"
                    if kind == "timestamp"
                    else "quote it to make it text",
                ),
            ) from None
        if isinstance(value, datetime.datetime):
            value = value.date()
        return value  # type: ignore[no-any-return]


def _shown(text: str) -> str:
    text = text if len(text) <= 40 else text[:37] + "..."
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _bad_tag(tag: str, position: Position) -> Diagnostic:
    return Diagnostic(
        "yaml_unsafe_tag",
        f"the tag `{_shown(tag)}` is not allowed in rule files",
        position,
        help="use plain YAML values: text, numbers, true/false, dates, lists and mappings",
    )
