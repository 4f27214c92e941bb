"""Layer 2: the write-ahead log (DynamoDB ATC'22 §3, §5.1, §5.2).

A replica writes every change here first, acknowledges it once a group commit has
fsynced it, applies it to its B-tree afterwards, and archives sealed segments to
an object store. Run the layer alone with `python -m dynamo.wal`.
"""

from dynamo.wal.archive import (
    ArchiveError,
    Archiver,
    DirectoryStore,
    Manifest,
    S3Store,
    Store,
    open_store,
)
from dynamo.wal.checkpoint import CheckpointReport, checkpoint
from dynamo.wal.group_commit import GroupCommit
from dynamo.wal.log import LogFailedError, WriteAheadLog
from dynamo.wal.recovery import CorruptLogError, RecoveryReport, TornTail
from dynamo.wal.replica import LoggedReplica, ReplicaStateError

__all__ = [
    "ArchiveError",
    "Archiver",
    "CheckpointReport",
    "CorruptLogError",
    "DirectoryStore",
    "GroupCommit",
    "LogFailedError",
    "LoggedReplica",
    "Manifest",
    "RecoveryReport",
    "ReplicaStateError",
    "S3Store",
    "Store",
    "TornTail",
    "WriteAheadLog",
    "checkpoint",
    "open_store",
]
