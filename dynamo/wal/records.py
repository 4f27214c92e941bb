"""What a log record says: the redo information for one write (DynamoDB ATC'22 §3, §5.1; ARIES).

A record carries everything a replica needs to *redo* a write without reading
anything else: for every item it touches, the table, the encoded primary key and
the whole after-image (or None for a deletion). That is why the B-tree can be
rebuilt from the log alone, and why applying a record twice is harmless.

One record holds all the changes of one write request (a PutItem has one; a batch
or a transaction has several), so they are durable, and applied, together. A
DeleteTable is logged too (`DropTable`), so that redo never resurrects the items
of a table deleted after them.

Encoding: orjson, keys as hex text (JSON has no bytes):

    [{"t": "us-east-1/Music", "h": "1f0c...", "p": "01...", "s": "", "i": {"Artist": {"S": "..."}}},
     {"drop": "us-east-1/Books"}]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from dynamo.storage.btree import Mutation
from dynamo.storage.keys import EncodedKey


@dataclass(frozen=True)
class DropTable:
    """Delete every item of a table (DeleteTable), in log order with the writes around it."""

    tbl: str


Change = Mutation | DropTable


def encode_record(changes: Sequence[Change]) -> bytes:
    """The log payload of one write."""
    return orjson.dumps([_encode(change) for change in changes])


def decode_record(payload: bytes) -> list[Change]:
    """The changes a log payload redoes."""
    return [_decode(entry) for entry in orjson.loads(payload)]


def tables_of(payload: bytes) -> set[str]:
    """Which tables a record touches (the archiver checks records belong to their table)."""
    return {entry["drop"] if "drop" in entry else entry["t"] for entry in orjson.loads(payload)}


def _encode(change: Change) -> dict[str, Any]:
    if isinstance(change, DropTable):
        return {"drop": change.tbl}
    key = change.key
    return {"t": change.tbl, "h": key.hash.hex(), "p": key.partition.hex(), "s": key.sort.hex(),
            "i": change.item}


def _decode(entry: dict[str, Any]) -> Change:
    if "drop" in entry:
        return DropTable(entry["drop"])
    key = EncodedKey(bytes.fromhex(entry["h"]), bytes.fromhex(entry["p"]), bytes.fromhex(entry["s"]))
    return Mutation(entry["t"], key, entry["i"])
