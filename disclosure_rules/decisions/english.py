"""Say a checked condition in plain English, with the vocabulary's labels.

Used for the ``missing`` part of a decision ("the written request must be
signed by the head of the agency; it is `assistant_director` ...") and for the
rule documentation. Three moods: a *statement* ("the recipient is ICE"), its
*negation* ("the recipient is not ICE") and a *requirement* ("the recipient
must be ICE"). :meth:`Phraser.outline` turns a condition into nested
all-of/any-of lists for the docs, optionally opening each definition it names
one level deep.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

import attrs

from ..language.ast import And, Compare, Expr, Group, Not, Or, Path, Ref, Value, ValueSet
from ..language.valuetypes import Type
from ..rulebook.model import Definition
from ..rulebook.vocabulary import Vocabulary

# For each operator: statement, negated statement, requirement, negated requirement.
_PHRASES: Mapping[str, tuple[str, str, str, str]] = {
    "==": ("is {r}", "is not {r}", "must be {r}", "must not be {r}"),
    "!=": ("is not {r}", "is {r}", "must not be {r}", "must be {r}"),
    "in": ("is {r}", "is not {r}", "must be {r}", "must not be {r}"),
    "not in": ("is not {r}", "is {r}", "must not be {r}", "must be {r}"),
    "within": ("are all among {r}", "are not all among {r}", "must all be among {r}", "must not all be among {r}"),
}
# Set tests read differently for one value and for several: (one value, several values).
_SET_PHRASES: Mapping[str, tuple[tuple[str, str, str, str], tuple[str, str, str, str]]] = {
    "overlaps": (
        ("include {r}", "do not include {r}", "must include {r}", "must not include {r}"),
        (
            "include at least one of {r}",
            "include none of {r}",
            "must include at least one of {r}",
            "must include none of {r}",
        ),
    ),
    "includes": (
        ("include {r}", "do not include {r}", "must include {r}", "must not include {r}"),
        ("include all of {r}", "do not include all of {r}", "must include all of {r}", "must not include all of {r}"),
    ),
}
_DATE_ORDER: Mapping[str, tuple[str, str]] = {
    "<": ("before", "on or after"),
    "<=": ("on or before", "after"),
    ">": ("after", "on or before"),
    ">=": ("on or after", "before"),
}
_NUMBER_ORDER: Mapping[str, tuple[str, str]] = {
    "<": ("less than", "at least"),
    "<=": ("at most", "more than"),
    ">": ("more than", "at most"),
    ">=": ("at least", "less than"),
}


@attrs.frozen
class OutlineItem:
    """A condition as a tree for display: a leaf sentence, or all-of / any-of / none-of children.

    ``mode`` is ``"leaf"``, ``"all"``, ``"any"``, ``"none"`` (none of the children holds) or
    ``"notall"`` (not every child holds). A leaf that states a named definition carries its name in
    ``definition``, and, when the outline was asked to expand definitions, the definition's own
    outline in ``detail`` (one level only: definitions inside it are named, not opened).
    """

    text: str
    mode: str = "leaf"
    children: tuple[OutlineItem, ...] = ()
    definition: str | None = None
    detail: OutlineItem | None = None


class Phraser:
    def __init__(self, vocabulary: Vocabulary, definitions: Mapping[str, Definition]) -> None:
        self.vocabulary = vocabulary
        self.definitions = definitions

    # -- values -------------------------------------------------------------------------------

    def value(self, type_: Type, value: object) -> str:
        if isinstance(value, datetime.date):
            return value.isoformat()
        if type_.kind == "text" and isinstance(value, str):
            return f"“{value}”"  # free text, quoted so it does not read as part of the sentence
        return self.vocabulary.label_of_value(type_.element(), value)

    def value_list(self, type_: Type, values: Iterable[str], joiner: str = "or") -> str:
        ordered = self.ordered(type_, values)
        labels = [self.value(type_, v) for v in ordered]
        if not labels:
            return "nothing"
        if len(labels) == 1:
            return labels[0]
        return ", ".join(labels[:-1]) + f" {joiner} " + labels[-1]

    def ordered(self, type_: Type, values: Iterable[str]) -> list[str]:
        wanted = set(values)
        enum = self.vocabulary.enums.get(type_.enum or "")
        if enum is None:
            return sorted(wanted)
        return [v for v in enum.values if v in wanted] + sorted(wanted - set(enum.values))

    def operand(self, node: Expr, op: str = "==") -> str:
        joiner = "and" if op in ("includes", "within") else "or"
        if isinstance(node, Path):
            slot = self.vocabulary.slot(node.path)
            return slot.label if slot else node.path
        if isinstance(node, Value):
            return self.value(node.type, node.value)
        if isinstance(node, Group):
            return self.group_phrase(node.name, joiner)
        if isinstance(node, ValueSet):
            return self.value_list(node.type, node.values, joiner)
        return self.statement(node)

    def group_name(self, name: str) -> str:
        """A group as a noun phrase: "the federal agencies"."""
        return _definite(self.vocabulary.groups[name].label)

    def group_phrase(self, name: str, joiner: str = "or") -> str:
        """A group with its values listed: "the federal agencies (the Internal Revenue Service, ... or another
        federal agency)"."""
        group = self.vocabulary.groups[name]
        return f"{self.group_name(name)} ({self.value_list(group.type, group.values, joiner)})"

    def _right(self, node: Compare) -> str:
        right = self.operand(node.right, node.op)
        if node.op in ("in", "not in") and isinstance(node.right, ValueSet) and len(node.right.values) > 1:
            return "one of " + right
        if node.op in ("in", "not in") and isinstance(node.right, Group):
            return "one of " + right
        return right

    # -- sentences ----------------------------------------------------------------------------

    def compare(self, node: Compare, mood: int) -> str:
        """mood: 0 statement, 1 negated statement, 2 requirement, 3 negated requirement."""
        left = self.operand(node.left, node.op)
        if node.op in _DATE_ORDER or node.op in _NUMBER_ORDER:
            table = _DATE_ORDER if _is_date(node) else _NUMBER_ORDER
            positive, negative = table[node.op]
            word = positive if mood in (0, 2) else negative
            verb = "is" if mood in (0, 1) else "must be"
            return f"{left} {verb} {word} {self.operand(node.right)}"
        if node.op in _SET_PHRASES:
            single, several = _SET_PHRASES[node.op]
            right = node.right
            many = len(_values(right)) > 1 or (isinstance(right, Path) and right.type.is_set)
            phrase = (several if many else single)[mood]
        else:
            phrase = _PHRASES[node.op][mood]
        return f"{left} {phrase.format(r=self._right(node))}"

    def statement(self, node: Expr) -> str:
        if isinstance(node, Compare):
            return self.compare(node, 0)
        if isinstance(node, Path):
            slot = self.vocabulary.slot(node.path)
            return slot.label if slot else node.path
        if isinstance(node, Ref):
            return self.definitions[node.name].label
        if isinstance(node, Not):
            return self.negation(node.operand)
        if isinstance(node, Value):
            return "always" if node.value else "never"
        if isinstance(node, And):
            return "(" + " and ".join(self.statement(o) for o in node.operands) + ")"
        if isinstance(node, Or):
            return "(" + " or ".join(self.statement(o) for o in node.operands) + ")"
        return self.operand(node)

    def negation(self, node: Expr) -> str:
        if isinstance(node, Compare):
            return self.compare(node, 1)
        if isinstance(node, Path):
            slot = self.vocabulary.slot(node.path)
            if slot and slot.negated:
                return slot.negated
            return f"it is not the case that {self.statement(node)}"
        if isinstance(node, Ref):
            definition = self.definitions[node.name]
            return definition.negated or f"it is not the case that {definition.label}"
        if isinstance(node, Not):
            return self.statement(node.operand)
        if isinstance(node, And):
            return "(" + " or ".join(self.negation(o) for o in node.operands) + ")"
        if isinstance(node, Or):
            return "(" + " and ".join(self.negation(o) for o in node.operands) + ")"
        return f"it is not the case that {self.statement(node)}"

    def requirement(self, node: Expr) -> str:
        if isinstance(node, Compare):
            return self.compare(node, 2)
        if isinstance(node, Path):
            slot = self.vocabulary.slot(node.path)
            if slot and slot.must:
                return slot.must
            return f"required: {self.statement(node)}"
        if isinstance(node, Ref):
            definition = self.definitions[node.name]
            return definition.must or f"required: {definition.label}"
        if isinstance(node, Not):
            inner = node.operand
            if isinstance(inner, Compare):
                return self.compare(inner, 3)
            return f"required: {self.negation(inner)}"
        if isinstance(node, And):
            return "all of these are required: " + "; ".join(self.statement(o) for o in node.operands)
        if isinstance(node, Or):
            return "one of these is required: " + "; or ".join(self.statement(o) for o in node.operands)
        return f"required: {self.statement(node)}"

    def outline(self, node: Expr, expand: bool = False) -> OutlineItem:
        """A tree of sentences: ``and`` becomes "all of", ``or`` "any of".

        With ``expand``, a definition the condition names is also opened one level (in ``detail``), so a
        reader sees what "the data is return information" means without leaving the page.
        """
        if isinstance(node, And):
            return OutlineItem("all of the following", "all", tuple(self.outline(o, expand) for o in node.operands))
        if isinstance(node, Or):
            return OutlineItem("any of the following", "any", tuple(self.outline(o, expand) for o in node.operands))
        if isinstance(node, Not) and isinstance(node.operand, Not):
            return self.outline(node.operand.operand, expand)
        if isinstance(node, Not) and isinstance(node.operand, (And, Or)):
            inner = self.outline(node.operand, expand)
            label = "none of the following" if isinstance(node.operand, Or) else "not all of the following"
            return OutlineItem(label, "none" if isinstance(node.operand, Or) else "notall", inner.children)
        if isinstance(node, Ref):
            detail = self.outline(self.definitions[node.name].condition) if expand else None
            return OutlineItem(self.statement(node), definition=node.name, detail=detail)
        if isinstance(node, Not) and isinstance(node.operand, Ref):
            return OutlineItem(self.statement(node), definition=node.operand.name)
        return OutlineItem(self.statement(node))


def _definite(label: str) -> str:
    """A group's label as a definite noun phrase: "one of *the* tax-return sources"."""
    first = label.split(" ", 1)[0].lower()
    return label if first in ("the", "a", "an", "any", "all", "every") else f"the {label}"


def _values(node: Expr) -> frozenset[str]:
    if isinstance(node, (ValueSet, Group)):
        return node.values
    return frozenset()


def _is_date(node: Compare) -> bool:
    return any(isinstance(side, (Path, Value)) and side.type.kind == "date" for side in (node.left, node.right))
