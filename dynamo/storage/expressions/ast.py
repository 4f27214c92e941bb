"""The syntax tree of DynamoDB's expression languages.

Every expression a request carries (Developer Guide, "Using expressions in
DynamoDB") becomes a tree of these frozen dataclasses. The parser produces
them with placeholders still in place (`NameRef("#n")` inside a path,
`ValueRef(":v")` as an operand); substitution (names.py) then replaces each
placeholder with what `ExpressionAttributeNames` / `ExpressionAttributeValues`
say, so evaluation only ever meets plain names and `Literal` values.

Legacy parameters (`Expected`, `AttributeUpdates`, `QueryFilter`, ...) are
translated onto the same nodes (legacy.py), so one evaluator serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

AttributeValue: TypeAlias = dict[str, Any]

# A resolved document path: map keys (str) and list indexes (int), e.g.
# ("a", "b", 2, "c") for `a.b[2].c`.
Path: TypeAlias = tuple[str | int, ...]


# ------------------------------------------------------------------ operands
@dataclass(frozen=True, slots=True)
class NameRef:
    """An `#name` placeholder inside a document path, before substitution."""

    placeholder: str


@dataclass(frozen=True, slots=True)
class PathRef:
    """A document path used as an operand: `a.b[2]`.

    Before substitution its elements may include `NameRef`s; afterwards they
    are only str and int, and `path` gives the plain tuple.
    """

    elements: tuple[str | int | NameRef, ...]

    @property
    def path(self) -> Path:
        """The elements as a plain path (only valid once substituted)."""
        return self.elements  # type: ignore[return-value]

    @property
    def head(self) -> str | NameRef:
        """The top-level attribute the path starts from."""
        return self.elements[0]  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ValueRef:
    """A `:value` placeholder, before substitution."""

    placeholder: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A concrete attribute value (a substituted `:value`, or a legacy value)."""

    value: AttributeValue


@dataclass(frozen=True, slots=True)
class Call:
    """A function call: `size(a)`, `begins_with(a, :p)`, `if_not_exists(a, :v)`."""

    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """`left + right` or `left - right` on the right-hand side of a SET action."""

    op: str
    left: Operand
    right: Operand


Operand: TypeAlias = PathRef | ValueRef | Literal | Call | Arithmetic


# ---------------------------------------------------------------- conditions
@dataclass(frozen=True, slots=True)
class Comparison:
    """`left op right` with op one of = <> < <= > >=."""

    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Between:
    """`subject BETWEEN low AND high` (both bounds inclusive)."""

    subject: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True, slots=True)
class In:
    """`subject IN (a, b, ...)`: true when subject equals one of them."""

    subject: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class And:
    """`a AND b AND ...`: true when every operand is.

    A chain is one node with many operands rather than a deep binary tree, so
    a long filter does not nest hundreds of levels deep.
    """

    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """`a OR b OR ...`: true when any operand is."""

    operands: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Condition


# A function used as a condition (attribute_exists, begins_with, ...) is a Call.
Condition: TypeAlias = Comparison | Between | In | And | Or | Not | Call


# ------------------------------------------------------------------- updates
@dataclass(frozen=True, slots=True)
class SetAction:
    """`SET path = value`."""

    path: PathRef
    value: Operand


@dataclass(frozen=True, slots=True)
class RemoveAction:
    """`REMOVE path`."""

    path: PathRef


@dataclass(frozen=True, slots=True)
class AddAction:
    """`ADD path :value` (numbers and sets)."""

    path: PathRef
    value: Operand


@dataclass(frozen=True, slots=True)
class DeleteAction:
    """`DELETE path :value` (elements of a set)."""

    path: PathRef
    value: Operand


Action: TypeAlias = SetAction | RemoveAction | AddAction | DeleteAction


@dataclass(frozen=True, slots=True)
class Clause:
    """One section of an update expression: its keyword and its actions."""

    keyword: str  # "SET" | "REMOVE" | "ADD" | "DELETE"
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class Update:
    """A whole UpdateExpression, clauses in the order written."""

    clauses: tuple[Clause, ...]

    @property
    def actions(self) -> tuple[Action, ...]:
        """Every action of every clause, in order."""
        return tuple(action for clause in self.clauses for action in clause.actions)


@dataclass(frozen=True, slots=True)
class Projection:
    """A ProjectionExpression: the document paths to keep."""

    paths: tuple[PathRef, ...]


Expression: TypeAlias = Condition | Update | Projection
