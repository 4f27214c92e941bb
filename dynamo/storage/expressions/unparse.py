"""Printing a syntax tree back as expression text.

`unparse(parse(text))` is an expression that parses to the same tree (the
round-trip property the tests check with generated expressions). It writes
the fewest parentheses that keep the tree: AND binds tighter than OR, NOT
tighter than both, comparisons tighter than all three.

A substituted tree prints too, for messages and teaching, but its values
appear as JSON (`{"N": "5"}`) and its names unquoted, so that text is for
reading, not for parsing again.
"""

from __future__ import annotations

import json

from dynamo.storage.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Comparison,
    DeleteAction,
    Expression,
    In,
    Literal,
    NameRef,
    Not,
    Operand,
    Or,
    PathRef,
    Projection,
    RemoveAction,
    SetAction,
    Update,
    ValueRef,
)


def unparse(tree: Expression) -> str:
    """Expression text for a condition, update or projection tree."""
    match tree:
        case Update(clauses):
            return " ".join(f"{clause.keyword} {', '.join(map(_action, clause.actions))}"
                            for clause in clauses)
        case Projection(paths):
            return ", ".join(map(_operand, paths))
    return _condition(tree)


def _condition(node: Expression) -> str:
    match node:
        case Or(operands):
            return " OR ".join(_condition(operand) for operand in operands)
        case And(operands):
            return " AND ".join(_grouped(operand, (Or,)) for operand in operands)
        case Not(operand):
            return "NOT " + _grouped(operand, (Or, And))
        case Comparison(op, left, right):
            return f"{_operand(left)} {op} {_operand(right)}"
        case Between(subject, low, high):
            return f"{_operand(subject)} BETWEEN {_operand(low)} AND {_operand(high)}"
        case In(subject, options):
            return f"{_operand(subject)} IN ({', '.join(map(_operand, options))})"
        case Call():
            return _operand(node)
    raise TypeError(f"not an expression tree: {node!r}")


def _grouped(node: Expression, looser: tuple[type, ...]) -> str:
    text = _condition(node)
    return f"({text})" if isinstance(node, looser) else text


def _action(action: SetAction | RemoveAction | AddAction | DeleteAction) -> str:
    match action:
        case SetAction(path, value):
            return f"{_operand(path)} = {_operand(value)}"
        case RemoveAction(path):
            return _operand(path)
        case AddAction(path, value) | DeleteAction(path, value):
            return f"{_operand(path)} {_operand(value)}"
    raise TypeError(f"not an update action: {action!r}")


def _operand(operand: Operand) -> str:
    match operand:
        case PathRef(elements):
            return _path(elements)
        case ValueRef(placeholder):
            return placeholder
        case Literal(value):
            return json.dumps(value, separators=(", ", ": "))
        case Call(name, args):
            return f"{name}({', '.join(map(_operand, args))})"
        case Arithmetic(op, left, right):
            return f"{_operand(left)} {op} {_operand(right)}"
    raise TypeError(f"not an operand: {operand!r}")


def _path(elements: tuple[str | int | NameRef, ...]) -> str:
    text = ""
    for element in elements:
        if isinstance(element, int):
            text += f"[{element}]"
        else:
            name = element.placeholder if isinstance(element, NameRef) else element
            text += f".{name}" if text else name
    return text
