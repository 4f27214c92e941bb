"""Checkpoint and log truncation: archive what the B-tree has made redundant, then drop it
(DynamoDB ATC'22 §5.1; ARIES).

The B-tree records the last LSN it applied in the same SQLite transaction as the
changes. Behind a log it runs with synchronous=NORMAL (the log is the durable
record, so a B-tree commit needs no fsync of its own), and the replica forces a
full SQLite checkpoint before a checkpoint here, so once `applied_lsn` is n every
record up to n is in the B-tree on disk. Locally the log below n is then only needed for
recovery from a lost B-tree — which is what the archive is for. So a checkpoint:

1. takes each *sealed* segment whose last LSN is <= n, oldest first;
2. archives it (verify, upload, manifest last: archive.py);
3. only then deletes the local file.

The order matters: a crash between 2 and 3 leaves a segment both archived and
local, which the next checkpoint finds already archived (and compares); a crash
before 2 completes leaves no manifest, so the upload is simply redone. The newest
segment is never removed, so the log always knows its next LSN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dynamo.wal.archive import Archiver, Manifest
from dynamo.wal.log import WriteAheadLog


@dataclass
class CheckpointReport:
    """What one checkpoint archived and removed."""

    applied_lsn: int
    archived: list[Manifest] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    def describe(self) -> str:
        if not self.archived:
            return f"checkpoint at LSN {self.applied_lsn}: nothing to archive"
        last = self.archived[-1].last_lsn
        return (
            f"checkpoint at LSN {self.applied_lsn}: archived {len(self.archived)} segments "
            f"up to LSN {last}, removed {len(self.removed)} local files"
        )


def checkpoint(log: WriteAheadLog, applied_lsn: int, archiver: Archiver) -> CheckpointReport:
    """Archive, then remove, every sealed segment wholly at or below `applied_lsn`."""
    report = CheckpointReport(applied_lsn)
    after: int | None = None  # looked up in the store by the first archive call
    for segment in log.segments():
        if not segment.sealed or segment.last_lsn > applied_lsn:
            break
        manifest = archiver.archive(segment, after_lsn=after)
        report.archived.append(manifest)
        after = manifest.last_lsn
        log.remove_segment(segment)
        report.removed.append(segment.path)
    return report
