"""The four eras of admission control, as one switch (§4).

`dynamo serve --admission ERA` picks one, so a student can replay the story:

* `static` (§4): each partition gets an even share of its table's throughput,
  enforced by a token bucket at its storage node; nothing more.
* `bursting` (§4.1.1): as static, plus 300 seconds of unused capacity kept
  per partition and spent while the storage node has capacity to spare.
* `adaptive` (§4.1.2): as bursting, plus a proportional controller that
  raises the allocation of throttled partitions while their table stays
  within its provisioned throughput.
* `gac` (§4.2): global admission control. Request routers admit against
  table-level tokens vended by GAC; partitions may burst up to the maximum
  partition capacity, whose buckets stay on the storage nodes as a safety cap,
  beside the node-level buckets.
"""

from __future__ import annotations

from enum import StrEnum


class Era(StrEnum):
    STATIC = "static"
    BURSTING = "bursting"
    ADAPTIVE = "adaptive"
    GAC = "gac"

    @property
    def bursts(self) -> bool:
        """Whether partitions keep unused capacity as burst capacity."""
        return self is not Era.STATIC

    @property
    def divides_table(self) -> bool:
        """Whether partitions are allocated shares of their table's throughput (eras 1-3);
        under GAC the table's limit is kept by the routers instead."""
        return self is not Era.GAC


ERAS = tuple(era.value for era in Era)
DEFAULT_ERA = Era.GAC
