"""Which value types each comparator and function accepts: the one table.

DynamoDB refuses a condition whose own values could never be compared,
before it reads any item (Developer Guide, "Comparison operator and function
reference"; API Reference, `Condition`, for the legacy operators):

- `<`, `<=`, `>`, `>=` and `BETWEEN` order strings, numbers and binaries
  only: a list, map, set, boolean or null `:value` is refused;
- `IN` takes strings, numbers and binaries ("not a set type");
- `begins_with` takes a string or binary prefix;
- `contains` looks for a substring or an element: "b cannot be a set, a map,
  or a list";
- `=` and `<>` compare any two values.

`OPERAND_TYPES` is that rule, and nothing else in the package repeats it:
checks.py applies it to expressions (ConditionExpression, FilterExpression,
KeyConditionExpression), legacy.py to `Expected`, `QueryFilter` and
`ScanFilter` through `LEGACY_NAMES`, and docs/api.md shows
`markdown_table()` (a test keeps the page equal to it).

Only what the request itself shows is checked: a `:value`, or `size(...)`,
which is a number. A path's type is known only once the item is read, and a
mismatch there is not an error: the condition is false (conditions.py).
"""

from __future__ import annotations

ALL_TYPES = ("S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M")
ORDERED = ("S", "N", "B")

# operator or function -> the value types its operands may have.
OPERAND_TYPES: dict[str, tuple[str, ...]] = {
    "=": ALL_TYPES,
    "<>": ALL_TYPES,
    "<": ORDERED,
    "<=": ORDERED,
    ">": ORDERED,
    ">=": ORDERED,
    "BETWEEN": ORDERED,
    "IN": ORDERED,
    "begins_with": ("S", "B"),
    "contains": ("S", "N", "B", "BOOL", "NULL"),
}

# A legacy ComparisonOperator -> the entry of OPERAND_TYPES it follows.
LEGACY_NAMES = {
    "EQ": "=", "NE": "<>", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=",
    "BETWEEN": "BETWEEN", "IN": "IN", "BEGINS_WITH": "begins_with",
    "CONTAINS": "contains", "NOT_CONTAINS": "contains",
}


def accepts(name: str, kind: str) -> bool:
    """True when operator or function `name` takes a value of type `kind`.

    Names the table does not list (attribute_exists, size, ...) have rules
    of their own in checks.py.
    """
    allowed = OPERAND_TYPES.get(name)
    return allowed is None or kind in allowed


def legacy_accepts(operator: str, kind: str) -> bool:
    """The same rule for a legacy ComparisonOperator (NULL and NOT_NULL take no values)."""
    name = LEGACY_NAMES.get(operator)
    return name is None or accepts(name, kind)


def markdown_table() -> str:
    """The table as docs/api.md shows it: one row per operator, one column per type."""
    legacy: dict[str, list[str]] = {}
    for operator, name in LEGACY_NAMES.items():
        legacy.setdefault(name, []).append(operator)
    header = "| operator or function | legacy | " + " | ".join(ALL_TYPES) + " |"
    rule = "|---|---|" + "---|" * len(ALL_TYPES)
    rows = [header, rule]
    for name, allowed in OPERAND_TYPES.items():
        marks = " | ".join("yes" if kind in allowed else "—" for kind in ALL_TYPES)
        rows.append(f"| `{name}` | {', '.join(legacy.get(name, []))} | {marks} |")
    return "\n".join(rows) + "\n"
