"""The outbox and the index partition's versioned apply, on real partition stores (§2).

A base partition's write queues its global-index updates in the item's outbox
row, folded with what the indexes have not been told yet; an index partition
applies an entry's update only if its sequence is newer than the one it holds,
and keeps that sequence after a delete (a tombstone).
"""

from __future__ import annotations

from dynamo.indexes.fleet import INDEXED_KV
from dynamo.partitioning.keyspace import KEY_SPACE, KeyRange
from dynamo.partitioning.partition_store import PartitionStore
from dynamo.paxos.operations import KV_TABLE, DeleteItem, PutItem
from dynamo.paxos.statemachine import InFlight
from dynamo.storage import outbox
from dynamo.storage.btree import BTree
from dynamo.storage.indexes import entry_key, index_tbl
from dynamo.storage.keys import item_key

BY_VALUE = INDEXED_KV.global_indexes[0]
INDEX_TBL = index_tbl(KV_TABLE.tbl, BY_VALUE)


def store() -> PartitionStore:
    return PartitionStore(BTree(None), "p", KeyRange(0, KEY_SPACE))


def write(partition: PartitionStore, request: object, slot: list[int]) -> object:
    """Plan at the leader and apply, as the log would: the answer."""
    command, answer = partition.plan(request, InFlight(partition.btree))
    slot[0] += 1
    if command is not None:
        assert partition.apply(slot[0], command)
    return answer


def put(value: str) -> PutItem:
    return PutItem(INDEXED_KV, {"k": {"S": "a"}, "v": {"S": value}})


KEY = item_key(KV_TABLE.key_schema, {"k": {"S": "a"}})


def entry_of(value: str) -> object:
    return entry_key(KV_TABLE.key_schema, BY_VALUE, {"k": {"S": "a"}, "v": {"S": value}})


def test_successive_writes_fold_into_one_row_the_latest_entry_wins() -> None:
    base, slot = store(), [0]
    for value in ("x", "y", "x", "z"):
        write(base, put(value), slot)
    row = outbox.pending(base.btree, KV_TABLE.tbl, KEY)
    assert row is not None and row.seq == 4
    update = row.updates[BY_VALUE.name]
    assert update.put is not None and update.put.key == entry_of("z")
    assert set(update.deletes) == {entry_of("x"), entry_of("y")}  # earlier keys: deleted


def test_a_mark_drops_the_row_only_at_the_sequence_shipped() -> None:
    base, slot = store(), [0]
    write(base, put("x"), slot)
    write(base, put("y"), slot)
    write(base, outbox.MarkPropagated(KV_TABLE.tbl, KEY, 1), slot)  # shipped at 1: stale
    assert outbox.pending(base.btree, KV_TABLE.tbl, KEY) is not None
    write(base, outbox.MarkPropagated(KV_TABLE.tbl, KEY, 2), slot)
    assert outbox.pending(base.btree, KV_TABLE.tbl, KEY) is None
    assert outbox.sequence(base.btree, KV_TABLE.tbl, KEY) == 2  # the sequence survives


def test_an_item_deleted_and_written_again_counts_on() -> None:
    base, slot = store(), [0]
    write(base, put("x"), slot)
    write(base, DeleteItem(INDEXED_KV, {"k": {"S": "a"}}), slot)
    write(base, put("x"), slot)
    assert outbox.sequence(base.btree, KV_TABLE.tbl, KEY) == 3


def test_a_write_no_index_sees_leaves_the_outbox_alone() -> None:
    base, slot = store(), [0]
    write(base, put("x"), slot)
    write(base, PutItem(INDEXED_KV, {"k": {"S": "a"}, "v": {"S": "x"}}), slot)
    assert outbox.sequence(base.btree, KV_TABLE.tbl, KEY) == 1


def test_a_late_old_update_never_resurrects_a_deleted_entry() -> None:
    """The index partition's tombstone: a put at sequence 1 arriving after the delete at
    sequence 2 is ignored, and so is a duplicate of an update already applied."""
    index, slot = store(), [0]
    key = entry_of("x")
    item = {"k": {"S": "a"}, "v": {"S": "x"}}
    write(index, outbox.IndexWrite(INDEX_TBL, key, 1, item), slot)
    assert index.btree.get(INDEX_TBL, key) == item
    write(index, outbox.IndexWrite(INDEX_TBL, key, 2, None), slot)
    write(index, outbox.IndexWrite(INDEX_TBL, key, 1, item), slot)  # late, reordered
    assert index.btree.get(INDEX_TBL, key) is None
    write(index, outbox.IndexWrite(INDEX_TBL, key, 3, item), slot)
    write(index, outbox.IndexWrite(INDEX_TBL, key, 3, None), slot)  # same sequence: a dup
    assert index.btree.get(INDEX_TBL, key) == item


def test_outbox_rows_move_with_their_item_when_the_partition_splits() -> None:
    base, slot = store(), [0]
    write(base, put("x"), slot)
    halves = KeyRange(0, KEY_SPACE).split_at(KEY_SPACE // 2)
    moved = [m for half in halves for m in base.child_items(half)
             if m.tbl == outbox.outbox_tbl(KV_TABLE.tbl)]
    assert [m.key for m in moved] == [KEY]


def test_the_network_codec_carries_the_outbox_requests() -> None:
    """`dynamo.net` frames every request a storage node may be sent, a global index's
    updates and backfills included, and gives back equal values."""
    from dynamo.net.group import paxos_codec

    codec = paxos_codec()
    key = item_key(KV_TABLE.key_schema, {"k": {"S": "a"}})
    entry = entry_key(KV_TABLE.key_schema, BY_VALUE, {"k": {"S": "a"}, "v": {"S": "x"}})
    assert entry is not None
    for request in (outbox.IndexWrite(INDEX_TBL, entry, 3, {"v": {"S": "x"}}),
                    outbox.MarkPropagated(KV_TABLE.tbl, key, 3),
                    outbox.BackfillItem(INDEXED_KV, BY_VALUE.name, key)):
        assert codec.loads(codec.dumps(request)) == request
