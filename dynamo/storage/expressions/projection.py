"""Projections: the parts of an item a read returns.

A ProjectionExpression (or legacy AttributesToGet) lists document paths
(Developer Guide, "Projection expressions"). The result keeps each selected
value at its place in the item's structure: projecting `a.b[1].c` out of an
item returns `{"a": {"M": {"b": {"L": [{"M": {"c": ...}}]}}}}`. Selected list
elements keep their relative order and close up the gaps (`l[0], l[2]` gives
a two-element list); paths that lead nowhere contribute nothing.

The same function serves ReturnValues=UPDATED_OLD/UPDATED_NEW, which return
the paths an update touched.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from dynamo.storage.expressions.ast import AttributeValue, Path
from dynamo.storage.expressions.conditions import lookup

Item = dict[str, AttributeValue]


def project(item: Item, paths: Sequence[Path]) -> Item:
    """The parts of `item` that `paths` select, in their nested structure."""
    selected: dict[str, Any] = {}
    for path in paths:
        value = lookup(item, path)
        if value is not None:
            _place(selected, path, value)
    return {name: _finish(node) for name, node in selected.items()}


# While building, a selected part of a map is {"M": {name: node}} and of a list
# {"L": {index: node}} (a dict, so indexes may arrive in any order); a leaf is
# ("value", v). _finish turns the index dicts into lists.
def _place(selected: dict[str, Any], path: Path, value: AttributeValue) -> None:
    entries: dict[Any, Any] = selected
    for element, following in zip(path, path[1:], strict=False):
        node = entries.setdefault(element, {"L" if isinstance(following, int) else "M": {}})
        if isinstance(node, tuple):  # an enclosing path already selected it all
            return
        entries = node.get("L", node.get("M"))
        if entries is None:
            return
    entries[path[-1]] = ("value", value)


def _finish(node: Any) -> AttributeValue:
    if isinstance(node, tuple):
        return copy.deepcopy(node[1])
    if "L" in node:
        return {"L": [_finish(node["L"][index]) for index in sorted(node["L"])]}
    return {"M": {name: _finish(child) for name, child in node["M"].items()}}
