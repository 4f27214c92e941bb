"""Evaluating conditions against an item: ConditionExpression and FilterExpression.

A condition (Developer Guide, "Comparison operator and function reference")
is asked of one item: the stored item for a conditional write (a missing
item is `{}`), or each item a Query or Scan reads, for a filter. The rules
DynamoDB follows, and this evaluator with it:

- An operand is a document path read from the item, a value from the
  request, or `size(...)`. A path that leads nowhere (a missing attribute,
  an index past the end of a list, a `.key` on something that is not a map)
  has no value.
- `=` needs two values of the same type that are equal (numbers by value,
  sets in any order). `<>` is its negation, so it is true when either side
  has no value.
- `<`, `<=`, `>`, `>=` and `BETWEEN` order numbers, strings (by UTF-8 bytes)
  and binaries (by bytes). A *stored* value of another type, or two different
  types, is not an error: the comparison is simply false. (A `:value` of a
  type the operator does not take never gets here: compile.py refuses it,
  following the table in operands.py.)
- `IN` is true when the subject equals one of the options.
- Functions: `attribute_exists`, `attribute_not_exists`,
  `attribute_type(path, :t)`, `begins_with(path, :prefix)` (strings and
  binaries), `contains(path, :x)` (substring of a string or binary, member
  of a set, element of a list), and `size(path)`, an operand.
- `AND`, `OR`, `NOT` combine the results.

Evaluation never raises for a mismatch found in the *item*; only a request
that is wrong in itself is refused, and compile.py refuses it earlier.
"""

from __future__ import annotations

from dynamo.storage.attributes import (
    compare_values,
    decode_binary,
    type_of,
    values_equal,
)
from dynamo.storage.expressions.ast import (
    And,
    AttributeValue,
    Between,
    Call,
    Comparison,
    Condition,
    In,
    Literal,
    Not,
    Operand,
    Or,
    Path,
    PathRef,
)

Item = dict[str, AttributeValue]

# Which way a three-way comparison must come out for each operator.
_ORDERINGS = {
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


# --8<-- [start:evaluate]
def evaluate(condition: Condition, item: Item | None) -> bool:
    """True when `item` satisfies `condition` (a substituted tree).

    A missing item (a conditional write on a new key) is the empty item.
    """
    return _holds(condition, item or {})


def _holds(condition: Condition, item: Item) -> bool:
    match condition:
        case And(operands):
            return all(_holds(operand, item) for operand in operands)
        case Or(operands):
            return any(_holds(operand, item) for operand in operands)
        case Not(operand):
            return not _holds(operand, item)
        case Comparison(op, left, right):
            return compare(op, value_of(left, item), value_of(right, item))
        case Between(subject, low, high):
            return between(value_of(subject, item), value_of(low, item), value_of(high, item))
        case In(subject, options):
            value = value_of(subject, item)
            return value is not None and any(
                compare("=", value, value_of(option, item)) for option in options)
        case Call(name, args):
            return _function(name, args, item)
    raise TypeError(f"not a condition: {condition!r}")


def compare(op: str, left: AttributeValue | None, right: AttributeValue | None) -> bool:
    """`left op right` under DynamoDB's rules (None: the operand has no value)."""
    if op == "<>":
        return not compare("=", left, right)
    if left is None or right is None:
        return False
    if op == "=":
        return values_equal(left, right)
    order = compare_values(left, right)
    return order is not None and _ORDERINGS[op](order)
# --8<-- [end:evaluate]


def between(value: AttributeValue | None, low: AttributeValue | None,
            high: AttributeValue | None) -> bool:
    """`value BETWEEN low AND high`, both ends included."""
    return compare(">=", value, low) and compare("<=", value, high)


# --8<-- [start:functions]
def _function(name: str, args: tuple[Operand, ...], item: Item) -> bool:
    if name == "attribute_exists":
        return value_of(args[0], item) is not None
    if name == "attribute_not_exists":
        return value_of(args[0], item) is None
    values = [value_of(arg, item) for arg in args]
    if values[0] is None or values[1] is None:
        return False
    if name == "attribute_type":
        return type_of(values[0]) == values[1].get("S")
    if name == "begins_with":
        return begins_with(values[0], values[1])
    if name == "contains":
        return contains(values[0], values[1])
    raise ValueError(f"not a condition function: {name}")
# --8<-- [end:functions]


def begins_with(value: AttributeValue, prefix: AttributeValue) -> bool:
    """True when a string (or binary) value starts with the prefix of its type."""
    # BEGIN ASSIGNMENT ch01-functions: begins_with is true for an S value starting with an S prefix, or a B value starting with a B prefix; false otherwise
    kind = type_of(value)
    if kind != type_of(prefix):
        return False
    if kind == "S":
        return bool(value["S"].startswith(prefix["S"]))
    if kind == "B":
        return decode_binary(value["B"]).startswith(decode_binary(prefix["B"]))
    return False
    # END ASSIGNMENT


def contains(value: AttributeValue, operand: AttributeValue) -> bool:
    """Substring of S or B, member of a set, or element of a list."""
    kind = type_of(value)
    if kind == "S" and type_of(operand) == "S":
        return operand["S"] in value["S"]
    if kind == "B" and type_of(operand) == "B":
        return decode_binary(operand["B"]) in decode_binary(value["B"])
    if kind in ("SS", "NS", "BS"):
        member_type = kind[0]
        return type_of(operand) == member_type and any(
            values_equal({member_type: member}, operand) for member in value[kind])
    if kind == "L":
        return any(values_equal(element, operand) for element in value["L"])
    return False


def size(value: AttributeValue) -> AttributeValue | None:
    """`size(x)` as a Number: the length of S (in UTF-16 code units, as DynamoDB
    counts), the bytes of B, the members of a set, the elements of L or M.
    None (no value) for N, BOOL and NULL."""
    # BEGIN ASSIGNMENT ch01-functions: size is the length of S (UTF-16 code units), bytes of B, or number of members/elements of a set, L or M; None for other types
    kind = type_of(value)
    if kind == "S":
        length = len(value["S"].encode("utf-16-le", "surrogatepass")) // 2
    elif kind == "B":
        length = len(decode_binary(value["B"]))
    elif kind in ("SS", "NS", "BS", "L", "M"):
        length = len(value[kind])
    else:
        return None
    return {"N": str(length)}
    # END ASSIGNMENT


def value_of(operand: Operand, item: Item) -> AttributeValue | None:
    """The value an operand has for this item, or None when it has none."""
    match operand:
        case Literal(value):
            return value
        case PathRef():
            return lookup(item, operand.path)
        case Call("size", (argument,)):
            value = value_of(argument, item)
            return None if value is None else size(value)
    raise TypeError(f"not a condition operand: {operand!r}")


def lookup(item: Item, path: Path) -> AttributeValue | None:
    """Follow a document path into an item; None where it leads nowhere."""
    current: AttributeValue | None = item.get(path[0])  # type: ignore[arg-type]
    for element in path[1:]:
        if current is None:
            return None
        if isinstance(element, int):
            elements = current.get("L")
            current = elements[element] if elements is not None and element < len(elements) \
                else None
        else:
            entries = current.get("M")
            current = entries.get(element) if entries is not None else None
    return current

