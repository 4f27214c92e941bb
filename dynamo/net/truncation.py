"""Dropping the write-ahead log behind a replica's B-tree (§5.2; DESIGN "Storage and durability").

Once the WAL is the durable record, the B-tree is a cache of it, as in ARIES:
it records the last log position it applied in the same SQLite transaction
as the changes. When a replica persists a `Snapshot` marker (its B-tree holds
every slot up to the marker), the log segments holding only older records are
redundant: a restart rebuilds from the B-tree plus the log's tail. A replica
process (`dynamo.net.group.run_node`) truncates with `truncate_behind`; a
storage node, whose replicas share one log, truncates once every replica it
hosts has marked its log (`dynamo.net.node_disk`).
"""

from __future__ import annotations

from dynamo.storage.btree import BTree
from dynamo.wal import WriteAheadLog


def truncate_behind(log: WriteAheadLog, btree: BTree, wal_lsn_of_slot: dict[int, int],
                    index: int) -> None:
    """The B-tree holds slots <= index: make it durable, then drop the segments behind it.

    `wal_lsn_of_slot` maps each accepted slot still in the log to the WAL position
    of its record; slots <= index are forgotten, and every sealed segment holding
    only records older than the oldest slot still needed is removed. The replica
    re-persists its promise after the marker, so no promise is lost.
    """
    btree.sync()  # a full SQLite checkpoint: the B-tree no longer needs these records
    for slot in [s for s in wal_lsn_of_slot if s <= index]:
        del wal_lsn_of_slot[slot]
    needed = min(wal_lsn_of_slot.values(), default=log.last_lsn)
    for segment in log.segments():
        if segment.sealed and segment.last_lsn < needed:
            log.remove_segment(segment)
