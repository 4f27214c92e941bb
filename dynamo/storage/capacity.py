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
`ReturnConsumedCapacity=TOTAL` or `INDEXES`. A local secondary index shares
its table's throughput, so its units are part of the table's `read`/`write`
(admission control charges them to the table) and `local_indexes` only says
how they divide; a global secondary index has throughput of its own, so its
units (`global_indexes`) are added to the request's total, not the table's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    local_indexes: dict[str, float] = field(default_factory=dict)  # within read/write
    global_indexes: dict[str, float] = field(default_factory=dict)  # beside them

    @property
    def total(self) -> float:
        """All units: the table's read and write, and every global index's."""
        return float(self.read + self.write + sum(self.global_indexes.values()))

    def add(self, other: ConsumedCapacity) -> None:
        """Fold another charge on the same table into this one (batches, pages)."""
        self.read += other.read
        self.write += other.write
        for mine, theirs in ((self.local_indexes, other.local_indexes),
                             (self.global_indexes, other.global_indexes)):
            for name, units in theirs.items():
                mine[name] = mine.get(name, 0) + units

    def to_wire(self, mode: str) -> dict[str, Any] | None:
        """The `ConsumedCapacity` member of a response, for ReturnConsumedCapacity.

        NONE (or no mode) reports nothing; TOTAL reports the request's units, a
        write's global indexes' included; INDEXES adds the breakdown: the table's
        own units under `Table`, each index's under `LocalSecondaryIndexes` /
        `GlobalSecondaryIndexes`.
        """
        if mode not in ("TOTAL", "INDEXES"):
            return None
        indexed = sum(self.global_indexes.values())
        # A global index's units are of the request's kind: a write's, or a read's of it.
        read, write = ((self.read, self.write + indexed) if self.write
                       else (self.read + indexed, 0))
        wire: dict[str, Any] = {"TableName": self.table,
                                **_wire_units(self.total, read, write)}
        if mode == "INDEXES":
            local = sum(self.local_indexes.values())
            own = self.read + self.write - local
            # What the table's own rows cost: the reads or writes less its local indexes'.
            wire["Table"] = _wire_units(own, self.read and own, self.write and own)
            for member, indexes in (("LocalSecondaryIndexes", self.local_indexes),
                                    ("GlobalSecondaryIndexes", self.global_indexes)):
                if indexes:
                    wire[member] = {name: {"CapacityUnits": float(units)}
                                    for name, units in indexes.items()}
        return wire


def _wire_units(total: float, read: float, write: float) -> dict[str, float]:
    units = {"CapacityUnits": float(total)}
    if read:
        units["ReadCapacityUnits"] = float(read)
    if write:
        units["WriteCapacityUnits"] = float(write)
    return units
