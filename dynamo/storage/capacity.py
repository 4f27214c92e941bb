"""Capacity units: what a request costs, in DynamoDB's currency.

DynamoDB meters work in capacity units (paper §4; Developer Guide,
"Read/write capacity mode" and "Capacity unit consumption"):

* one read capacity unit (RCU) is one strongly consistent read of up to 4 KB
  a second; an eventually consistent read costs half;
* one write capacity unit (WCU) is one write of up to 1 KB a second.

Sizes round *up*, and every request costs at least one unit, so reading a
100-byte item costs as much as reading a 4 KB one, and reading a missing item
still costs one RCU (half if eventual). GetItem, and each item of BatchGetItem,
rounds on its own; Query and Scan add up the sizes of every item they
*evaluated* (before any filter) and round once for the page. Writes are
charged on the larger of the item before and after (the caller passes that
size). Admission control (paper §4.1-§4.2) spends exactly these units from
its token buckets, which is why they are computed in one place.

`ConsumedCapacity` is what a request reports back when the client sends
`ReturnConsumedCapacity=TOTAL` or `INDEXES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


# --8<-- [start:units]
def _units(size_bytes: int, unit_bytes: int) -> int:
    """Whole units for a size, rounded up, never fewer than one."""
    return max(1, -(-size_bytes // unit_bytes))


def read_units(size_bytes: int, consistent: bool) -> float:
    """RCUs for reading one item of this size (pass 0 for a missing item)."""
    units = _units(size_bytes, READ_UNIT_BYTES)
    return float(units) if consistent else units / 2


def write_units(size_bytes: int) -> float:
    """WCUs for writing one item of this size (the larger of old and new)."""
    return float(_units(size_bytes, WRITE_UNIT_BYTES))
# --8<-- [end:units]


def page_read_units(total_bytes: int, consistent: bool) -> float:
    """RCUs for a Query or Scan page: the evaluated items' sizes summed, rounded once.

    40.8 KB of items cost 11 RCUs (44 KB / 4 KB) strongly consistent, where
    reading them one by one would round each item up separately.
    """
    return read_units(total_bytes, consistent)


@dataclass
class ConsumedCapacity:
    """Units one request consumed on one table."""

    table: str
    read: float = 0
    write: float = 0

    @property
    def total(self) -> float:
        """All units, read and write together."""
        return float(self.read + self.write)

    def add(self, other: ConsumedCapacity) -> None:
        """Fold another charge on the same table into this one (batches, pages)."""
        self.read += other.read
        self.write += other.write

    def to_wire(self, mode: str) -> dict[str, Any] | None:
        """The `ConsumedCapacity` member of a response, for ReturnConsumedCapacity.

        NONE (or no mode) reports nothing; TOTAL reports the table's units;
        INDEXES adds the per-table breakdown under `Table` (the lab has no
        secondary indexes yet, so the table carries every unit).
        """
        if mode not in ("TOTAL", "INDEXES"):
            return None
        wire: dict[str, Any] = {"TableName": self.table, **self._units()}
        if mode == "INDEXES":
            wire["Table"] = self._units()
        return wire

    def _units(self) -> dict[str, float]:
        units = {"CapacityUnits": self.total}
        if self.read:
            units["ReadCapacityUnits"] = float(self.read)
        if self.write:
            units["WriteCapacityUnits"] = float(self.write)
        return units
