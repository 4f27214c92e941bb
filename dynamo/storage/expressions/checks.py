"""What DynamoDB refuses in an expression once its `:values` are known.

The parser checks what the text alone shows. After substitution the types of
the request's own values are known too, and DynamoDB refuses a request whose
values could never work, before it reads any item (Developer Guide,
"Comparison operator and function reference", "Update expressions"):

- a value of a type the comparator or function does not take (the table
  in operands.py: a list with `<`, a set with `BETWEEN`, a number with
  `begins_with`, ...), `size` of a number, boolean or null,
  `attribute_type` with a type name that does not exist;
- `BETWEEN` bounds of different types, or the wrong way round;
- the same path on both sides (`a = a`);
- `a + :v` where :v is not a number, `list_append` of a non-list,
  `ADD` of something that is neither a number nor a set, `DELETE` of a
  non-set;
- two update actions (or two projected paths) on overlapping document paths,
  such as `a` and `a.b`, or paths that disagree whether `a` is a map or list.

Each check raises ValidationException with DynamoDB's reason; compile.py adds
the "Invalid ConditionExpression: " style prefix.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dynamo.storage.attributes import compare_values, type_of
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import (
    AddAction,
    And,
    Arithmetic,
    Between,
    Call,
    Comparison,
    Condition,
    DeleteAction,
    In,
    Literal,
    Not,
    Operand,
    Or,
    Path,
    PathRef,
    SetAction,
    Update,
)
from dynamo.storage.expressions.operands import accepts

ATTRIBUTE_TYPES = ("S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M")
_TYPE_NAMES = {"S": "STRING", "N": "NUMBER", "B": "BINARY", "NULL": "NULL", "BOOL": "BOOLEAN",
               "L": "LIST", "M": "MAP"}


def operand_type(operand: Operand) -> str | None:
    """The type an operand is known to have before reading any item (None: unknown)."""
    match operand:
        case Literal(value):
            return type_of(value)
        case Call("size", _) | Arithmetic():
            return "N"
        case Call("list_append", _):
            return "L"
        case Call("if_not_exists", (_, fallback)):
            return operand_type(fallback)
    return None


def path_text(path: Path) -> str:
    """A path as DynamoDB prints it in messages: [a, b, [2]]."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in path) + "]"


# ---------------------------------------------------------------- conditions
def check_condition(condition: Condition) -> None:
    """Refuse a substituted condition whose own values make it meaningless."""
    for node in leaf_conditions(condition):
        match node:
            case Comparison(op, left, right):
                _check_distinct(op, (left, right))
                _check_operands((left, right))
                _check_typed(op, (left, right))
            case Between(subject, low, high):
                _check_operands((subject, low, high))
                _check_typed("BETWEEN", (subject, low, high))
                _check_bounds(low, high)
            case In(subject, options):
                _check_operands((subject, *options))
                _check_typed("IN", (subject, *options))
            case Call(name, args):
                _check_distinct(name, args)
                _check_function(name, args)
                _check_operands(args)
                # contains(path, x): only what is looked for has a fixed type.
                _check_typed(name, args[1:] if name == "contains" else args)


def leaf_conditions(condition: Condition) -> Iterator[Condition]:
    """The comparisons and function calls a condition combines with AND/OR/NOT."""
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, (And, Or)):
            stack.extend(reversed(node.operands))
        elif isinstance(node, Not):
            stack.append(node.operand)
        else:
            yield node


def condition_paths(condition: Condition) -> Iterator[Path]:
    """Every document path a (substituted) condition reads."""
    for node in leaf_conditions(condition):
        match node:
            case Comparison(_, left, right):
                yield from _operand_paths((left, right))
            case Between(subject, low, high):
                yield from _operand_paths((subject, low, high))
            case In(subject, options):
                yield from _operand_paths((subject, *options))
            case Call(_, args):
                yield from _operand_paths(args)


def _operand_paths(operands: Sequence[Operand]) -> Iterator[Path]:
    for operand in operands:
        if isinstance(operand, PathRef):
            yield operand.path
        elif isinstance(operand, Call):
            yield from _operand_paths(operand.args)


def _check_operands(operands: Sequence[Operand]) -> None:
    """`size(...)` nested anywhere in the operands is checked like a function."""
    for operand in operands:
        if isinstance(operand, Call):
            _check_function(operand.name, operand.args)
            _check_operands(operand.args)


def _check_distinct(name: str, args: Sequence[Operand]) -> None:
    if len(args) == 2 and all(isinstance(arg, PathRef) for arg in args) and args[0] == args[1]:
        raise ValidationException(
            "The first operand must be distinct from the remaining operands for this operator "
            f"or function; operator: {name}, first operand: {path_text(args[0].path)}")


def _incorrect(name: str, kind: str) -> ValidationException:
    return ValidationException("Incorrect operand type for operator or function; "
                               f"operator or function: {name}, operand type: {kind}")


def _check_typed(name: str, operands: Sequence[Operand]) -> None:
    """Refuse an operand whose known type the operator or function does not take."""
    for operand in operands:
        kind = operand_type(operand)
        if kind is not None and not accepts(name, kind):
            raise _incorrect(name, kind)


def _check_function(name: str, args: Sequence[Operand]) -> None:
    if name == "attribute_type" and len(args) == 2:
        kind = operand_type(args[1])
        if kind != "S":
            raise _incorrect(name, kind or "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}")
        type_name = args[1].value["S"]  # type: ignore[union-attr]
        if type_name not in ATTRIBUTE_TYPES:
            raise ValidationException(f"Invalid attribute type name found; type: {type_name}, "
                                      "valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}")
    elif name == "size" and len(args) == 1:
        kind = operand_type(args[0])
        if kind in ("N", "BOOL", "NULL"):
            raise _incorrect(name, kind)


def _check_bounds(low: Operand, high: Operand) -> None:
    if not (isinstance(low, Literal) and isinstance(high, Literal)):
        return
    low_kind, high_kind = type_of(low.value), type_of(high.value)
    shown = (f"lower bound operand: AttributeValue: {{{low_kind}:{low.value[low_kind]}}}, "
             f"upper bound operand: AttributeValue: {{{high_kind}:{high.value[high_kind]}}}")
    if low_kind != high_kind:
        raise ValidationException("The BETWEEN operator requires same data type for lower and "
                                  f"upper bounds; {shown}")
    order = compare_values(low.value, high.value)
    if order is not None and order > 0:
        raise ValidationException("The BETWEEN operator requires upper bound to be greater than "
                                  f"or equal to lower bound; {shown}")


# ------------------------------------------------------------------- updates
def check_update(update: Update) -> None:
    """Refuse a substituted update that could not apply to any item."""
    check_paths([action.path.path for action in update.actions])
    for action in update.actions:
        if isinstance(action, (AddAction, DeleteAction)):
            _check_set_operator("ADD" if isinstance(action, AddAction) else "DELETE",
                                action.value)
    for action in update.actions:
        if isinstance(action, SetAction):
            _check_update_operand(action.value)


def _check_set_operator(operator: str, value: Operand) -> None:
    kind = operand_type(value)
    if kind in _TYPE_NAMES and not (operator == "ADD" and kind == "N"):
        raise ValidationException("Incorrect operand type for operator or function; "
                                  f"operator: {operator}, operand type: {_TYPE_NAMES[kind]}")


def _check_update_operand(operand: Operand) -> None:
    match operand:
        case Arithmetic(op, left, right):
            for side in (left, right):
                _check_update_operand(side)
                # Only a `:value` is known before reading the item.
                kind = operand_type(side) if isinstance(side, Literal) else None
                if kind is not None and kind != "N":
                    raise _incorrect(op, kind)
        case Call(name, args):
            for arg in args:
                _check_update_operand(arg)
            if name == "list_append":
                for arg in args:
                    kind = operand_type(arg) if isinstance(arg, Literal) else None
                    if kind is not None and kind != "L":
                        raise _incorrect(name, kind)


def check_paths(paths: Sequence[Path]) -> None:
    """Refuse two paths where one contains the other, or that disagree on a list/map.

    As DynamoDB does, an overlap anywhere is reported before a conflict.
    """
    conflict: str | None = None
    for i, second in enumerate(paths):
        for first in paths[:i]:
            relation = _relation(first, second)
            if relation == "overlap":
                raise ValidationException(
                    "Two document paths overlap with each other; must remove or rewrite one "
                    f"of these paths; path one: {path_text(first)}, path two: {path_text(second)}")
            if relation == "conflict" and conflict is None:
                conflict = ("Two document paths conflict with each other; must remove or rewrite "
                            f"one of these paths; path one: {path_text(first)}, "
                            f"path two: {path_text(second)}")
    if conflict is not None:
        raise ValidationException(conflict)


def _relation(first: Path, second: Path) -> str | None:
    for a, b in zip(first, second, strict=False):
        if isinstance(a, int) != isinstance(b, int):
            return "conflict"
        if a != b:
            return None
    return "overlap"
