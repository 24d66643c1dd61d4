"""Load a rule directory: YAML files in, a checked :class:`~disclosure_rules.model.Rulebook` out.

A rule directory holds ``*.yaml`` files (not its subdirectories): one or more
vocabulary files (top-level key ``vocabulary``) and rule-set files (top-level key
``ruleset``). Loading parses every file, builds the vocabulary, parses and
type-checks every condition, and then checks the whole: unique ids and names,
``exception_to`` targets that exist, no cycle of exceptions or of definitions,
templates that quote known paths. Every problem found is collected with its
``file:line:column``; if there is any, :class:`~disclosure_rules.diagnostics.LoadError`
is raised and nothing is returned, so a rule set that does not load is never half-used.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path as FilePath
from typing import TypeVar

import attrs

from .ast import And, Expr, Value
from .diagnostics import Diagnostic, LoadError, Position, did_you_mean
from .grammar import ConditionSyntaxError, parse_condition
from .model import (
    CONFIDENCE_LEVELS,
    Definition,
    Effective,
    Note,
    Obligation,
    Rule,
    Rulebook,
    RulebookInfo,
    RuleSet,
)
from .template import Template, parse_template
from .typecheck import check_condition, references
from .valuetypes import SCALAR_KINDS, Type
from .vocabulary import Enumeration, EnumValue, GroupDef, Slot, Vocabulary
from .yamlsource import YamlError, YMap, YNode, YScalar, YSeq, parse_yaml

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()\-]*$")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PATH_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
RESERVED_FIELDS = ("facts", "chain")

T = TypeVar("T")


class _Sink:
    """Collects diagnostics while loading continues, so every mistake is reported at once."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, position: Position | None, help: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, position, help=help))


class _Reader:
    """Typed access to one YAML mapping, reporting wrong types and unknown keys."""

    def __init__(self, node: YMap, what: str, sink: _Sink) -> None:
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
                    help=did_you_mean(key, allowed) or "allowed: " + ", ".join(f"`{a}`" for a in allowed),
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
                f"`{key}` of {self.what} must be text, not `{_show(node.value)}`",
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


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _entries(node: YMap) -> Iterable[tuple[str, YScalar, YNode]]:
    for key, value in node.items.items():
        yield key, node.keys[key], value


# -- vocabulary -------------------------------------------------------------------------------


class _VocabularyBuilder:
    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.names: list[str] = []
        self.enums: dict[str, Enumeration] = {}
        self.groups: dict[str, GroupDef] = {}
        self.fields: dict[str, Slot] = {}
        self.facts: dict[str, Slot] = {}
        self.hop: dict[str, Slot] = {}
        self.enum_positions: dict[str, Position] = {}
        self.pending_slots: list[tuple[str, YScalar, YMap, str, dict[str, Slot]]] = []
        self.pending_groups: list[tuple[str, YScalar, YMap]] = []
        self.seen_any = False
        self.disclosure: YScalar | None = None

    def add_file(self, root: YMap) -> None:
        self.seen_any = True
        r = _Reader(root, "a vocabulary", self.sink)
        r.only("vocabulary", "title", "description", "enums", "groups", "fields", "facts", "chain", "disclosure")
        name = r.text("vocabulary", required=True)
        if name:
            self.names.append(name)
        disclosure = r.scalar("disclosure")
        if disclosure is not None:
            if self.disclosure is not None:
                self.sink.add("duplicate_name", "`disclosure` is given by two vocabulary files", disclosure.position)
            self.disclosure = disclosure
        enums = r.mapping("enums")
        if enums:
            for key, key_node, value in _entries(enums):
                self.enum(key, key_node, value)
        for section, target, what in (
            ("fields", self.fields, "field"),
            ("facts", self.facts, "fact"),
            ("chain", self.hop, "chain hop key"),
        ):
            node = r.mapping(section)
            if node is None:
                continue
            for key, key_node, value in _entries(node):
                if not isinstance(value, YMap):
                    self.sink.add(
                        "wrong_type", f"the {what} `{key}` must be a mapping with `type` and `label`", value.position
                    )
                    continue
                self.pending_slots.append((key, key_node, value, section, target))
        groups = r.mapping("groups")
        if groups:
            for key, key_node, value in _entries(groups):
                if isinstance(value, YMap):
                    self.pending_groups.append((key, key_node, value))
                else:
                    self.sink.add(
                        "wrong_type", f"the group `{key}` must be a mapping with `of` and `values`", value.position
                    )

    def enum(self, name: str, key_node: YScalar, node: YNode) -> None:
        if not NAME_PATTERN.match(name) or name in SCALAR_KINDS or name == "set":
            self.sink.add(
                "bad_name",
                f"`{name}` cannot name an enumeration",
                key_node.position,
                help="use letters, digits and `_`, and not a built-in type name",
            )
            return
        if name in self.enums:
            self.sink.add(
                "duplicate_name",
                f"the enumeration `{name}` is declared twice",
                key_node.position,
                help=f"the first is at {self.enum_positions[name]}",
            )
            return
        if not isinstance(node, YMap):
            self.sink.add("wrong_type", f"the enumeration `{name}` must be a mapping with `values`", node.position)
            return
        r = _Reader(node, f"the enumeration `{name}`", self.sink)
        r.only("label", "description", "values")
        values_node = r.mapping("values", required=True)
        values: dict[str, EnumValue] = {}
        if values_node is not None:
            for value, value_key, spec in _entries(values_node):
                if isinstance(spec, YScalar) and isinstance(spec.value, str):
                    values[value] = EnumValue(value, spec.value.strip())
                elif isinstance(spec, YMap):
                    vr = _Reader(spec, f"the value `{value}` of `{name}`", self.sink)
                    vr.only("label", "description")
                    values[value] = EnumValue(value, vr.text("label", required=True) or value, vr.text("description"))
                else:
                    self.sink.add("wrong_type", f"the value `{value}` of `{name}` needs a label", value_key.position)
        self.enums[name] = Enumeration(name, r.text("label") or name, values, r.text("description"))
        self.enum_positions[name] = key_node.position

    def parse_type(self, text: str, position: Position) -> Type | None:
        words = text.split()
        if len(words) == 1 and words[0] in SCALAR_KINDS:
            return Type(words[0])  # type: ignore[arg-type]
        if len(words) == 1 and words[0] in self.enums:
            return Type("enum", words[0])
        if len(words) == 3 and words[:2] == ["set", "of"] and words[2] in self.enums:
            return Type("set", words[2])
        unknown = words[-1]
        self.sink.add(
            "unknown_type",
            f"`{text}` is not a type",
            position,
            help=did_you_mean(unknown, [*SCALAR_KINDS, *self.enums])
            or "use bool, date, number, text, an enumeration, or `set of` an enumeration",
        )
        return None

    def finish(self) -> Vocabulary | None:
        for key, key_node, node, section, target in self.pending_slots:
            self.slot(key, key_node, node, section, target)
        for key, key_node, node in self.pending_groups:
            self.group(key, key_node, node)
        if not self.seen_any:
            return None
        date = self.fields.get("date")
        if date is None or date.type.kind != "date":
            self.sink.add(
                "missing_key",
                "the vocabulary must declare a field `date` of type `date`",
                None,
                help="rules' effective windows are read against it",
            )
        projections = {
            f"chain.{key}": Slot(
                f"chain.{key}", slot.type.set_of(), f"{slot.label} (any earlier hop)", slot.description
            )
            for key, slot in self.hop.items()
            if slot.type.kind == "enum"
        }
        vocabulary = Vocabulary(
            tuple(self.names), self.enums, self.groups, self.fields, self.facts, self.hop, projections
        )
        if self.disclosure is not None and isinstance(self.disclosure.value, str):
            template = _template(
                self.disclosure, self.disclosure.value.strip(), vocabulary, "the vocabulary's `disclosure`", self.sink
            )
            vocabulary = attrs.evolve(vocabulary, disclosure=template)
        return vocabulary

    def slot(self, key: str, key_node: YScalar, node: YMap, section: str, target: dict[str, Slot]) -> None:
        what = {"fields": "field", "facts": "fact", "chain": "chain hop key"}[section]
        pattern = PATH_PATTERN if section == "facts" else NAME_PATTERN
        if not pattern.match(key) or (section == "fields" and key in RESERVED_FIELDS):
            self.sink.add(
                "bad_name",
                f"`{key}` cannot name a {what}",
                key_node.position,
                help="`facts` and `chain` are reserved"
                if key in RESERVED_FIELDS
                else "use letters, digits and `_` (and `.` between parts of a fact's name)",
            )
            return
        r = _Reader(node, f"the {what} `{key}`", self.sink)
        r.only("type", "label", "description", "required", "must", "negated", "default")
        type_text = r.text("type", required=True)
        label = r.text("label", required=True)
        type_ = self.parse_type(type_text, r.node.items["type"].position) if type_text else None
        required = r.boolean("required", default=False)
        if required and section == "facts":
            self.sink.add("wrong_type", "facts cannot be required: an absent fact is unknown", key_node.position)
        if type_ is None or label is None:
            return
        if section == "chain" and type_.kind == "set":
            self.sink.add("wrong_type", "a chain hop key holds one value, not a set", key_node.position)
        path = f"facts.{key}" if section == "facts" else key
        if section == "facts":
            clash = [p for p in target if p.startswith(path + ".") or path.startswith(p + ".")]
            if clash:
                self.sink.add(
                    "duplicate_name",
                    f"the fact `{key}` clashes with `{clash[0][len('facts.') :]}`",
                    key_node.position,
                    help="a fact cannot also be a group of facts",
                )
                return
        if section == "chain":
            required = True
        default = self.default(r, type_, section) if r.has("default") else None
        target[path] = Slot(
            path, type_, label, r.text("description"), required, r.text("must"), r.text("negated"), default
        )

    def default(self, r: _Reader, type_: Type, section: str) -> object:
        node = r.raw("default")
        assert node is not None
        if section != "facts":
            self.sink.add("wrong_type", "only facts can have a default", node.position)
            return None
        value = node.value if isinstance(node, YScalar) else None
        ok = {
            "bool": isinstance(value, bool),
            "number": isinstance(value, (int, float)) and not isinstance(value, bool),
            "text": isinstance(value, str),
            "date": isinstance(value, datetime.date),
            "enum": isinstance(value, str) and type_.enum in self.enums and value in self.enums[type_.enum].values,
            "set": False,
        }[type_.kind]
        if not ok:
            self.sink.add(
                "wrong_type",
                f"the default must be a {type_}" if type_.kind != "set" else "a set cannot have a default",
                node.position,
            )
            return None
        return value

    def group(self, name: str, key_node: YScalar, node: YMap) -> None:
        if not NAME_PATTERN.match(name):
            self.sink.add("bad_name", f"`{name}` cannot name a group", key_node.position)
            return
        if name in self.fields:
            self.sink.add("duplicate_name", f"the group `{name}` has the name of a field", key_node.position)
            return
        r = _Reader(node, f"the group `{name}`", self.sink)
        r.only("of", "label", "description", "values")
        of = r.text("of", required=True)
        label = r.text("label", required=True) or name
        if of is None:
            return
        if of not in self.enums:
            self.sink.add(
                "unknown_type",
                f"`{of}` is not an enumeration",
                r.node.items["of"].position,
                help=did_you_mean(of, self.enums),
            )
            return
        enum = self.enums[of]
        values: list[str] = []
        for value, scalar in r.texts("values"):
            if value not in enum.values:
                self.sink.add(
                    "unknown_value",
                    f"`{value}` is not a value of `{of}`",
                    scalar.position,
                    help=did_you_mean(value, enum.values),
                )
            elif value not in values:
                values.append(value)
        self.groups[name] = GroupDef(name, Type("set", of), tuple(values), label, r.text("description"))


# -- rule sets ------------------------------------------------------------------------------


def _condition_source(parts: list[tuple[str, YScalar]]) -> str:
    """The condition as one text (a list of conditions reads as their conjunction)."""
    texts = [" ".join(text.split()) for text, _ in parts]
    if len(texts) == 1:
        return texts[0]
    return "\nand ".join(f"({t})" for t in texts)


class _RuleSetBuilder:
    """Reads one rule-set file; conditions are checked later, once every definition is known."""

    def __init__(self, file: str, root: YMap, sink: _Sink) -> None:
        self.file = file
        self.sink = sink
        self.definitions: list[tuple[str, YScalar, _Reader, list[tuple[str, YScalar]]]] = []
        self.rules: list[tuple[str, YScalar | YMap, _Reader, list[tuple[str, YScalar]]]] = []
        self.obligations: list[Obligation] = []
        r = _Reader(root, "a rule set", sink)
        r.only("ruleset", "title", "source", "url", "description", "definitions", "obligations", "rules")
        self.name = r.text("ruleset", required=True) or file
        self.title = r.text("title", required=True) or self.name
        self.source = r.text("source", required=True) or ""
        self.url = r.text("url")
        self.description = r.text("description")
        self.position = root.position
        definitions = r.mapping("definitions")
        if definitions:
            for name, key_node, node in _entries(definitions):
                self.read_definition(name, key_node, node)
        obligations = r.mapping("obligations")
        if obligations:
            for oid, key_node, node in _entries(obligations):
                self.read_obligation(oid, key_node, node)
        rules = r.sequence("rules")
        if rules is None and not r.has("rules") and not self.definitions and not self.obligations:
            sink.add("missing_key", "a rule set needs `rules`, `definitions` or `obligations`", root.position)
        for node in rules.items if rules else ():
            if not isinstance(node, YMap):
                sink.add("wrong_type", "each rule must be a mapping", node.position)
                continue
            rr = _Reader(node, "a rule", sink)
            rid = rr.text("id", required=True)
            if rid is None:
                continue
            what = f"the rule `{rid}`"
            rr.what = what
            self.rules.append((rid, node.keys["id"], rr, self.condition_parts(rr, what)))

    def condition_parts(self, r: _Reader, what: str) -> list[tuple[str, YScalar]]:
        node = r.raw("when", required=True)
        if node is None:
            return []
        items = node.items if isinstance(node, YSeq) else (node,)
        out = []
        for item in items:
            if isinstance(item, YScalar) and isinstance(item.value, str):
                out.append((item.value, item))
            elif isinstance(item, YScalar) and isinstance(item.value, bool):
                out.append(("true" if item.value else "false", item))
            else:
                self.sink.add(
                    "wrong_type",
                    f"`when` of {what} must be a condition or a list of conditions",
                    item.position,
                    help="write the condition as text; quote it if it starts with `[` or `{`",
                )
        if isinstance(node, YSeq) and not out:
            self.sink.add("wrong_type", f"`when` of {what} is an empty list", node.position)
        return out

    def read_definition(self, name: str, key_node: YScalar, node: YNode) -> None:
        if not NAME_PATTERN.match(name):
            self.sink.add(
                "bad_name",
                f"`{name}` cannot name a definition",
                key_node.position,
                help="use letters, digits and `_`, so conditions can refer to it",
            )
            return
        if not isinstance(node, YMap):
            self.sink.add(
                "wrong_type", f"the definition `{name}` must be a mapping with `label` and `when`", node.position
            )
            return
        r = _Reader(node, f"the definition `{name}`", self.sink)
        r.only("label", "must", "negated", "citation", "when", "notes", "description")
        self.definitions.append((name, key_node, r, self.condition_parts(r, f"the definition `{name}`")))

    def read_obligation(self, oid: str, key_node: YScalar, node: YNode) -> None:
        if not ID_PATTERN.match(oid):
            self.sink.add("bad_name", f"`{oid}` cannot name an obligation", key_node.position)
            return
        if not isinstance(node, YMap):
            self.sink.add(
                "wrong_type", f"the obligation `{oid}` must be a mapping with `text` and `citation`", node.position
            )
            return
        r = _Reader(node, f"the obligation `{oid}`", self.sink)
        r.only("text", "citation")
        text = r.text("text", required=True)
        citation = r.text("citation")
        if citation is None and "citation" not in r.node.items:
            self.sink.add(
                "missing_citation",
                f"the obligation `{oid}` has no citation",
                key_node.position,
                help="every obligation names the provision that imposes it",
            )
        if text and citation:
            self.obligations.append(Obligation(oid, text, citation, self.name, key_node.position))


def _notes(r: _Reader, sink: _Sink) -> tuple[Note, ...]:
    node = r.raw("notes")
    if node is None:
        return ()
    items = node.items if isinstance(node, YSeq) else (node,)
    out: list[Note] = []
    for item in items:
        if isinstance(item, YScalar) and isinstance(item.value, str):
            out.append(Note(item.value.strip()))
        elif isinstance(item, YMap):
            nr = _Reader(item, "a note", sink)
            nr.only("text", "source", "confidence")
            text = nr.text("text", required=True)
            confidence = nr.text("confidence")
            if confidence is not None and confidence not in CONFIDENCE_LEVELS:
                sink.add(
                    "unknown_value",
                    f"`{confidence}` is not a confidence level",
                    item.items["confidence"].position,
                    help="use high, medium or low",
                )
                confidence = None
            if text:
                out.append(Note(text, nr.text("source"), confidence))  # type: ignore[arg-type]
        else:
            sink.add("wrong_type", "a note must be text or a mapping with `text`", item.position)
    return tuple(out)


def _template(scalar: YScalar, text: str, vocabulary: Vocabulary, what: str, sink: _Sink) -> Template:
    template, problems = parse_template(text, lambda path: vocabulary.slot(path) is not None)
    for problem in problems:
        sink.add(
            "bad_template",
            f"in {what}: {problem.message}",
            scalar.position_at(problem.offset),
            help=problem.help
            or did_you_mean(text[problem.offset :].split("}")[0].strip(), vocabulary.readable_paths()),
        )
    return template


# -- whole directory ------------------------------------------------------------------------


def rule_files(directory: FilePath) -> list[FilePath]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_rulebook(directory: str | FilePath) -> Rulebook:
    """Load and check every rule file of ``directory``; raise :class:`LoadError` listing every problem."""
    root = FilePath(directory)
    sink = _Sink()
    if not root.is_dir():
        raise LoadError([Diagnostic("no_rules", f"`{root}` is not a directory of rule files")])
    files = rule_files(root)
    if not files:
        raise LoadError([Diagnostic("no_rules", f"`{root}` holds no `*.yaml` rule files")])
    digest = hashlib.sha256()
    vocab_builder = _VocabularyBuilder(sink)
    builders: list[_RuleSetBuilder] = []
    for path in files:
        name = str(path)
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            sink.add("encoding", f"the file is not UTF-8 ({exc.reason} at byte {exc.start})", Position(name, 1, 1))
            continue
        except OSError as exc:
            sink.add("io", f"cannot read the file: {exc.strerror}", Position(name, 1, 1))
            continue
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        try:
            node = parse_yaml(name, text)
        except YamlError as exc:
            sink.items.append(exc.diagnostic)
            continue
        if not isinstance(node, YMap):
            sink.add("wrong_type", "a rule file must be a mapping", node.position)
        elif "vocabulary" in node.items:
            vocab_builder.add_file(node)
        elif "ruleset" in node.items:
            builders.append(_RuleSetBuilder(name, node, sink))
        else:
            sink.add(
                "unknown_file",
                "this file is neither a vocabulary nor a rule set",
                node.position,
                help="start it with `vocabulary: <name>` or `ruleset: <name>`",
            )
    vocabulary = vocab_builder.finish()
    if vocabulary is None:
        sink.add(
            "no_vocabulary",
            f"`{root}` holds no vocabulary file",
            None,
            help="add a file that starts with `vocabulary: <name>`",
        )
    if sink.items or vocabulary is None:
        # Conditions cannot be checked against a broken vocabulary; report what we have.
        raise LoadError(sink.items)
    book = _assemble(vocabulary, builders, sink, "sha256:" + digest.hexdigest())
    if sink.items:
        raise LoadError(sink.items)
    return book


def _first_position(what: Mapping[str, Position], key: str) -> str:
    pos = what.get(key)
    return f"the first is at {pos}" if pos else ""


def _assemble(vocabulary: Vocabulary, builders: list[_RuleSetBuilder], sink: _Sink, digest: str) -> Rulebook:
    definition_names: dict[str, Position] = {}
    for b in builders:
        for name, key_node, _r, _parts in b.definitions:
            if name in definition_names:
                sink.add(
                    "duplicate_name",
                    f"the definition `{name}` is declared twice",
                    key_node.position,
                    help=_first_position(definition_names, name),
                )
            elif name in vocabulary.groups or name in vocabulary.fields:
                sink.add(
                    "duplicate_name", f"the definition `{name}` has the name of a vocabulary entry", key_node.position
                )
            else:
                definition_names[name] = key_node.position

    def condition(parts: list[tuple[str, YScalar]], what: str) -> tuple[Expr, str] | None:
        checked: list[Expr] = []
        ok = bool(parts)
        for text, scalar in parts:
            try:
                parsed = parse_condition(text)
            except ConditionSyntaxError as exc:
                sink.add("condition_syntax", f"in {what}: {exc.message}", scalar.position_at(exc.offset), help=exc.help)
                ok = False
                continue
            tree, issues = check_condition(parsed, vocabulary, definition_names)
            for issue in issues:
                sink.add(issue.code, f"in {what}: {issue.message}", scalar.position_at(issue.span[0]), help=issue.help)
            ok = ok and not issues
            checked.append(tree)
        if not ok:
            return None
        tree = checked[0] if len(checked) == 1 else And(tuple(checked))
        return tree, _condition_source(parts)

    definitions: dict[str, Definition] = {}
    obligations: dict[str, Obligation] = {}
    rules: dict[str, Rule] = {}
    rule_positions: dict[str, Position] = {}
    rulesets: list[RuleSet] = []
    pending_exceptions: list[tuple[str, str, YScalar]] = []

    for b in builders:
        for name, key_node, r, parts in b.definitions:
            what = f"the definition `{name}`"
            label = r.text("label", required=True)
            built = condition(parts, what)
            notes = _notes(r, sink)
            if built is None or label is None:
                continue
            definitions.setdefault(
                name,
                Definition(
                    name,
                    label,
                    built[0],
                    built[1],
                    b.name,
                    r.text("must"),
                    r.text("negated"),
                    r.text("citation"),
                    notes,
                    key_node.position,
                ),
            )
        for ob in b.obligations:
            if ob.id in obligations:
                sink.add(
                    "duplicate_name",
                    f"the obligation `{ob.id}` is declared twice",
                    ob.position,
                    help=f"the first is at {obligations[ob.id].position}",
                )
            else:
                obligations[ob.id] = ob

    for b in builders:
        ids: list[str] = []
        for rid, id_node, r, parts in b.rules:
            what = f"the rule `{rid}`"
            id_pos = id_node.position
            if not ID_PATTERN.match(rid):
                sink.add(
                    "bad_name",
                    f"`{rid}` cannot be a rule id",
                    id_pos,
                    help="use letters, digits, `-`, `_`, `.` and brackets",
                )
                continue
            if rid in rules or rid in rule_positions:
                sink.add(
                    "duplicate_id",
                    f"the rule id `{rid}` is used twice",
                    id_pos,
                    help=_first_position(rule_positions, rid),
                )
                continue
            rule_positions[rid] = id_pos
            r.only(
                "id", "title", "kind", "citation", "when", "exception_to", "effective", "reason", "obligations", "notes"
            )
            title = r.text("title", required=True)
            kind = r.text("kind", required=True)
            if kind is not None and kind not in ("permit", "forbid"):
                sink.add(
                    "unknown_value",
                    f"`{kind}` is not a rule kind",
                    r.node.items["kind"].position,
                    help="use `permit` or `forbid`",
                )
                kind = None
            citation = r.text("citation")
            if citation is None and "citation" not in r.node.items:
                sink.add(
                    "missing_citation",
                    f"{what} has no citation",
                    id_pos,
                    help="give the pinpoint citation, e.g. `26 U.S.C. § 6103(i)(2)(B)`",
                )
            effective = _effective(r, what, sink)
            for target, scalar in r.texts("exception_to"):
                pending_exceptions.append((rid, target, scalar))
            reason_node = r.scalar("reason", required=True)
            reason_text = r.text("reason")
            reason = (
                _template(reason_node, reason_text, vocabulary, what, sink)
                if reason_node is not None and reason_text
                else None
            )
            wanted: list[str] = []
            for oid, scalar in r.texts("obligations"):
                if oid not in obligations:
                    sink.add(
                        "unknown_obligation",
                        f"{what} lists the obligation `{oid}`, which is not declared",
                        scalar.position,
                        help=did_you_mean(oid, obligations),
                    )
                else:
                    wanted.append(oid)
            notes = _notes(r, sink)
            built = condition(parts, what)
            if kind == "forbid" and wanted:
                sink.add(
                    "wrong_type",
                    f"{what} forbids, so it cannot carry obligations",
                    r.node.items["obligations"].position,
                )
            if None in (title, kind, citation, reason, built, effective):
                continue
            assert built is not None and effective is not None and reason is not None
            rules[rid] = Rule(
                rid,
                title or rid,
                kind,  # type: ignore[arg-type]
                citation or "",
                built[0],
                built[1],
                b.name,
                reason,
                (),
                effective,
                tuple(wanted),
                notes,
                id_pos,
            )
            ids.append(rid)
        rulesets.append(
            RuleSet(
                b.name,
                b.title,
                b.source,
                b.file,
                tuple(ids),
                tuple(n for n, *_ in b.definitions),
                tuple(o.id for o in b.obligations),
                b.description,
                b.url,
            )
        )

    seen_sets: dict[str, str] = {}
    for rs in rulesets:
        if rs.name in seen_sets:
            sink.add(
                "duplicate_name",
                f"the rule set name `{rs.name}` is used twice",
                Position(rs.file, 1, 1),
                help=f"also in {seen_sets[rs.name]}",
            )
        seen_sets[rs.name] = rs.file

    exception_to: dict[str, list[str]] = {rid: [] for rid in rules}
    for rid, target, scalar in pending_exceptions:
        if target not in rule_positions:
            sink.add(
                "unknown_rule",
                f"the rule `{rid}` is an exception to `{target}`, which does not exist",
                scalar.position,
                help=did_you_mean(target, rule_positions),
            )
        elif target == rid:
            sink.add("exception_cycle", f"the rule `{rid}` cannot be an exception to itself", scalar.position)
        elif rid in exception_to and target not in exception_to[rid]:
            exception_to[rid].append(target)
    for rid, targets in exception_to.items():
        rules[rid] = _with_exceptions(rules[rid], tuple(targets))

    _check_cycles(
        {rid: list(r.exception_to) for rid, r in rules.items()},
        rule_positions,
        sink,
        "exception_cycle",
        lambda cycle: "exceptions form a cycle: " + " -> ".join(f"`{c}`" for c in cycle),
    )
    _check_cycles(
        {name: sorted(references(d.condition)) for name, d in definitions.items()},
        {name: d.position for name, d in definitions.items() if d.position},
        sink,
        "definition_cycle",
        lambda cycle: "definitions refer to each other in a cycle: " + " -> ".join(f"`{c}`" for c in cycle),
    )
    for rule in rules.values():
        if (
            rule.kind == "permit"
            and isinstance(rule.condition, Value)
            and rule.condition.value is True
            and rule.effective.always
            and not rule.exception_to
        ):
            sink.add(
                "unconditional_permit",
                f"the rule `{rule.id}` permits every disclosure at all times",
                rule.position,
                help="give it a condition or make it an exception to a narrower rule",
            )
    return Rulebook(
        vocabulary,
        tuple(rulesets),
        rules,
        definitions,
        obligations,
        RulebookInfo(tuple(rs.name for rs in rulesets), digest),
    )


def _with_exceptions(rule: Rule, targets: tuple[str, ...]) -> Rule:
    return attrs.evolve(rule, exception_to=targets)


def _effective(r: _Reader, what: str, sink: _Sink) -> Effective | None:
    node = r.mapping("effective")
    if node is None:
        return None if r.has("effective") else Effective()
    er = _Reader(node, f"`effective` of {what}", sink)
    er.only("from", "until")
    start, end = er.date("from"), er.date("until")
    if start and end and end < start:
        sink.add("empty_window", f"{what} ends ({end}) before it starts ({start})", node.position)
        return None
    return Effective(start, end)


def _check_cycles(
    graph: Mapping[str, list[str]],
    positions: Mapping[str, Position],
    sink: _Sink,
    code: str,
    message: Callable[[list[str]], str],
) -> None:
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    sink.add(code, message(cycle), positions.get(nxt))
            elif state.get(nxt) is None and nxt in graph:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])
