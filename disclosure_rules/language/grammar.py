"""The condition language, written once in pyparsing.

The grammar only builds :mod:`~disclosure_rules.language.ast` nodes; it knows nothing of
types, vocabularies or evaluation, and it never hands text to Python's
``eval``. :func:`parse_condition` is the whole interface: text in, a parsed
tree out, or a :class:`ConditionSyntaxError` with the offset of the problem.
pyparsing's own exception types never leave this module.

The BNF, kept in step with the code below (``docs/language.md`` shows it too)::

    condition  ::= or_expr
    or_expr    ::= and_expr ( "or" and_expr )*
    and_expr   ::= not_expr ( "and" not_expr )*
    not_expr   ::= "not" not_expr | comparison
    comparison ::= operand [ operator operand ]
    operator   ::= "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not" "in"
                 | "overlaps" | "within" | "includes"
    operand    ::= literal | list | name | "(" condition ")"
    list       ::= "[" [ literal ( "," literal )* ] "]"
    literal    ::= string | integer | date | "true" | "false"
    name       ::= identifier ( "." identifier )*
    identifier ::= [A-Za-z_][A-Za-z0-9_]*          (not a keyword)
    string     ::= '"' characters '"' | "'" characters "'"
    date       ::= digit{4} "-" digit{2} "-" digit{2}
    integer    ::= [ "-" ] digit+
"""

from __future__ import annotations

import datetime
from typing import Any

import pyparsing as pp

from .ast import And, Compare, Expr, ListLiteral, Literal, Name, Not, Or

KEYWORDS = ("and", "or", "not", "in", "true", "false", "overlaps", "within", "includes")
MAX_CONDITION_CHARS = 10_000
MAX_NESTING = 40


class ConditionSyntaxError(Exception):
    """A condition that does not parse; ``offset`` is the character where it goes wrong."""

    def __init__(self, offset: int, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.help = help


def _end(expr: Expr) -> int:
    return expr.span[1]


def _located(element: pp.ParserElement, build: Any) -> pp.ParserElement:
    """Wrap a leaf so its node gets the exact span of the text it matched."""

    def action(_s: str, _loc: int, toks: pp.ParseResults) -> Expr:
        start, value, end = toks[0], toks[1][0], toks[2]
        return build(value, (start, end))  # type: ignore[no-any-return]

    return pp.Located(element).set_parse_action(action)


def _date(text: str, span: tuple[int, int]) -> Literal:
    try:
        return Literal(datetime.date.fromisoformat(text), span)
    except ValueError:
        raise ConditionSyntaxError(
            span[0], f"`{text}` is not a valid date", help="write dates as YYYY-MM-DD, e.g. 2025-11-21"
        ) from None


def _binary(_s: str, loc: int, toks: pp.ParseResults) -> Expr:
    items = list(toks[0])
    left, op, right = items[0], items[1], items[2]
    if len(items) > 3:
        raise ConditionSyntaxError(
            items[2].span[1], "comparisons cannot be chained", help="join two comparisons with `and`"
        )
    return Compare(op, left, right, (left.span[0], _end(right)))


def _not(_s: str, loc: int, toks: pp.ParseResults) -> Expr:
    operand = toks[0][1]
    return Not(operand, (loc, _end(operand)))


def _nary(kind: type[And] | type[Or]) -> Any:
    def action(_s: str, loc: int, toks: pp.ParseResults) -> Expr:
        operands = tuple(toks[0][0::2])
        return kind(operands, (operands[0].span[0], _end(operands[-1])))

    return action


def _build_grammar() -> pp.ParserElement:
    kw = {word: pp.Keyword(word) for word in KEYWORDS}
    not_keyword = "".join(rf"(?!{word}\b)" for word in KEYWORDS)
    identifier = rf"{not_keyword}[A-Za-z_][A-Za-z0-9_]*"
    name = _located(
        pp.Regex(rf"{identifier}(?:\.{identifier})*").set_name("name"),
        lambda text, span: Name(tuple(text.split(".")), span),
    )
    date = _located(pp.Regex(r"\d{4}-\d{2}-\d{2}(?![\w-])").set_name("date"), _date)
    integer = _located(pp.Regex(r"-?\d+(?![\w.-])").set_name("integer"), lambda text, span: Literal(int(text), span))
    string = _located(
        (pp.QuotedString('"', esc_char="\\") | pp.QuotedString("'", esc_char="\\")).set_name("string"),
        lambda text, span: Literal(text, span),
    )
    boolean = _located(
        (pp.Keyword("true") | pp.Keyword("false")).set_name("true or false"),
        lambda text, span: Literal(text == "true", span),
    )
    literal = (date | integer | string | boolean).set_name("value")

    def list_action(_s: str, _loc: int, toks: pp.ParseResults) -> ListLiteral:
        start, items, end = toks[0], toks[1], toks[2]
        return ListLiteral(tuple(items), (start, end))

    list_literal = (
        pp.Located(pp.Suppress("[") + pp.Optional(pp.DelimitedList(literal)) + pp.Suppress("]"))
        .set_name("list")
        .set_parse_action(list_action)
    )

    operand = (list_literal | literal | name).set_name("operand")
    not_in = (pp.Keyword("not") + pp.Keyword("in")).set_parse_action(lambda: "not in")
    operator = (
        pp.one_of("== != <= >= < >") | not_in | kw["in"] | kw["overlaps"] | kw["within"] | kw["includes"]
    ).set_name("operator")
    condition: pp.ParserElement = pp.infix_notation(  # type: ignore[no-untyped-call]
        operand,
        [
            (operator, 2, pp.OpAssoc.LEFT, _binary),
            (kw["not"], 1, pp.OpAssoc.RIGHT, _not),
            (kw["and"], 2, pp.OpAssoc.LEFT, _nary(And)),
            (kw["or"], 2, pp.OpAssoc.LEFT, _nary(Or)),
        ],
    ).set_name("condition")
    return condition


_GRAMMAR = _build_grammar()


def _check_brackets(text: str) -> None:
    """Match brackets before parsing, so an unclosed one is reported where it opens."""
    stack: list[tuple[str, int]] = []
    quote: tuple[str, int] | None = None
    escaped = False
    pairs = {")": "(", "]": "["}
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote[0]:
                quote = None
        elif ch in "\"'":
            quote = (ch, i)
        elif ch in "([":
            stack.append((ch, i))
            if len(stack) > MAX_NESTING:
                raise ConditionSyntaxError(
                    i, f"brackets nest more than {MAX_NESTING} deep", help="split the condition into named definitions"
                )
        elif ch in ")]":
            if not stack or stack[-1][0] != pairs[ch]:
                raise ConditionSyntaxError(i, f"unexpected `{ch}`", help="brackets do not match")
            stack.pop()
    if quote:
        raise ConditionSyntaxError(quote[1], "a string is not closed", help=f"add the closing {quote[0]}")
    if stack:
        ch, i = stack[-1]
        raise ConditionSyntaxError(
            i, f"this `{ch}` is not closed", help=f"add the closing `{')' if ch == '(' else ']'}`"
        )


def parse_condition(text: str) -> Expr:
    """Parse one condition; raise :class:`ConditionSyntaxError` if it is not well formed."""
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionSyntaxError(
            0,
            f"the condition is longer than {MAX_CONDITION_CHARS:,} characters",
            help="split it into named definitions",
        )
    if not text.strip():
        raise ConditionSyntaxError(0, "the condition is empty")
    _check_brackets(text)
    try:
        result = _GRAMMAR.parse_string(text, parse_all=True)
    except pp.ParseBaseException as exc:
        raise _syntax_error(text, exc) from None
    node: Expr = result[0]
    return node


def _syntax_error(text: str, exc: pp.ParseBaseException) -> ConditionSyntaxError:
    loc = min(max(exc.loc, 0), len(text))
    rest = text[loc:].lstrip()
    loc = len(text) - len(rest)
    if not rest:
        return ConditionSyntaxError(
            loc, "the condition ends too early", help="something is missing after the last operator or bracket"
        )
    token = rest.split()[0] if rest.split() else rest[:1]
    if rest[0] in "=!<>" and not rest.startswith(("==", "!=", "<", ">")):
        return ConditionSyntaxError(loc, f"unexpected `{rest[0]}`", help="use `==` to compare for equality")
    if rest.startswith("=") and not rest.startswith("=="):
        return ConditionSyntaxError(loc, "unexpected `=`", help="use `==` to compare for equality")
    if token in ("&&", "||", "!"):
        return ConditionSyntaxError(loc, f"unexpected `{token}`", help="write `and`, `or` and `not`")
    if rest[0] in "\"'" and rest.count(rest[0]) < 2:
        return ConditionSyntaxError(loc, "a string is not closed", help=f"add the closing {rest[0]}")
    if rest[0] == ")":
        return ConditionSyntaxError(loc, "unexpected `)`", help="brackets do not match")
    if token in KEYWORDS:
        return ConditionSyntaxError(
            loc, f"unexpected `{token}`", help=f"`{token}` is a keyword and cannot be used as a name"
        )
    return ConditionSyntaxError(
        loc,
        f"unexpected `{token[:30]}`",
        help="expected an operator, `and`, `or` or a closing bracket here"
        if loc > 0
        else "a condition starts with a name, a value, `not` or `(`",
    )
