"""The vocabulary page: every value, field, fact, chain key and group a request and a rule may use.

Compact, since it is a reference read on phones too: three columns per table (the name, its type, what it means),
each value described in one cell (its label, then its description), a value list headed by its name alone when
its label only repeats it, and the groups in one table, a long list of values folded.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..language.valuetypes import Type
from ..rulebook.vocabulary import Enumeration, GroupDef, Slot, Vocabulary
from .markdown import FOLD_OVER, code, dotted_code, escape, one_line, prose, table


def enum_anchor(name: str) -> str:
    return f"enum-{name}"


def group_anchor(name: str) -> str:
    return f"group-{name}"


def _type(type_: Type) -> str:
    if type_.kind == "enum" and type_.enum:
        return f"[{code(type_.enum)}](#{enum_anchor(type_.enum)})"
    if type_.kind == "set" and type_.enum:
        return f"set of [{code(type_.enum)}](#{enum_anchor(type_.enum)})"
    return {"bool": "true/false", "date": "date (YYYY-MM-DD)", "number": "number", "text": "text"}[type_.kind]


def _meaning(slot: Slot) -> str:
    """The label, then what else the vocabulary says about the slot, and what a fact left out is taken to be."""
    parts = [escape(slot.label) + "."]
    if slot.description:
        parts.append(prose(one_line(slot.description)))
    if slot.negated:
        parts.append(f"When false: *{escape(slot.negated)}*.")
    if slot.must:
        parts.append(f"Required as: *{escape(slot.must)}*.")
    if slot.default is not None and slot.default_when is not None:
        where, member = slot.default_when
        parts.append(
            f"With `{member}` in `{where.removeprefix('facts.')}`: as stated, or presumed {_shown(slot.default)}; "
            f"with that set given without it: {_shown(not slot.default)}, whatever is stated; with the set left "
            "out: as stated, or unknown."
        )
    elif slot.default is not None:
        parts.append(f"If not stated: presumed {_shown(slot.default)}.")
    if slot.agrees_with is not None:
        parts.append(
            f"Says the same thing as {dotted_code(slot.agrees_with.removeprefix('facts.'))}: a request stating the "
            "two differently is refused (`contradicts_itself`)."
        )
    if slot.claims_hop is not None:
        sender, receivers, routes = slot.claims_hop
        parts.append(
            f"Stated {_shown(True)}, it says the data came from {code(sender)} to "
            f"{', '.join(code(r) for r in sorted(receivers))} under one of "
            f"{', '.join(code(r) for r in sorted(routes))}: a request whose holder is one of those agencies and "
            "whose chain shows no such hop is refused (`contradicts_chain`)."
        )
    return " ".join(parts)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return code("true" if value else "false")
    return code(str(value))


def _says_more(label: str, name: str) -> bool:
    """Whether a label says more than the name it labels ("data element" for `element`, not "purpose")."""

    def words(text: str) -> str:
        return " ".join(text.lower().replace("_", " ").split()).removeprefix("the ")

    return words(label) != words(name)


def _groups_of(vocabulary: Vocabulary, enum: str) -> list[GroupDef]:
    return [g for g in vocabulary.groups.values() if g.type.enum == enum]


def _value_meaning(label: str, description: str | None) -> str:
    return escape(label) + (f" — {prose(one_line(description))}" if description else "")


def vocabulary_page(vocabulary: Vocabulary) -> str:
    names = ", ".join(code(n) for n in vocabulary.names)
    lines = [
        "# Vocabulary",
        "",
        f"Every word a request may use and a rule may read, from the vocabulary {names}. A request that uses "
        "anything not declared here is refused with an error; a fact it leaves out is *unknown*, not false, "
        "unless the law presumes otherwise. The [request schema](request.schema.json) says the same in JSON Schema.",
        "",
        "Contents: [request fields](#fields) · [facts](#facts) · [chain of earlier disclosures](#chain) · "
        "[value lists](#enums) · [groups of values](#groups).",
        "",
        *_fields(vocabulary),
        *_facts(vocabulary),
        *_chain(vocabulary),
        "## Value lists {#enums}",
        "",
    ]
    for enum in vocabulary.enums.values():
        lines += _enum(vocabulary, enum)
    lines += _groups(vocabulary)
    return "\n".join(lines)


def _fields(vocabulary: Vocabulary) -> list[str]:
    rows = [
        [code(path), _type(s.type) + (", **required**" if s.required else ""), _meaning(s)]
        for path, s in vocabulary.fields.items()
    ]
    return ["## Request fields {#fields}", "", *_compact(table(["Field", "Type", "Meaning"], rows), typed=True)]


def _facts(vocabulary: Vocabulary) -> list[str]:
    rows = [[dotted_code(path), _type(s.type), _meaning(s)] for path, s in vocabulary.facts.items()]
    return [
        "## Facts {#facts}",
        "",
        "Facts go under `facts` in a request, nested by the parts of their name: `facts.request.in_writing` "
        'is written `{"facts": {"request": {"in_writing": true}}}`. Conditions read them by the full name.',
        "",
        *_compact(table(["Fact", "Type", "Meaning"], rows), typed=True),
    ]


def _chain(vocabulary: Vocabulary) -> list[str]:
    lines = ["## Chain of earlier disclosures {#chain}", ""]
    if not vocabulary.hop:
        return [*lines, "This vocabulary declares no chain.", ""]
    hops = [[code(key), _type(s.type), _meaning(s)] for key, s in vocabulary.hop.items()]
    names = [[code(path), _type(s.type), _meaning(s)] for path, s in vocabulary.chain_projections.items()]
    return [
        *lines,
        "`chain` lists the earlier disclosures the data went through, each hop an object with these keys "
        "(all required):",
        "",
        *_compact(table(["Hop key", "Type", "Meaning"], hops), typed=True),
        "Conditions read the chain through these names, each the set of that key's values over all hops:",
        "",
        *_compact(table(["Name in conditions", "Type", "Meaning"], names), typed=True),
    ]


def _enum(vocabulary: Vocabulary, enum: Enumeration) -> list[str]:
    name = enum.name
    title = f"{code(name)}: {escape(enum.label)}" if _says_more(enum.label, name) else code(name)
    lines = [f"### {title} {{#{enum_anchor(name)}}}", ""]
    if enum.description:
        lines += [prose(one_line(enum.description)), ""]
    users = [code(p) for p, s in _slots(vocabulary).items() if s.type.enum == name]
    if users:
        lines += ["Used by " + ", ".join(users) + ".", ""]
    groups = _groups_of(vocabulary, name)
    header = ["Value", "Meaning"] + (["In groups"] if groups else [])
    rows = [
        [code(v.name), _value_meaning(v.label, v.description)]
        + ([", ".join(_group_link(g.name) for g in groups if v.name in g.values)] if groups else [])
        for v in enum.values.values()
    ]
    return [*lines, *_compact(table(header, rows))]


def _groups(vocabulary: Vocabulary) -> list[str]:
    lines = [
        "## Groups of values {#groups}",
        "",
        "A group names a set of values of one list; conditions use it by name, e.g. `origin overlaps tax_sources`.",
        "",
    ]
    if not vocabulary.groups:
        return [*lines, "This vocabulary declares no group.", ""]
    rows = []
    for name, group in vocabulary.groups.items():
        of = group.type.enum or ""
        anchor = f'<span id="{group_anchor(name)}"></span>'
        meaning = _value_meaning(group.label, group.description)
        rows.append([f"{anchor}{code(name)}", f"[{code(of)}](#{enum_anchor(of)})", meaning, _members(group)])
    return [*lines, *_compact(table(["Group", "Of", "Meaning", "Values"], rows), typed=True)]


def _members(group: GroupDef) -> str:
    listed = ", ".join(code(value) for value in group.values)
    if len(group.values) <= FOLD_OVER:
        return listed
    return f'<details class="values"><summary>{len(group.values)} values</summary>{listed}</details>'


def _group_link(name: str) -> str:
    return f"[{code(name)}](#{group_anchor(name)})"


def _compact(lines: list[str], typed: bool = False) -> list[str]:
    """A table with the page's compact style and the window's width (see ``docs/css/extra.css``); ``typed``: its
    second column is short (a type), and a phone shows it on the line of the first."""
    classes = "wide compact typed" if typed else "wide compact"
    return [f'<div class="{classes}" markdown="1">', "", *lines, "</div>", ""]


def _slots(vocabulary: Vocabulary) -> Mapping[str, Slot]:
    return {**vocabulary.fields, **vocabulary.facts, **{f"chain.{k}": s for k, s in vocabulary.hop.items()}}
