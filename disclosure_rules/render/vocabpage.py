"""The vocabulary page: every value, field, fact, chain key and group a request and a rule may use."""

from __future__ import annotations

from collections.abc import Mapping

from ..valuetypes import Type
from ..vocabulary import GroupDef, Slot, Vocabulary
from .markdown import code, dotted_code, escape, one_line, prose, table


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
    """The label, then what else the vocabulary says about the slot."""
    parts = [escape(slot.label) + "."]
    if slot.description:
        parts.append(prose(one_line(slot.description)))
    if slot.negated:
        parts.append(f"When false: *{escape(slot.negated)}*.")
    if slot.must:
        parts.append(f"Required as: *{escape(slot.must)}*.")
    return " ".join(parts)


def _presumption(slot: Slot) -> str:
    if slot.default is None:
        return "unknown"
    if isinstance(slot.default, bool):
        return f"presumed `{'true' if slot.default else 'false'}`"
    return f"presumed {code(str(slot.default))}"


def _groups_of(vocabulary: Vocabulary, enum: str) -> list[GroupDef]:
    return [g for g in vocabulary.groups.values() if g.type.enum == enum]


def vocabulary_page(vocabulary: Vocabulary) -> str:
    names = ", ".join(code(n) for n in vocabulary.names)
    lines = [
        "# Vocabulary",
        "",
        f"Every word a request may use and a rule may read, from the vocabulary {names}. A request that uses "
        "anything not declared here is refused with an error; a fact it leaves out is *unknown*, not false. "
        "The [request schema](request.schema.json) says the same in JSON Schema.",
        "",
        "Contents: [request fields](#fields) · [facts](#facts) · [chain of earlier disclosures](#chain) · "
        "[value lists](#enums) · [groups of values](#groups).",
        "",
        "## Request fields {#fields}",
        "",
    ]
    rows = [
        [code(path), _type(s.type), "yes" if s.required else "no", _meaning(s)] for path, s in vocabulary.fields.items()
    ]
    lines += _wide(table(["Field", "Type", "Required", "Meaning"], rows))
    lines += [
        "## Facts {#facts}",
        "",
        "Facts go under `facts` in a request, nested by the parts of their name: `facts.request.in_writing` "
        'is written `{"facts": {"request": {"in_writing": true}}}`. Conditions read them by the full name.',
        "",
    ]
    rows = [[dotted_code(path), _type(s.type), _meaning(s), _presumption(s)] for path, s in vocabulary.facts.items()]
    lines += _wide(table(["Fact", "Type", "Meaning", "If not stated"], rows))
    lines += ["## Chain of earlier disclosures {#chain}", ""]
    if vocabulary.hop:
        lines += [
            "`chain` lists the earlier disclosures the data went through, each hop an object with these keys "
            "(all required):",
            "",
        ]
        rows = [[code(key), _type(s.type), _meaning(s)] for key, s in vocabulary.hop.items()]
        lines += table(["Hop key", "Type", "Meaning"], rows)
        lines += ["Conditions read the chain through these names, each the set of that key's values over all hops:", ""]
        rows = [[code(path), _type(s.type), _meaning(s)] for path, s in vocabulary.chain_projections.items()]
        lines += table(["Name in conditions", "Type", "Meaning"], rows)
    else:
        lines += ["This vocabulary declares no chain.", ""]
    lines += ["## Value lists {#enums}", ""]
    for name, enum in vocabulary.enums.items():
        lines += [f"### {code(name)}: {escape(enum.label)} {{#{enum_anchor(name)}}}", ""]
        if enum.description:
            lines += [prose(one_line(enum.description)), ""]
        users = [code(p) for p, s in _slots(vocabulary).items() if s.type.enum == name]
        if users:
            lines += ["Used by " + ", ".join(users) + ".", ""]
        groups = _groups_of(vocabulary, name)
        header = ["Value", "Label", "Description"] + (["In groups"] if groups else [])
        rows = [
            [code(v.name), escape(v.label), prose(one_line(v.description or ""))]
            + (
                [", ".join(f"[{code(g.name)}](#{group_anchor(g.name)})" for g in groups if v.name in g.values)]
                if groups
                else []
            )
            for v in enum.values.values()
        ]
        lines += _wide(table(header, rows))
        for g in groups:
            members = [enum.values[v].label if v in enum.values else v for v in g.values]
            lines += [
                f"**{escape(_capital(g.label))}** ([{code(g.name)}](#{group_anchor(g.name)})): "
                + escape("; ".join(members))
                + ".",
                "",
            ]
    lines += [
        "## Groups of values {#groups}",
        "",
        "A group names a set of values of one list; conditions use it by name, e.g. `origin overlaps tax_sources`.",
        "",
    ]
    for name, group in vocabulary.groups.items():
        of_enum = vocabulary.enums.get(group.type.enum or "")
        lines += [f"### {code(name)}: {escape(group.label)} {{#{group_anchor(name)}}}", ""]
        if group.description:
            lines += [prose(one_line(group.description)), ""]
        of = f"[{code(group.type.enum or '')}](#{enum_anchor(group.type.enum or '')})"
        lines += [f"Values of {of}:", ""]
        for value in group.values:
            label = of_enum.label_of(value) if of_enum else value
            lines.append(f"- {code(value)}: {escape(label)}")
        lines.append("")
    return "\n".join(lines)


def _wide(lines: list[str]) -> list[str]:
    """A table that may take the window's width (see ``docs/css/extra.css``)."""
    return ['<div class="wide" markdown="1">', "", *lines, "</div>", ""]


def _slots(vocabulary: Vocabulary) -> Mapping[str, Slot]:
    return {**vocabulary.fields, **vocabulary.facts, **{f"chain.{k}": s for k, s in vocabulary.hop.items()}}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
