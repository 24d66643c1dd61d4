"""Build the :class:`~disclosure_rules.rulebook.vocabulary.Vocabulary` from the vocabulary files of a rule directory.

Enumerations come first, because fields, facts, chain keys and groups name them; every problem is reported
to the shared sink with its position.
"""

from __future__ import annotations

import datetime
import re

import attrs

from ..diagnostics import Position, did_you_mean, did_you_mean_or_list
from ..language.template import Template, parse_template
from ..language.valuetypes import SCALAR_KINDS, Type
from ..reading.yamlreader import DiagnosticSink, MappingReader, entries, show
from ..reading.yamlsource import YMap, YNode, YScalar
from .vocabulary import RECEIVED_UNDER, Enumeration, EnumValue, GroupDef, Slot, Vocabulary

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PATH_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
RESERVED_FIELDS = ("facts", "chain", "id")

# The keys each mapping of a vocabulary file may have; the JSON Schema of the vocabulary file
# (fileschema.py) is built from the same tuples.
VOCABULARY_KEYS = ("vocabulary", "title", "description", "enums", "groups", "fields", "facts", "chain", "disclosure")
ENUM_KEYS = ("label", "description", "values")
ENUM_VALUE_KEYS = ("label", "description")
SLOT_KEYS = (
    "type",
    "label",
    "description",
    "required",
    "must",
    "negated",
    "default",
    "default_when",
    "nonempty",
    "claims_hop",
    "agrees_with",
)
WHEN_KEYS = ("fact", "includes")
CLAIM_KEYS = ("from", "to", "routes")
GROUP_KEYS = ("of", "label", "description", "values")


class VocabularyBuilder:
    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink
        self.names: list[str] = []
        self.enums: dict[str, Enumeration] = {}
        self.groups: dict[str, GroupDef] = {}
        self.fields: dict[str, Slot] = {}
        self.facts: dict[str, Slot] = {}
        self.hop: dict[str, Slot] = {}
        self.enum_positions: dict[str, Position] = {}
        self.pending_slots: list[tuple[str, YScalar, YMap, str, dict[str, Slot]]] = []
        self.pending_when: list[tuple[str, YMap]] = []
        self.pending_claims: list[tuple[str, YMap]] = []
        self.pending_agreements: list[tuple[str, YScalar]] = []
        """Facts whose presumption holds only when another fact's set includes a value: checked once every fact
        is read (the other may be declared after)."""
        self.pending_groups: list[tuple[str, YScalar, YMap]] = []
        self.seen_any = False
        self.position: Position | None = None
        self.disclosure: YScalar | None = None

    def add_file(self, root: YMap) -> None:
        self.seen_any = True
        self.position = self.position or root.position
        r = MappingReader(root, "a vocabulary", self.sink)
        r.only(*VOCABULARY_KEYS)
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
            for key, key_node, value in entries(enums):
                self.enum(key, key_node, value)
        for section, target, what in (
            ("fields", self.fields, "field"),
            ("facts", self.facts, "fact"),
            ("chain", self.hop, "chain hop key"),
        ):
            node = r.mapping(section)
            if node is None:
                continue
            for key, key_node, value in entries(node):
                if not isinstance(value, YMap):
                    self.sink.add(
                        "wrong_type", f"the {what} `{key}` must be a mapping with `type` and `label`", value.position
                    )
                    continue
                self.pending_slots.append((key, key_node, value, section, target))
        groups = r.mapping("groups")
        if groups:
            for key, key_node, value in entries(groups):
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
        r = MappingReader(node, f"the enumeration `{name}`", self.sink)
        r.only(*ENUM_KEYS)
        values_node = r.mapping("values", required=True)
        values: dict[str, EnumValue] = {}
        if values_node is not None:
            for value, value_key, spec in entries(values_node):
                if isinstance(spec, YScalar) and isinstance(spec.value, str):
                    values[value] = EnumValue(value, spec.value.strip())
                elif isinstance(spec, YMap):
                    vr = MappingReader(spec, f"the value `{value}` of `{name}`", self.sink)
                    vr.only(*ENUM_VALUE_KEYS)
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
        for path, when in self.pending_when:
            self.default_when(path, when)
        for path, claim in self.pending_claims:
            self.claims_hop(path, claim)
        for path, other in self.pending_agreements:
            self.agrees_with(path, other)
        if not self.seen_any:
            return None
        date = self.fields.get("date")
        if date is None or date.type.kind != "date":
            self.sink.add(
                "missing_key",
                "the vocabulary must declare a field `date` of type `date`",
                self.position,
                help="rules' effective windows are read against it",
            )
        projections = {
            f"chain.{key}": Slot(
                f"chain.{key}", slot.type.set_of(), f"{slot.label} (any earlier hop)", slot.description
            )
            for key, slot in self.hop.items()
            if slot.type.kind == "enum"
        }
        route = self.hop.get("route")
        if route is not None and route.type.kind == "enum" and {"from", "to", "date"} <= set(self.hop):
            projections[RECEIVED_UNDER] = Slot(
                RECEIVED_UNDER,
                route.type.set_of(),
                "the routes under which the holder lawfully received the data",
                "Decided by the rules, not stated: the last hop of the chain must go to the holder, and is "
                "itself decided as a disclosure on its date (with the request's facts and purpose); the route "
                "of the permit that allows it, if any.",
            )
        vocabulary = Vocabulary(
            tuple(self.names), self.enums, self.groups, self.fields, self.facts, self.hop, projections
        )
        if self.disclosure is not None and isinstance(self.disclosure.value, str):
            template = template_or_report(
                self.disclosure, self.disclosure.value.strip(), vocabulary, "the vocabulary's `disclosure`", self.sink
            )
            vocabulary = attrs.evolve(vocabulary, disclosure=template)
        return vocabulary

    def slot(self, key: str, key_node: YScalar, node: YMap, section: str, target: dict[str, Slot]) -> None:
        what = {"fields": "field", "facts": "fact", "chain": "chain hop key"}[section]
        pattern = PATH_PATTERN if section == "facts" else NAME_PATTERN
        reserved = (section == "fields" and key in RESERVED_FIELDS) or (
            section == "chain" and f"chain.{key}" == RECEIVED_UNDER
        )
        if not pattern.match(key) or reserved:
            self.sink.add(
                "bad_name",
                f"`{key}` cannot name a {what}",
                key_node.position,
                help="`facts`, `chain`, `id` and the hop key `received_under` are reserved"
                if reserved
                else "use letters, digits and `_` (and `.` between parts of a fact's name)",
            )
            return
        r = MappingReader(node, f"the {what} `{key}`", self.sink)
        r.only(*SLOT_KEYS)
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
        nonempty = r.boolean("nonempty", default=False)
        if nonempty and type_.kind != "set":
            self.sink.add("wrong_type", "only a set can be declared `nonempty`", r.node.items["nonempty"].position)
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
            path, type_, label, r.text("description"), required, r.text("must"), r.text("negated"), default, nonempty
        )
        when = r.mapping("default_when")
        if when is not None:
            if type_.kind != "bool":
                self.sink.add("wrong_type", "only a true-or-false fact can be tied to another fact", when.position)
            elif default is None:
                message = "`default_when` says when a `default` holds: give the default"
                self.sink.add("missing_key", message, when.position)
            else:
                self.pending_when.append((path, when))
        agreement = r.raw("agrees_with")
        if agreement is not None:
            if section != "facts" or type_.kind != "bool" or not isinstance(agreement, YScalar):
                message = "only a true-or-false fact can agree with another, named by its path"
                self.sink.add("wrong_type", message, agreement.position)
            else:
                self.pending_agreements.append((path, agreement))
        claim = r.mapping("claims_hop")
        if claim is not None:
            if section != "facts" or type_.kind != "bool":
                self.sink.add("wrong_type", "only a true-or-false fact can claim how the data came", claim.position)
            else:
                self.pending_claims.append((path, claim))

    def default(self, r: MappingReader, type_: Type, section: str) -> object:
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

    def default_when(self, path: str, node: YMap) -> None:
        """``default_when: {fact: F, includes: V}``: the fact at ``path`` is tied to whether the request's set of
        values at fact ``F`` includes ``V`` (see Slot.default_when)."""
        r = MappingReader(node, f"the `default_when` of `{path}`", self.sink)
        r.only(*WHEN_KEYS)
        fact, member = r.scalar("fact", required=True), r.scalar("includes", required=True)
        if fact is None or member is None:
            return
        other = self._fact_of(fact, "set", "a fact holding a set of values")
        if other is None or not self._enum_value(member, other.type):
            return
        self.facts[path] = attrs.evolve(self.facts[path], default_when=(other.path, str(member.value)))

    def claims_hop(self, path: str, node: YMap) -> None:
        """``claims_hop: {from: S, to: T, routes: G}``: the fact at ``path``, stated true, says the data came from
        ``S`` to an agency of the group ``T`` under a route of the group ``G`` (see Slot.claims_hop)."""
        r = MappingReader(node, f"the `claims_hop` of `{path}`", self.sink)
        r.only(*CLAIM_KEYS)
        sender = r.scalar("from", required=True)
        receivers, routes = r.scalar("to", required=True), r.scalar("routes", required=True)
        if sender is None or receivers is None or routes is None:
            return
        hop_from, hop_to, hop_route = self.hop.get("from"), self.hop.get("to"), self.hop.get("route")
        if hop_from is None or hop_to is None or hop_route is None:
            self.sink.add(
                "missing_key", "a chain's hops must give `from`, `to` and `route` to claim a hop", node.position
            )
            return
        if not self._enum_value(sender, hop_from.type):
            return
        to_group = self._group_of(receivers, hop_to.type)
        route_group = self._group_of(routes, hop_route.type)
        if to_group is None or route_group is None:
            return
        claim = (str(sender.value), frozenset(to_group.values), frozenset(route_group.values))
        self.facts[path] = attrs.evolve(self.facts[path], claims_hop=claim)

    def agrees_with(self, path: str, node: YScalar) -> None:
        """``agrees_with: F``: the fact at ``path`` and the fact ``F`` say the same thing (see Slot.agrees_with)."""
        other = self._fact_of(node, "bool", "another true-or-false fact", besides=path)
        if other is None:
            return
        self.facts[path] = attrs.evolve(self.facts[path], agrees_with=other.path)

    def _fact_of(self, name: YScalar, kind: str, what: str, besides: str | None = None) -> Slot | None:
        """The fact ``name`` names, if it holds a value of ``kind`` and is not ``besides`` (else reported as not
        being ``what``)."""
        fact = self.facts.get(f"facts.{name.value}")
        if fact is None or fact.type.kind != kind or fact.path == besides:
            known = [p[len("facts.") :] for p, s in self.facts.items() if s.type.kind == kind and p != besides]
            self.sink.add(
                "unknown_fact",
                f"`{show(name.value)}` is not {what}",
                name.position,
                help=did_you_mean_or_list(str(name.value), known),
            )
            return None
        return fact

    def _enum_value(self, value: YScalar, type_: Type) -> bool:
        """Whether ``value`` is a value of ``type_``'s enumeration (else reported)."""
        values = self.enums[type_.enum].values if type_.enum in self.enums else ()
        if value.value in values:
            return True
        self.sink.add(
            "unknown_value",
            f"`{show(value.value)}` is not a value of `{type_.enum}`",
            value.position,
            help=did_you_mean_or_list(str(value.value), values),
        )
        return False

    def _group_of(self, name: YScalar, type_: Type) -> GroupDef | None:
        """The group ``name`` names, if it is a group of values of ``type_`` (else reported)."""
        group = self.groups.get(str(name.value))
        if group is None or group.type != type_.set_of():
            known = [g.name for g in self.groups.values() if g.type == type_.set_of()]
            self.sink.add(
                "unknown_name",
                f"`{show(name.value)}` is not a group of `{type_.enum}`",
                name.position,
                help=did_you_mean_or_list(str(name.value), known),
            )
            return None
        return group

    def group(self, name: str, key_node: YScalar, node: YMap) -> None:
        if not NAME_PATTERN.match(name):
            self.sink.add("bad_name", f"`{name}` cannot name a group", key_node.position)
            return
        if name in self.fields:
            self.sink.add("duplicate_name", f"the group `{name}` has the name of a field", key_node.position)
            return
        r = MappingReader(node, f"the group `{name}`", self.sink)
        r.only(*GROUP_KEYS)
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


def template_or_report(scalar: YScalar, text: str, vocabulary: Vocabulary, what: str, sink: DiagnosticSink) -> Template:
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
