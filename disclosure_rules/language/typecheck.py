"""Type-check a parsed condition against the vocabulary.

Names become :class:`~disclosure_rules.language.ast.Path`, :class:`~disclosure_rules.language.ast.Group`
or :class:`~disclosure_rules.language.ast.Ref`; string literals take the type of what they
are compared with, so a misspelt value (``"nontax_criminal_investigaton"``)
is caught at load time, with a suggestion. Every problem is collected (with
the span inside the condition) rather than stopping at the first.
"""

from __future__ import annotations

from collections.abc import Collection

import attrs

from ..diagnostics import did_you_mean
from ..rulebook.vocabulary import Vocabulary
from .ast import (
    COMPARISONS,
    And,
    Compare,
    Expr,
    Group,
    ListLiteral,
    Literal,
    Name,
    Not,
    Or,
    Path,
    Ref,
    Span,
    Value,
    ValueSet,
)
from .valuetypes import BOOL, DATE, NUMBER, TEXT, Type


@attrs.frozen
class TypeIssue:
    span: Span
    code: str
    message: str
    help: str | None = None


_UNTYPED = Type("text", "<literal>")  # marks a string literal whose type comes from context
_LIST = Type("set", "<literal>")  # marks a list literal whose type comes from context


class _Checker:
    def __init__(self, vocabulary: Vocabulary, definitions: Collection[str]) -> None:
        self.vocabulary = vocabulary
        self.definitions = definitions
        self.issues: list[TypeIssue] = []

    def error(self, span: Span, code: str, message: str, help: str | None = None) -> None:
        self.issues.append(TypeIssue(span, code, message, help))

    # -- entry ------------------------------------------------------------------------------

    def condition(self, node: Expr) -> Expr:
        checked, type_ = self.expr(node)
        if type_ is not None and type_ != BOOL:
            self.error(
                node.span,
                "type_mismatch",
                f"a condition must be true or false, but this is a {_describe(type_)}",
                help='compare it with something, e.g. `== "..."` or `in [...]`',
            )
        return checked

    def boolean(self, node: Expr, where: str) -> Expr:
        checked, type_ = self.expr(node)
        if type_ is not None and type_ != BOOL:
            self.error(node.span, "type_mismatch", f"`{where}` needs a condition, but this is a {_describe(type_)}")
        return checked

    # -- nodes ------------------------------------------------------------------------------

    def expr(self, node: Expr) -> tuple[Expr, Type | None]:
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, Literal):
            if isinstance(node.value, bool):
                return Value(node.value, BOOL, node.span), BOOL
            if isinstance(node.value, int):
                return Value(node.value, NUMBER, node.span), NUMBER
            if isinstance(node.value, str):
                return node, _UNTYPED
            return Value(node.value, DATE, node.span), DATE
        if isinstance(node, ListLiteral):
            return node, _LIST
        if isinstance(node, Not):
            return Not(self.boolean(node.operand, "not"), node.span), BOOL
        if isinstance(node, And):
            return And(tuple(self.boolean(o, "and") for o in node.operands), node.span), BOOL
        if isinstance(node, Or):
            return Or(tuple(self.boolean(o, "or") for o in node.operands), node.span), BOOL
        if isinstance(node, Compare):
            return self.compare(node), BOOL
        # Already-checked nodes (re-checking is harmless).
        if isinstance(node, (Path, Group, Value, ValueSet)):
            return node, node.type
        if isinstance(node, Ref):
            return node, BOOL
        raise TypeError(f"unexpected node {node!r}")  # pragma: no cover

    def name(self, node: Name) -> tuple[Expr, Type | None]:
        dotted = node.dotted
        slot = self.vocabulary.slot(dotted)
        if slot is not None:
            return Path(dotted, slot.type, node.span), slot.type
        if len(node.parts) == 1:
            group = self.vocabulary.groups.get(dotted)
            if group is not None:
                return Group(dotted, frozenset(group.values), group.type, node.span), group.type
            if dotted in self.definitions:
                return Ref(dotted, node.span), BOOL
        self.unknown_name(node)
        return node, None

    def unknown_name(self, node: Name) -> None:
        dotted = node.dotted
        vocab = self.vocabulary
        if dotted == "facts" or dotted == "chain":
            self.error(
                node.span,
                "unknown_name",
                f"`{dotted}` is not a value; name one of its entries",
                help=f"e.g. `{next(iter(vocab.facts if dotted == 'facts' else vocab.chain_projections), dotted)}`",
            )
            return
        if dotted.startswith("facts."):
            below = [p for p in vocab.facts if p.startswith(dotted + ".")]
            if below:
                self.error(
                    node.span,
                    "unknown_name",
                    f"`{dotted}` is a group of facts, not a fact",
                    help="name one of: " + ", ".join(f"`{p}`" for p in below[:6]),
                )
                return
            self.error(
                node.span,
                "unknown_name",
                f"the vocabulary declares no fact `{dotted}`",
                help=did_you_mean(dotted, vocab.facts),
            )
            return
        if dotted.startswith("chain."):
            key = dotted[len("chain.") :]
            if key in vocab.hop:
                self.error(
                    node.span,
                    "unknown_name",
                    f"conditions cannot read `{dotted}`",
                    help="conditions read the chain as the sets `chain.from`, `chain.to` and `chain.route`",
                )
                return
            self.error(
                node.span,
                "unknown_name",
                f"the chain has no `{key}`",
                help=did_you_mean(dotted, vocab.chain_projections),
            )
            return
        candidates = [*vocab.fields, *vocab.groups, *self.definitions, *vocab.facts]
        self.error(
            node.span,
            "unknown_name",
            f"`{dotted}` is not a field, fact, group or definition",
            help=did_you_mean(dotted, candidates),
        )

    # -- comparisons ------------------------------------------------------------------------

    def compare(self, node: Compare) -> Expr:
        left, lt = self.expr(node.left)
        right, rt = self.expr(node.right)
        op = node.op
        if lt is None or rt is None:
            return Compare(op, left, right, node.span)
        if lt in (_UNTYPED, _LIST) and rt in (_UNTYPED, _LIST):
            self.error(
                node.span,
                "type_mismatch",
                "this compares two fixed values",
                help="one side should be a field, a fact or a group",
            )
            return Compare(op, left, right, node.span)
        if op in COMPARISONS:
            left, right = self.same_type(op, left, lt, right, rt, node.span)
        elif op in ("in", "not in"):
            left, right = self.membership(op, left, lt, right, rt, node.span)
        else:
            left, right = self.set_test(op, left, lt, right, rt, node.span)
        return Compare(op, left, right, node.span)

    def same_type(self, op: str, left: Expr, lt: Type, right: Expr, rt: Type, span: Span) -> tuple[Expr, Expr]:
        if lt in (_UNTYPED, _LIST):
            left, lt = self.coerce(left, rt), rt
        elif rt in (_UNTYPED, _LIST):
            right, rt = self.coerce(right, lt), lt
        if lt != rt:
            self.error(span, "type_mismatch", f"`{op}` compares a {_describe(lt)} with a {_describe(rt)}")
        elif op not in ("==", "!=") and lt not in (DATE, NUMBER):
            self.error(
                span,
                "type_mismatch",
                f"`{op}` orders dates and numbers, not a {_describe(lt)}",
                help="use `==` or `!=`",
            )
        return left, right

    def membership(self, op: str, left: Expr, lt: Type, right: Expr, rt: Type, span: Span) -> tuple[Expr, Expr]:
        if lt.kind == "set" and lt is not _LIST:
            self.error(
                span,
                "type_mismatch",
                f"`{op}` tests one value, but the left side is a {_describe(lt)}",
                help="use `overlaps` (any of them) or `within` (all of them)",
            )
            return left, right
        if rt is _LIST:
            if lt.kind != "enum":
                self.error(span, "type_mismatch", f"`{op}` needs a value from a declared list, not a {_describe(lt)}")
                return left, right
            return left, self.coerce(right, lt.set_of())
        if rt.kind != "set":
            self.error(
                span,
                "type_mismatch",
                f"`{op}` needs a set on the right, but this is a {_describe(rt)}",
                help="use `==` to compare two single values",
            )
            return left, right
        if lt is _UNTYPED:
            return self.coerce(left, rt.element()), right
        if lt != rt.element():
            self.error(span, "type_mismatch", f"`{op}` looks for a {_describe(lt)} in a {_describe(rt)}")
        return left, right

    def set_test(self, op: str, left: Expr, lt: Type, right: Expr, rt: Type, span: Span) -> tuple[Expr, Expr]:
        if lt is _LIST or lt is _UNTYPED:
            self.error(span, "type_mismatch", f"the left side of `{op}` must be a field, a fact or a group")
            return left, right
        if lt.kind != "set":
            self.error(
                span,
                "type_mismatch",
                f"`{op}` compares two sets, but the left side is a {_describe(lt)}",
                help="use `in` to test one value",
            )
            return left, right
        if rt is _LIST:
            return left, self.coerce(right, lt)
        if rt is _UNTYPED:
            if op != "includes":
                self.error(span, "type_mismatch", f"`{op}` needs a set on the right", help='write a list: `["..."]`')
                return left, right
            value = self.coerce(right, lt.element())
            return left, ValueSet(
                frozenset([value.value]) if isinstance(value, Value) and isinstance(value.value, str) else frozenset(),
                lt,
                right.span,
            )
        if rt.kind != "set":
            if op == "includes" and rt == lt.element():
                return left, right
            self.error(span, "type_mismatch", f"`{op}` compares two sets, but the right side is a {_describe(rt)}")
            return left, right
        if rt != lt:
            self.error(span, "type_mismatch", f"`{op}` compares a {_describe(lt)} with a {_describe(rt)}")
        return left, right

    def coerce(self, node: Expr, target: Type) -> Expr:
        """Give a string or list literal the type of what it is compared with."""
        if isinstance(node, ListLiteral):
            if target.kind != "set":
                self.error(node.span, "type_mismatch", f"a list cannot be compared with a {_describe(target)}")
                return node
            values = [self.coerce(item, target.element()) for item in node.items]
            names = frozenset(v.value for v in values if isinstance(v, Value) and isinstance(v.value, str))
            return ValueSet(names, target, node.span)
        if isinstance(node, Literal) and isinstance(node.value, str):
            if target == TEXT:
                return Value(node.value, TEXT, node.span)
            if target.kind == "enum" and target.enum is not None:
                enum = self.vocabulary.enums[target.enum]
                if node.value not in enum.values:
                    self.error(
                        node.span,
                        "unknown_value",
                        f"`{node.value}` is not a value of `{target.enum}`",
                        help=did_you_mean(node.value, enum.values)
                        or f"see the values of `{target.enum}` in the vocabulary",
                    )
                return Value(node.value, target, node.span)
            self.error(node.span, "type_mismatch", f"a string cannot be compared with a {_describe(target)}")
            return node
        if isinstance(node, Value) and node.type != target:
            self.error(node.span, "type_mismatch", f"expected a {_describe(target)}, found a {_describe(node.type)}")
        return node


def _describe(type_: Type) -> str:
    if type_ is _UNTYPED:
        return "string"
    if type_ is _LIST:
        return "list"
    if type_.kind == "enum":
        return f"value of `{type_.enum}`"
    if type_.kind == "set":
        return f"set of `{type_.enum}`"
    return {"bool": "true/false value", "date": "date", "number": "number", "text": "text"}[type_.kind]


def check_condition(node: Expr, vocabulary: Vocabulary, definitions: Collection[str]) -> tuple[Expr, list[TypeIssue]]:
    """Type-check a parsed condition; return the checked tree and every problem found."""
    checker = _Checker(vocabulary, definitions)
    checked = checker.condition(node)
    return checked, checker.issues


def references(node: Expr) -> set[str]:
    """The definitions a checked condition refers to (for cycle checks and docs)."""
    if isinstance(node, Ref):
        return {node.name}
    if isinstance(node, Not):
        return references(node.operand)
    if isinstance(node, (And, Or)):
        out: set[str] = set()
        for operand in node.operands:
            out |= references(operand)
        return out
    if isinstance(node, Compare):
        return references(node.left) | references(node.right)
    return set()
