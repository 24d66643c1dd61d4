"""The condition grammar: precedence, every operator and literal, and errors with positions."""

from __future__ import annotations

import datetime

import pytest

from disclosure_rules.language.ast import And, Compare, ListLiteral, Literal, Name, Not, Or
from disclosure_rules.language.grammar import MAX_NESTING, ConditionSyntaxError, parse_condition
from disclosure_rules.language.unparse import unparse


def n(*parts: str) -> Name:
    return Name(tuple(parts))


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ('holder == "IRS"', Compare("==", n("holder"), Literal("IRS"))),
        ("a != 'x'", Compare("!=", n("a"), Literal("x"))),
        ("date < 2025-11-21", Compare("<", n("date"), Literal(datetime.date(2025, 11, 21)))),
        ("date <= 2025-11-21", Compare("<=", n("date"), Literal(datetime.date(2025, 11, 21)))),
        ("n > 3", Compare(">", n("n"), Literal(3))),
        ("n >= -3", Compare(">=", n("n"), Literal(-3))),
        ('x in ["a", "b"]', Compare("in", n("x"), ListLiteral((Literal("a"), Literal("b"))))),
        ("x not in group", Compare("not in", n("x"), n("group"))),
        ("s overlaps t", Compare("overlaps", n("s"), n("t"))),
        ("s within t", Compare("within", n("s"), n("t"))),
        ('s includes "a"', Compare("includes", n("s"), Literal("a"))),
        ("flag == true", Compare("==", n("flag"), Literal(True))),
        ("flag == false", Compare("==", n("flag"), Literal(False))),
        ("x in []", Compare("in", n("x"), ListLiteral(()))),
        ("facts.request.signed_by", n("facts", "request", "signed_by")),
        ('"a \\"quoted\\" word" == x', Compare("==", Literal('a "quoted" word'), n("x"))),
    ],
)
def test_operators_and_literals(text: str, tree: object) -> None:
    assert parse_condition(text) == tree


def test_and_binds_tighter_than_or() -> None:
    assert parse_condition("a or b and c") == Or((n("a"), And((n("b"), n("c")))))
    assert parse_condition("a and b or c") == Or((And((n("a"), n("b"))), n("c")))


def test_not_binds_tighter_than_and_but_looser_than_comparison() -> None:
    assert parse_condition("not a and b") == And((Not(n("a")), n("b")))
    assert parse_condition('not x == "y"') == Not(Compare("==", n("x"), Literal("y")))
    assert parse_condition("not not a") == Not(Not(n("a")))


def test_parentheses_override_precedence() -> None:
    assert parse_condition("(a or b) and c") == And((Or((n("a"), n("b"))), n("c")))
    assert parse_condition("not (a or b)") == Not(Or((n("a"), n("b"))))


def test_chains_of_and_or_are_flat() -> None:
    assert parse_condition("a and b and c") == And((n("a"), n("b"), n("c")))
    assert parse_condition("a or b or c") == Or((n("a"), n("b"), n("c")))


def test_keywords_are_whole_words() -> None:
    assert parse_condition("andy or notx") == Or((n("andy"), n("notx")))
    assert parse_condition("origin overlaps inbound") == Compare("overlaps", n("origin"), n("inbound"))


def test_spans_point_into_the_text() -> None:
    text = 'holder == "IRS" and date >= 2025-11-21'
    tree = parse_condition(text)
    assert isinstance(tree, And)
    second = tree.operands[1]
    assert isinstance(second, Compare)
    start, end = second.span
    assert text[start:end] == "date >= 2025-11-21"
    assert text[slice(*second.right.span)] == "2025-11-21"


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ("a == b == c", 6, "comparisons cannot be chained"),
        ("a = b", 2, "unexpected `=`"),
        ("a and", 5, "the condition ends too early"),
        ("(a or b", 0, "this `(` is not closed"),
        ('x in ["a", "b"', 5, "this `[` is not closed"),
        ("a)", 1, "unexpected `)`"),
        ("date >= 2025-13-01", 8, "`2025-13-01` is not a valid date"),
        ("in == 3", 0, "unexpected `in`"),
        ("a && b", 2, "unexpected `&&`"),
        ('x == "open', 5, "a string is not closed"),
        ("", 0, "the condition is empty"),
        ('a "b"', 2, 'unexpected `"b"`'),
    ],
)
def test_syntax_errors_have_positions(text: str, offset: int, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(text)
    assert caught.value.offset == offset
    assert caught.value.message == message


def test_deep_nesting_is_refused_before_parsing() -> None:
    text = "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)
    with pytest.raises(ConditionSyntaxError, match="nest"):
        parse_condition(text)


def test_overlong_condition_is_refused() -> None:
    with pytest.raises(ConditionSyntaxError, match="longer than"):
        parse_condition(" or ".join(["a"] * 5000))


@pytest.mark.parametrize(
    "text",
    [
        'holder == "IRS" and (purpose == "x" or not facts.a.b) and origin overlaps ["a", "b"]',
        "not (a and b) or c",
        'date >= 2025-11-21 and n < 10 and s includes "q" and x not in g',
        "(a or b) and (c or d)",
    ],
)
def test_unparse_round_trips(text: str) -> None:
    tree = parse_condition(text)
    assert parse_condition(unparse(tree)) == tree


def test_the_grammar_never_evaluates_text() -> None:
    # A Python expression is just an unknown name to this grammar, never code.
    with pytest.raises(ConditionSyntaxError):
        parse_condition("__import__('os').system('true')")
