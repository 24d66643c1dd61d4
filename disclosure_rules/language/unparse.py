"""Write a condition tree back as condition text (canonical spacing, minimal brackets).

``parse_condition(unparse(tree))`` gives the same tree back; the tests check it.
"""

from __future__ import annotations

import datetime

from .ast import And, Compare, Expr, Group, ListLiteral, Literal, Name, Not, Or, Path, Ref, Value, ValueSet

_LEVEL = {Or: 1, And: 2, Not: 3, Compare: 4}


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def unparse(node: Expr) -> str:
    return _unparse(node, 0)


def _wrap(text: str, node: Expr, parent_level: int) -> str:
    level = _LEVEL.get(type(node), 5)
    return f"({text})" if level <= parent_level else text


def _unparse(node: Expr, parent_level: int) -> str:
    if isinstance(node, (Name,)):
        return node.dotted
    if isinstance(node, Path):
        return node.path
    if isinstance(node, (Group, Ref)):
        return node.name
    if isinstance(node, (Literal, Value)):
        return _literal(node.value)
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(_literal(i.value) for i in node.items) + "]"
    if isinstance(node, ValueSet):
        return "[" + ", ".join(_literal(v) for v in sorted(node.values)) + "]"
    if isinstance(node, Compare):
        text = f"{_unparse(node.left, 4)} {node.op} {_unparse(node.right, 4)}"
        return _wrap(text, node, parent_level)
    if isinstance(node, Not):
        return _wrap(f"not {_unparse(node.operand, 2)}", node, parent_level)
    if isinstance(node, And):
        return _wrap(" and ".join(_unparse(o, 2) for o in node.operands), node, parent_level)
    if isinstance(node, Or):
        return _wrap(" or ".join(_unparse(o, 1) for o in node.operands), node, parent_level)
    raise TypeError(f"cannot write {node!r}")  # pragma: no cover
