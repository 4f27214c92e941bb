"""Applying an UpdateExpression to an item: SET, REMOVE, ADD, DELETE.

The rules (Developer Guide, "Update expressions"), which `apply_update`
follows in this order:

1. Every operand reads the item *as it was before* the update: in
   `SET a = b, b = a` the two attributes swap.
2. SET writes a value: a path, a `:value`, `a + b`, `a - b` (numbers only),
   `if_not_exists(path, v)` (the path's value if it has one, else v) or
   `list_append(l1, l2)`. Setting a list index past the end appends.
3. ADD adds a number to a number (a missing attribute counts as 0) or the
   members of a set to a set (a missing attribute is the empty set).
4. DELETE takes members out of a set; a set left empty disappears, as
   DynamoDB has no empty sets.
5. REMOVE deletes attributes or list elements. List indexes name elements of
   the *original* list, so removals run last and from the highest index
   down; the elements after a removed one shift left. Removing something
   absent is not an error.
6. A nested path must lead through existing maps and lists ("The document
   path provided in the update expression is invalid for update"); an
   operand of the wrong type is refused ("An operand in the update
   expression has an incorrect data type"). Either refusal changes nothing:
   the update works on a copy.

compile.py has already refused what the request alone shows to be wrong
(overlapping paths, key attributes, operand types of `:values`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from dynamo.storage import numbers
from dynamo.storage.attributes import MAX_ITEM_BYTES, item_size, type_of, values_equal
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import (
    Action,
    AddAction,
    Arithmetic,
    AttributeValue,
    Call,
    DeleteAction,
    Literal,
    Operand,
    Path,
    PathRef,
    RemoveAction,
    SetAction,
    Update,
)
from dynamo.storage.expressions.conditions import lookup

Item = dict[str, AttributeValue]

INVALID_PATH = "The document path provided in the update expression is invalid for update"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
MISSING_OPERAND = ("The provided expression refers to an attribute that does not exist in "
                   "the item")
TOO_LARGE = "Item size to update has exceeded the maximum allowed size"
SET_TYPES = ("SS", "NS", "BS")


@dataclass(frozen=True)
class UpdatedItem:
    """The item after an update, and the paths the update touched."""

    item: Item
    changed: tuple[Path, ...]


def apply_update(update: Update, item: Item) -> UpdatedItem:
    """Apply a substituted update to (a copy of) `item`.

    Raises:
        ValidationException: DynamoDB's runtime refusals (see the module
            docstring); `item` itself is never modified.
    """
    actions = update.actions
    # 1. Read every operand from the original item.
    planned = [(action, _new_value(action, item)) for action in actions]
    result = _copy(item)
    # 2. Write, in path order so that appends past a list's end keep their order.
    writes = [(a, v) for a, v in planned if not isinstance(a, RemoveAction)]
    for action, value in sorted(writes, key=lambda pair: _order(pair[0].path.path)):
        _write(result, action.path.path, value)
    # 3. Remove, highest list index first, so earlier indexes still mean what they said.
    removals = [a.path.path for a in actions if isinstance(a, RemoveAction)]
    for path in sorted(removals, key=_order, reverse=True):
        _remove(result, path)
    if item_size(result) > MAX_ITEM_BYTES:
        raise ValidationException(TOO_LARGE)
    return UpdatedItem(result, tuple(action.path.path for action in actions))


def creates_item(update: Update) -> bool:
    """Whether this update, applied to a missing item, creates it.

    SET and ADD always write a value. REMOVE and DELETE find nothing to act on
    in a missing item, so an update made only of them leaves no item behind
    (DynamoDB neither stores the bare key nor returns `Attributes`). An update
    with no action at all (no UpdateExpression, an empty AttributeUpdates)
    creates the item with its key alone.
    """
    actions = update.actions
    return not actions or any(isinstance(a, (SetAction, AddAction)) for a in actions)


def _copy(value: Item | AttributeValue | None) -> Any:
    """A deep copy. Items are plain JSON, and a JSON round trip through orjson
    copies them several times faster than copy.deepcopy."""
    return None if value is None else orjson.loads(orjson.dumps(value))


def _order(path: Path) -> tuple[tuple[int, int | str], ...]:
    # Indexes before names at the same depth, so mixed paths still sort.
    return tuple((0, e) if isinstance(e, int) else (1, e) for e in path)


# ----------------------------------------------------- computing new values
def _new_value(action: Action, item: Item) -> AttributeValue | None:
    """What the action writes at its path (None: remove the attribute)."""
    match action:
        case SetAction(_, value):
            return _operand(value, item)
        case AddAction(path, Literal(value)):
            return _added(lookup(item, path.path), value)
        case DeleteAction(path, Literal(value)):
            return _deleted(lookup(item, path.path), value)
        case RemoveAction():
            return None
    raise TypeError(f"not a substituted update action: {action!r}")


def _operand(operand: Operand, item: Item) -> AttributeValue:
    match operand:
        case Literal(value):
            return value
        case PathRef():
            value = lookup(item, operand.path)
            if value is None:
                raise ValidationException(MISSING_OPERAND)
            return value
        case Arithmetic(op, left, right):
            return _arithmetic(op, _operand(left, item), _operand(right, item))
        case Call("if_not_exists", (path, fallback)):
            existing = lookup(item, path.path) if isinstance(path, PathRef) else None
            return existing if existing is not None else _operand(fallback, item)
        case Call("list_append", (first, second)):
            head, tail = _operand(first, item), _operand(second, item)
            if "L" not in head or "L" not in tail:
                raise ValidationException(WRONG_TYPE)
            return {"L": head["L"] + tail["L"]}
    raise TypeError(f"not a substituted update operand: {operand!r}")


def _arithmetic(op: str, left: AttributeValue, right: AttributeValue) -> AttributeValue:
    if "N" not in left or "N" not in right:
        raise ValidationException(WRONG_TYPE)
    combine = numbers.add if op == "+" else numbers.subtract
    return {"N": numbers.format_number(combine(Decimal(left["N"]), Decimal(right["N"])))}


def _added(existing: AttributeValue | None, value: AttributeValue) -> AttributeValue:
    """ADD: number plus number, or set union (a missing attribute is 0 / empty)."""
    kind = type_of(value)
    if existing is None:
        return value
    if type_of(existing) != kind:
        raise ValidationException(WRONG_TYPE)
    if kind == "N":
        return _arithmetic("+", existing, value)
    if kind == "L":  # only legacy AttributeUpdates can ADD a list: it appends
        return {"L": existing["L"] + value["L"]}
    members = list(existing[kind])
    for member in value[kind]:
        if not _has_member(members, member, kind):
            members.append(member)
    return {kind: members}


def _deleted(existing: AttributeValue | None, value: AttributeValue) -> AttributeValue | None:
    """DELETE: the set without the given members (None when nothing is left)."""
    if existing is None:
        return None
    kind = type_of(value)
    if type_of(existing) != kind:
        raise ValidationException(WRONG_TYPE)
    members = [m for m in existing[kind] if not _has_member(value[kind], m, kind)]
    return {kind: members} if members else None


def _has_member(members: list, member: str, kind: str) -> bool:
    scalar = kind[0]  # "NS" holds N members
    return any(values_equal({scalar: m}, {scalar: member}) for m in members)


# ------------------------------------------------------- writing into items
def _container(item: Item, path: Path) -> AttributeValue:
    """The map or list that holds the last element of `path`."""
    parent: AttributeValue = {"M": item}
    for element in path[:-1]:
        child = _child(parent, element)
        if child is None:
            raise ValidationException(INVALID_PATH)
        parent = child
    wanted = "L" if isinstance(path[-1], int) else "M"
    if wanted not in parent:
        raise ValidationException(INVALID_PATH)
    return parent


def _child(parent: AttributeValue, element: str | int) -> AttributeValue | None:
    if isinstance(element, int):
        elements = parent.get("L")
        return elements[element] if elements is not None and element < len(elements) else None
    entries = parent.get("M")
    return entries.get(element) if entries is not None else None


def _write(item: Item, path: Path, value: AttributeValue | None) -> None:
    container = _container(item, path)
    last = path[-1]
    # The value may be a piece of the original item (`SET a = b`): copy it, so
    # the new item shares nothing with the old one.
    value = _copy(value)
    if value is None:  # DELETE emptied a set (or found nothing to delete from)
        _drop(container, last)
    elif isinstance(last, int):
        elements = container["L"]
        if last < len(elements):
            elements[last] = value
        else:
            elements.append(value)
    else:
        container["M"][last] = value


def _remove(item: Item, path: Path) -> None:
    _drop(_container(item, path), path[-1])


def _drop(container: AttributeValue, element: str | int) -> None:
    if isinstance(element, int):
        if element < len(container["L"]):
            del container["L"][element]
    else:
        container["M"].pop(element, None)
