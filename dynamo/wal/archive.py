"""Archiving sealed log segments to an object store (DynamoDB ATC'22 §5.1, §5.2, §5.5).

DynamoDB archives every replica's write-ahead log to S3. The archive is what makes
backups, point-in-time restore and continuous verification possible without
reading a live replica: a table's history *is* its archived log (§5.5).

The archiver is careful because an archive nobody checks is a hope, not a backup.
Before uploading a segment it verifies (§5.2) that every record's checksum is
valid, that the LSNs run without holes (inside the segment and on from the last
archived one), and, when told how, that every record belongs to the right table.
Each segment is uploaded with a *manifest* (table, partition, first and last LSN,
record count, CRC32C of the file) written last, so a manifest's presence means
the segment is whole. If the manifest is already there (an earlier attempt, or
another replica's agent) the archiver downloads the archived file and compares.

Keys are laid out like S3 keys: `<prefix><table>/<partition>/<first>-<last>.seg`
plus `.manifest.json`. Two stores implement the `Store` protocol: a local
directory (the default) and any S3-compatible endpoint through boto3.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import google_crc32c
import orjson

from dynamo.wal.recovery import CorruptLogError, frames_of
from dynamo.wal.segment import BadFrame, SegmentInfo, fsync_directory, iter_frames

TableOf = Callable[[bytes], set[str]]  # which tables a record touches
ALL_TABLES = "all-tables"  # the table label of a log that holds every table (one node)


class ArchiveError(Exception):
    """A segment failed the archiver's checks, or differs from what is already archived."""


class Store(Protocol):
    """The little of S3 the archiver needs."""

    url: str

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...
    def list(self, prefix: str) -> list[str]: ...


@dataclass(frozen=True)
class Manifest:
    """What an archived segment holds (§5.2: table, partition, start and end markers)."""

    table: str
    partition: str
    first_lsn: int
    last_lsn: int
    record_count: int
    crc32c: str  # of the whole segment file, hex
    size: int
    segment_key: str

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        return cls(**orjson.loads(data))


class Archiver:
    """Verifies sealed segments and uploads them with their manifests."""

    def __init__(
        self,
        store: Store,
        *,
        table: str | None = None,
        partition: str = "0",
        table_of: TableOf | None = None,
    ) -> None:
        self.store = store
        self.table = table or ALL_TABLES  # None: a single-node log holding every table
        self.partition = partition
        self.table_of = table_of
        self.prefix = f"{self.table}/{partition}/"

    def archived(self) -> list[Manifest]:
        """Manifests already in the store for this table and partition, in LSN order."""
        return [Manifest.from_json(self._get(key)) for key in self._manifest_keys()]

    def last_archived_lsn(self) -> int | None:
        """The last LSN in the archive (keys sort by LSN, so only the last manifest is read)."""
        keys = self._manifest_keys()
        return Manifest.from_json(self._get(keys[-1])).last_lsn if keys else None

    def _manifest_keys(self) -> list[str]:
        return sorted(k for k in self.store.list(self.prefix) if k.endswith(".manifest.json"))

    def archive(self, segment: SegmentInfo, after_lsn: int | None = None) -> Manifest:
        """Verify a sealed segment and upload it; idempotent if it is already archived.

        `after_lsn` is the last LSN already archived (looked up in the store if None);
        the segment must continue from it without a hole.
        """
        if not segment.sealed:
            raise ArchiveError(f"{segment.path.name} is still being written; only sealed segments are archived")
        data = segment.path.read_bytes()
        manifest = self.verify(segment, data)
        manifest_key = manifest.segment_key.removesuffix(".seg") + ".manifest.json"
        existing = self.store.get(manifest_key)
        if existing is not None:
            self._compare_with_archived(manifest, Manifest.from_json(existing), data)
            return manifest
        if after_lsn is None:
            after_lsn = self.last_archived_lsn() or 0  # an archive starts at LSN 1
        if segment.first_lsn != after_lsn + 1:
            raise ArchiveError(
                f"hole in sequence numbers: the archive ends at LSN {after_lsn} but "
                f"{segment.path.name} starts at {segment.first_lsn}"
            )
        self.store.put(manifest.segment_key, data)
        self.store.put(manifest_key, manifest.to_json())  # last: a manifest means a whole segment
        return manifest

    # --8<-- [start:verify]
    def verify(self, segment: SegmentInfo, data: bytes) -> Manifest:
        """The archiver's checks (§5.2): checksums, no holes, right table; returns the manifest."""
        try:
            frames = frames_of(segment.path)
        except CorruptLogError as error:
            raise ArchiveError(f"refusing to archive: {error}") from error
        lsns = [frame.lsn for frame in frames]
        if lsns != list(range(segment.first_lsn, segment.last_lsn + 1)):
            raise ArchiveError(
                f"refusing to archive {segment.path.name}: LSNs are not "
                f"{segment.first_lsn}..{segment.last_lsn} without holes"
            )
        if frames and frames[-1].end != len(data):
            raise ArchiveError(f"refusing to archive {segment.path.name}: bytes after the last record")
        if self.table != ALL_TABLES and self.table_of is not None:
            for frame in frames:
                foreign = self.table_of(frame.payload) - {self.table}
                if foreign:
                    raise ArchiveError(
                        f"refusing to archive {segment.path.name}: LSN {frame.lsn} belongs to "
                        f"{sorted(foreign)}, not {self.table}"
                    )
        key = f"{self.prefix}{segment.first_lsn:020d}-{segment.last_lsn:020d}.seg"
        return Manifest(
            self.table, self.partition, segment.first_lsn, segment.last_lsn,
            len(frames), crc32c_hex(data), len(data), key,
        )
    # --8<-- [end:verify]

    def _compare_with_archived(self, local: Manifest, archived: Manifest, data: bytes) -> None:
        """Another attempt archived this segment already: the archived bytes must be ours."""
        remote = self._get(archived.segment_key)
        if archived != local or remote != data:
            raise ArchiveError(
                f"{archived.segment_key} is already archived with different contents "
                f"(archived crc32c {archived.crc32c}, local {local.crc32c})"
            )

    def records(self) -> Iterator[tuple[int, bytes]]:
        """Every archived record in LSN order, checked against its manifest: a replica's
        history, from which backups, restores and verification are built (§5.3, §5.5)."""
        for manifest in self.archived():
            data = self._get(manifest.segment_key)
            if crc32c_hex(data) != manifest.crc32c:
                raise ArchiveError(f"{manifest.segment_key} does not match its manifest's checksum")
            for frame in iter_frames(data):
                if isinstance(frame, BadFrame):
                    raise ArchiveError(f"{manifest.segment_key} at offset {frame.offset}: {frame.reason}")
                yield frame.lsn, frame.payload

    def _get(self, key: str) -> bytes:
        data = self.store.get(key)
        if data is None:
            raise ArchiveError(f"{self.store.url}{key} is missing from the archive")
        return data


def crc32c_hex(data: bytes) -> str:
    return google_crc32c.Checksum(data).hexdigest().decode()


# --- stores ---------------------------------------------------------------------------------


class DirectoryStore:
    """A local directory laid out like S3 keys; each put is atomic (write, fsync, rename)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = f"{self.root}/"

    def put(self, key: str, data: bytes) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
        fsync_directory(path.parent)

    def get(self, key: str) -> bytes | None:
        path = self.root / key
        return path.read_bytes() if path.is_file() else None

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(k for k in keys if not k.endswith(".tmp"))


class S3Store:
    """Any S3-compatible endpoint through boto3; S3 checks each upload's Content-MD5 (§5.2)."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 client: Any = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url,
            region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        )
        self.url = f"s3://{bucket}/{self.prefix}"

    def put(self, key: str, data: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentMD5=md5)

    def get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            return None
        return response["Body"].read()

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.extend(item["Key"][len(self.prefix):] for item in page.get("Contents", []))
        return sorted(keys)


def open_store(location: str, endpoint_url: str | None = None) -> Store:
    """`s3://bucket/prefix` (with an optional endpoint) or a local directory path."""
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        return S3Store(bucket, prefix, endpoint_url=endpoint_url)
    return DirectoryStore(location)
