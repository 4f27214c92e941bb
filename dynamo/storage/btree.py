"""A replica's B-tree: the items one storage replica holds, in SQLite.

Each storage replica keeps "a B-tree of the key-value data" beside its
write-ahead log (paper §3, Fig. 2). Ours is one SQLite file per replica,
opened through sqlite-utils, with every table's items in one clustered index:

    items(tbl, h, pk, sk, item, size)  PRIMARY KEY (tbl, h, pk, sk)  WITHOUT ROWID

`h` is the partition key's 16-byte place in the hashed key space, `pk` and `sk` the
order-preserving encodings of the partition and sort key (`keys.py`), so that
SQLite's bytewise BLOB order *is* DynamoDB's order. That one choice gives the
two access paths of the data plane for free:

* a **Query** is an index range scan on `(tbl, h, pk, sk-range)`: the items of
  one partition key, already sorted by sort key (§1 "stored together in
  ascending sort key order"); never a filter over the whole partition;
* a **Scan** walks `(h, pk, sk)`: hash order, the order in which DynamoDB's
  partitions cover the key space (§3). A parallel scan's segments are equal
  slices of the 128-bit hash space.

Durability rules (DESIGN "Storage and durability"):

* `journal_mode=WAL` so readers never block the writer;
* `synchronous=FULL` by default: in WAL mode NORMAL skips the fsync at commit,
  so a power loss can roll back transactions SQLite already reported as
  committed, i.e. writes DynamoDB had acknowledged. When the write-ahead log
  of `dynamo.wal` becomes the durable record it may ask for NORMAL, because
  recovery replays the log from `applied_lsn`;
* the last log sequence number applied is stored in `meta` *in the same
  transaction* as the changes (ARIES: the B-tree is a cache of the log, and
  knows exactly how far it has caught up).

A `BTree` keeps one connection; callers serialise their use of it (the layers
above run one writer per replica). Hot paths use prepared, parameterised SQL
on the sqlite3 connection underneath sqlite-utils (sqlite3 caches the
prepared statements); the catalog uses sqlite-utils' table helpers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import orjson
import sqlite_utils

from dynamo.storage.attributes import Item, item_size
from dynamo.storage.keys import EncodedKey, hash_position

HASH_SPACE = 1 << 128  # the hashed key space: every 16-byte hash position

# --8<-- [start:schema]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    tbl  TEXT    NOT NULL,
    h    BLOB    NOT NULL,
    pk   BLOB    NOT NULL,
    sk   BLOB    NOT NULL,
    item BLOB    NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY (tbl, h, pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('applied_lsn', 0);
"""
# --8<-- [end:schema]

_GET = "SELECT item, size FROM items WHERE tbl = ? AND h = ? AND pk = ? AND sk = ?"
_PUT = "INSERT OR REPLACE INTO items (tbl, h, pk, sk, item, size) VALUES (?, ?, ?, ?, ?, ?)"
_DELETE = "DELETE FROM items WHERE tbl = ? AND h = ? AND pk = ? AND sk = ?"
_RECORD_LSN = "UPDATE meta SET value = max(value, ?) WHERE key = 'applied_lsn'"
_COLUMNS = "h, pk, sk, item, size"

# Rows are fetched in chunks (keyset pagination), each chunk one complete
# statement, so no read stays open while the caller writes. Chunks start
# small (a Query with Limit=1 reads one row's worth) and grow for long scans.
_FIRST_CHUNK = 16
_MAX_CHUNK = 1024


@dataclass(frozen=True)
class Mutation:
    """One change to the B-tree: store `item` under `key`, or delete it (None).

    A mutation carries the whole after-image, never a delta, so applying it
    twice is harmless: recovery may replay a log record the B-tree already has.
    """

    tbl: str
    key: EncodedKey
    item: Item | None
    # The item's size (attributes.item_size), when whoever planned the write already
    # knows it; computed on apply otherwise. Not part of what the mutation *is*.
    size: int | None = field(default=None, compare=False)


class Entry(NamedTuple):
    """One stored item as a range or scan yields it."""

    key: EncodedKey
    item: Item
    size: int


class BTree:
    """The items of every table on one replica, in one SQLite file.

    Args:
        path: the SQLite file; None keeps the B-tree in memory (tests, demos).
        synchronous: SQLite's `synchronous` pragma, FULL unless a write-ahead
            log is the durable record (see the module docstring).
    """

    def __init__(self, path: str | Path | None = None, *, synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError(f"synchronous must be FULL, NORMAL or EXTRA, not {synchronous!r}")
        self.path = None if path is None else Path(path)
        target = ":memory:" if path is None else str(path)
        # check_same_thread=False: the API may hand a request to a worker
        # thread; the caller still serialises use of this connection.
        self.conn = sqlite3.connect(target, check_same_thread=False)
        self.db = sqlite_utils.Database(self.conn)
        if path is not None:
            self.db.enable_wal()
        self.synchronous = synchronous
        self.conn.execute(f"PRAGMA synchronous={synchronous}")
        with self.db.atomic():
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self.conn.execute(statement)

    # -- items -------------------------------------------------------------

    def get(self, tbl: str, key: EncodedKey) -> Item | None:
        """The item stored under `key`, or None."""
        return self.get_with_size(tbl, key)[0]

    def get_with_size(self, tbl: str, key: EncodedKey) -> tuple[Item | None, int]:
        """The item stored under `key` (or None) and its size as stored (0 if none),
        so capacity is charged without measuring the item again."""
        row = self.conn.execute(_GET, (tbl, key.hash, key.partition, key.sort)).fetchone()
        return (None, 0) if row is None else (orjson.loads(row[0]), row[1])

    def apply(self, mutations: Sequence[Mutation], lsn: int | None = None) -> None:
        """Apply `mutations` in one SQLite transaction, recording `lsn` with them.

        All of them land or none does. `applied_lsn` only moves forward: a
        batch replayed twice cannot drag it back.
        """
        if self.conn.in_transaction:  # inside a caller's transaction: a savepoint of it
            with self.db.atomic():
                self._write(mutations, lsn)
        else:
            # sqlite3's own transaction (BEGIN before the first change, COMMIT on
            # leaving, ROLLBACK on an error) costs less than sqlite-utils' atomic().
            with self.conn:
                self._write(mutations, lsn)

    def _write(self, mutations: Sequence[Mutation], lsn: int | None) -> None:
        for mutation in mutations:
            key = mutation.key
            if mutation.item is None:
                self.conn.execute(_DELETE, (mutation.tbl, key.hash, key.partition, key.sort))
            else:
                size = item_size(mutation.item) if mutation.size is None else mutation.size
                self.conn.execute(_PUT, (mutation.tbl, key.hash, key.partition, key.sort,
                                         orjson.dumps(mutation.item), size))
        if lsn is not None:
            self.conn.execute(_RECORD_LSN, (lsn,))

    def applied_lsn(self) -> int:
        """The log sequence number of the last change applied (0: none yet)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'applied_lsn'").fetchone()
        return int(row[0])

    # -- replica metadata and whole-replica copies (a replication group's needs) --

    def meta(self, key: str) -> object | None:
        """A replica-level setting stored beside the items (None if never set)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def set_meta(self, key: str, value: object, lsn: int) -> None:
        """Store a setting and record `lsn` as applied, in one transaction.

        A replica applies a membership change from its log this way, so that
        after a crash the members it knows match the log position it knows.
        """
        with self.db.atomic():
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                              (key, orjson.dumps(value)))
            self.conn.execute(_RECORD_LSN, (lsn,))

    def sync(self) -> None:
        """Make every committed transaction durable (a full checkpoint of SQLite's WAL).

        Under synchronous=NORMAL commits are not fsynced; before a write-ahead
        log may drop the records a B-tree has applied, the B-tree must be on disk.
        """
        self.conn.execute("PRAGMA wal_checkpoint(FULL)")

    @contextmanager
    def durable(self) -> Iterator[None]:
        """Commit what the block writes with synchronous=FULL, whatever the B-tree runs with.

        For data that no write-ahead log covers (the table catalog beside the items):
        FULL fsyncs SQLite's WAL file at commit, covering every earlier commit too.
        """
        if self.synchronous == "FULL":
            yield
            return
        self.conn.execute("PRAGMA synchronous=FULL")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA synchronous={self.synchronous}")

    def dump(self) -> list[Mutation]:
        """Every item of every table, as the mutations that would recreate them.

        What a leader ships to a replica too far behind for the log to help
        (a B-tree snapshot, §5.1's copy of a replica).
        """
        rows = self.conn.execute("SELECT tbl, h, pk, sk, item FROM items ORDER BY tbl, h, pk, sk")
        return [Mutation(tbl, EncodedKey(h, pk, sk), orjson.loads(blob))
                for tbl, h, pk, sk, blob in rows]

    def replace_all(self, mutations: Sequence[Mutation], lsn: int) -> None:
        """Discard every item and load `mutations` instead, recording `lsn`, atomically.

        `applied_lsn` is set to `lsn` even if it was higher: the snapshot
        being installed is the state as of `lsn`.
        """
        with self.db.atomic():
            self.conn.execute("DELETE FROM items")
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'applied_lsn'", (lsn,))
            self.apply(mutations, lsn)  # nested: a savepoint inside the same transaction

    # -- access paths -------------------------------------------------------

    def range(self, tbl: str, partition: bytes, *,
              low: bytes | None = None, low_inclusive: bool = True,
              high: bytes | None = None, high_inclusive: bool = True,
              forward: bool = True, start_after: EncodedKey | None = None) -> Iterator[Entry]:
        """The items of one partition key whose sort key lies in a range, in order.

        This is a Query's index range scan: `partition` is the encoded
        partition key, `low`/`high` encoded sort-key bounds (None: unbounded),
        `forward` False walks the range backwards (ScanIndexForward=false), and
        `start_after` resumes after an ExclusiveStartKey.
        """
        h = hash_position(partition)
        if start_after is not None:
            if forward:
                low, low_inclusive = _tighter(low, low_inclusive, start_after.sort, False, max)
            else:
                high, high_inclusive = _tighter(high, high_inclusive, start_after.sort, False, min)
        chunk = _FIRST_CHUNK
        while True:
            sql = _range_sql(_bound_op(low, low_inclusive, ">"),
                             _bound_op(high, high_inclusive, "<"), forward)
            params = [tbl, h, partition]
            params += [b for b in (low, high) if b is not None]
            rows = self.conn.execute(sql, (*params, chunk)).fetchall()
            yield from (_entry(row) for row in rows)
            if len(rows) < chunk:
                return
            # The next chunk resumes strictly after the last sort key seen.
            if forward:
                low, low_inclusive = rows[-1][2], False
            else:
                high, high_inclusive = rows[-1][2], False
            chunk = min(chunk * 2, _MAX_CHUNK)

    def scan(self, tbl: str, segment: int = 0, total_segments: int = 1,
             start_after: EncodedKey | None = None) -> Iterator[Entry]:
        """Every item of `tbl` in one scan segment, in (hash, partition, sort) order.

        Segment `i` of `n` covers the hash positions `[ceil(i*2^64/n),
        ceil((i+1)*2^64/n))`, so the segments partition the table exactly.
        """
        low, high = segment_bounds(segment, total_segments)
        after = None
        if start_after is not None and start_after.hash >= low:
            after = (start_after.hash, start_after.partition, start_after.sort)
        chunk = _FIRST_CHUNK
        while True:
            rows = self._scan_chunk(tbl, low, high, after, chunk)
            yield from (_entry(row) for row in rows)
            if len(rows) < chunk:
                return
            after = tuple(rows[-1][:3])
            chunk = min(chunk * 2, _MAX_CHUNK)

    def _scan_chunk(self, tbl: str, low: bytes, high: bytes | None,
                    after: tuple[bytes, ...] | None, chunk: int) -> list[tuple]:
        where, params = ["tbl = ?"], [tbl]
        if after is None:
            where.append("h >= ?")
            params.append(low)
        else:
            where.append("(h, pk, sk) > (?, ?, ?)")
            params.extend(after)
        if high is not None:
            where.append("h < ?")
            params.append(high)
        sql = (f"SELECT {_COLUMNS} FROM items WHERE {' AND '.join(where)} "
               "ORDER BY h, pk, sk LIMIT ?")
        return self.conn.execute(sql, (*params, chunk)).fetchall()

    # -- whole tables -------------------------------------------------------

    def drop_table(self, tbl: str) -> None:
        """Delete every item of `tbl`, and its secondary index entries (DeleteTable).

        An index's entries are filed under `tbl#index` (`dynamo.storage.indexes`),
        so one range of the primary key covers them all.
        """
        with self.db.atomic():
            self.conn.execute("DELETE FROM items WHERE tbl = ? OR (tbl >= ? AND tbl < ?)",
                              (tbl, f"{tbl}#", f"{tbl}$"))  # '$' follows '#'

    def collection_usage(self, tbl: str, key: EncodedKey) -> tuple[int, int]:
        """(rows, bytes) stored in `tbl` under `key`'s partition key: one item collection's
        share in `tbl`, read from the primary key's index, never by a table scan."""
        row = self.conn.execute(
            "SELECT count(*), total(size) FROM items WHERE tbl = ? AND h = ? AND pk = ?",
            (tbl, key.hash, key.partition)).fetchone()
        return int(row[0]), int(row[1])

    def count(self, tbl: str) -> int:
        """How many items `tbl` holds (DescribeTable's ItemCount)."""
        return self.conn.execute("SELECT count(*) FROM items WHERE tbl = ?", (tbl,)).fetchone()[0]

    def size(self, tbl: str) -> int:
        """The total size of `tbl`'s items in bytes (DescribeTable's TableSizeBytes)."""
        row = self.conn.execute("SELECT total(size) FROM items WHERE tbl = ?", (tbl,)).fetchone()
        return int(row[0])

    def usage(self) -> dict[str, tuple[int, int]]:
        """(count, size) of every `tbl` held: a table's items, its local index entries,
        ... in one pass (what a storage process reports to the control plane)."""
        rows = self.conn.execute("SELECT tbl, count(*), total(size) FROM items GROUP BY tbl")
        return {tbl: (int(count), int(size)) for tbl, count, size in rows}

    def close(self) -> None:
        """Close the SQLite connection."""
        self.conn.close()

    def __enter__(self) -> BTree:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def segment_bounds(segment: int, total_segments: int) -> tuple[bytes, bytes | None]:
    """The hash positions `[low, high)` of one parallel-scan segment.

    `high` is None for the last segment (it runs to the end of the ring).
    """
    if not 0 <= segment < total_segments:
        raise ValueError(f"segment {segment} is out of range for {total_segments} segments")
    low = _ceil_div(segment * HASH_SPACE, total_segments)
    if segment == total_segments - 1:
        return low.to_bytes(16, "big"), None
    high = _ceil_div((segment + 1) * HASH_SPACE, total_segments)
    return low.to_bytes(16, "big"), high.to_bytes(16, "big")


def segment_of(hash_value: bytes, total_segments: int) -> int:
    """The parallel-scan segment a hash position falls in (inverse of segment_bounds)."""
    return (int.from_bytes(hash_value, "big") * total_segments) >> 128


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _entry(row: tuple) -> Entry:
    h, pk, sk, blob, size = row
    return Entry(EncodedKey(h, pk, sk), orjson.loads(blob), size)


def _bound_op(bound: bytes | None, inclusive: bool, op: str) -> str | None:
    if bound is None:
        return None
    return op + "=" if inclusive else op


def _tighter(bound: bytes | None, inclusive: bool, other: bytes, other_inclusive: bool,
             pick: Callable[[bytes, bytes], bytes]) -> tuple[bytes, bool]:
    """The tighter of two bounds on the same side (`pick` is max for low, min for high).

    Keeping a single bound per side lets SQLite seek straight to it, so a
    Query resumed deep inside a large item collection does not rescan the
    rows before its ExclusiveStartKey.
    """
    if bound is None:
        return other, other_inclusive
    if bound == other:
        return bound, inclusive and other_inclusive
    return (bound, inclusive) if pick(bound, other) == bound else (other, other_inclusive)


@lru_cache(maxsize=32)
def _range_sql(low_op: str | None, high_op: str | None, forward: bool) -> str:
    where = "tbl = ? AND h = ? AND pk = ?"
    if low_op:
        where += f" AND sk {low_op} ?"
    if high_op:
        where += f" AND sk {high_op} ?"
    order = "ASC" if forward else "DESC"
    return f"SELECT {_COLUMNS} FROM items WHERE {where} ORDER BY sk {order} LIMIT ?"
