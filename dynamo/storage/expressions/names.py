"""Placeholders and reserved words: `#name`, `:value`, and names you may not write.

An expression names attributes and values indirectly (Developer Guide,
"Expression attribute names" and "Expression attribute values"):

- `#n` stands for an attribute name given in `ExpressionAttributeNames`. It
  is how a request reaches an attribute whose name is a reserved word
  (reserved_words.txt, DynamoDB's list of 573) or contains characters the
  grammar does not allow (`my-attr`, `a.b` as one name).
- `:v` stands for a value given in `ExpressionAttributeValues`: expressions
  never contain literal values.

`Substitution` replaces the placeholders of a parsed tree with what they
stand for, and keeps count, because DynamoDB refuses a request that uses a
placeholder it does not define, or defines one that none of the request's
expressions use.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from pathlib import Path as FilePath
from typing import Any, TypeVar

from dynamo.storage.attributes import validate_value
from dynamo.storage.errors import ValidationException
from dynamo.storage.expressions.ast import AttributeValue, Literal, NameRef, PathRef, ValueRef

_RESERVED = frozenset((FilePath(__file__).parent / "reserved_words.txt").read_text().split())
_NAME_KEY = re.compile(r"#[0-9A-Za-z_]+\Z")
_VALUE_KEY = re.compile(r":[0-9A-Za-z_]+\Z")

Node = TypeVar("Node")


def is_reserved(name: str) -> bool:
    """True for DynamoDB's reserved words, in any letter case."""
    return name.upper() in _RESERVED


class Substitution:
    """A request's placeholders, and which of them its expressions used."""

    def __init__(self, names: Any, values: Any) -> None:
        self.names: dict[str, str] = _checked_names(names)
        self.values: dict[str, AttributeValue] = _checked_values(values)
        self.unused_names = dict.fromkeys(self.names)
        self.unused_values = dict.fromkeys(self.values)
        self._undefined_name: str | None = None
        self._undefined_value: str | None = None

    def apply(self, node: Node) -> Node:
        """A copy of `node` with every placeholder replaced.

        Raises:
            ValidationException: (bare reason, for the caller to prefix) a
                placeholder the request does not define.
        """
        resolved = self._resolve(node)
        if self._undefined_name is not None:
            raise ValidationException("An expression attribute name used in the document path "
                                      f"is not defined; attribute name: {self._undefined_name}")
        if self._undefined_value is not None:
            raise ValidationException("An expression attribute value used in expression is not "
                                      f"defined; attribute value: {self._undefined_value}")
        return resolved

    def check_all_used(self) -> None:
        """Refuse placeholders that no expression of the request used."""
        if self.unused_names:
            raise ValidationException("Value provided in ExpressionAttributeNames unused in "
                                      f"expressions: keys: {{{', '.join(self.unused_names)}}}")
        if self.unused_values:
            raise ValidationException("Value provided in ExpressionAttributeValues unused in "
                                      f"expressions: keys: {{{', '.join(self.unused_values)}}}")

    def _resolve(self, node: Any) -> Any:
        kind = type(node)
        if kind is ValueRef:
            return Literal(self._value(node.placeholder))
        if kind is PathRef:
            return PathRef(tuple(self._name(element.placeholder)
                                 if type(element) is NameRef else element
                                 for element in node.elements))
        if kind is tuple:
            return tuple(self._resolve(child) for child in node)
        names = _field_names(kind)
        if not names:  # str, int, Literal: nothing inside to substitute
            return node
        return kind(*(self._resolve(getattr(node, name)) for name in names))

    def _name(self, placeholder: str) -> str:
        if placeholder not in self.names:
            self._undefined_name = self._undefined_name or placeholder
            return placeholder
        self.unused_names.pop(placeholder, None)
        return self.names[placeholder]

    def _value(self, placeholder: str) -> AttributeValue:
        if placeholder not in self.values:
            self._undefined_value = self._undefined_value or placeholder
            return {"NULL": True}
        self.unused_values.pop(placeholder, None)
        return self.values[placeholder]


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(kind: type) -> tuple[str, ...]:
    """The fields of an AST node class (cached: this runs on every request)."""
    names = _FIELDS.get(kind)
    if names is None:
        is_node = is_dataclass(kind) and kind is not Literal
        names = tuple(f.name for f in fields(kind)) if is_node else ()
        _FIELDS[kind] = names
    return names


def _checked_names(names: Any) -> dict[str, str]:
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise ValidationException("ExpressionAttributeNames must be a map")
    if not names:
        raise ValidationException("ExpressionAttributeNames must not be empty")
    for key, name in names.items():
        if not isinstance(key, str) or not _NAME_KEY.match(key):
            raise ValidationException("ExpressionAttributeNames contains invalid key: "
                                      f'Syntax error; key: "{key}"')
        if not isinstance(name, str) or not name:
            raise ValidationException("ExpressionAttributeNames contains invalid value: "
                                      f"Empty attribute name for key {key}")
    return dict(names)


def _checked_values(values: Any) -> dict[str, AttributeValue]:
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ValidationException("ExpressionAttributeValues must be a map")
    if not values:
        raise ValidationException("ExpressionAttributeValues must not be empty")
    for key in values:
        if not isinstance(key, str) or not _VALUE_KEY.match(key):
            raise ValidationException("ExpressionAttributeValues contains invalid key: "
                                      f'Syntax error; key: "{key}"')
    checked = {}
    for key, value in values.items():
        try:
            checked[key] = validate_value(value)
        except ValidationException as error:
            raise ValidationException("ExpressionAttributeValues contains invalid value: "
                                      f"{error.message} for key {key}") from None
    return checked
