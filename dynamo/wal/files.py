"""The write-ahead log's file access, behind one small seam (ATC'22 §5.1, §5.4).

Everything the log does that changes the disk goes through a `FileLayer`: open,
write at an offset, fsync, truncate, create, unlink, make a directory, fsync a
directory. Reads go straight to the files: a running system reads what it wrote,
synced or not, so only what changes the disk needs watching. `OsFiles` is the
real one, each method one `os` call (a function call more per group commit than
before, nothing beside an fsync). A test hands the log another layer to watch
what the log makes durable and when: `dynamo.wal.powerloss` is a disk that forgets every
write not yet fsynced when the power goes, which `kill -9` never can (the page
cache survives a killed process, not a power cut; §5.4 "power-off tests").

The rules the log follows through this seam, which a power-loss disk checks:

1. a record is acknowledged only after `fsync` of its segment returned;
2. a new file or directory is in its directory only once that directory has been
   fsynced (POSIX says nothing else makes the name durable);
3. a removal is durable only once the directory has been fsynced.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol


class FileLayer(Protocol):
    """What the write-ahead log asks of a file system. Handles are small ints."""

    def open_write(self, path: Path) -> int:
        """Open an existing file for writing."""
        ...

    def create(self, path: Path) -> None:
        """Create an empty file that must not exist yet (the name is not durable yet)."""
        ...

    def pwrite(self, fd: int, data: bytes, offset: int) -> int:
        """Write at `offset`; return how many bytes were written."""
        ...

    def fsync(self, fd: int) -> None:
        """Make everything written to the file durable."""
        ...

    def ftruncate(self, fd: int, size: int) -> None:
        """Cut the file to `size` bytes (not durable until fsync)."""
        ...

    def close(self, fd: int) -> None: ...

    def unlink(self, path: Path) -> None:
        """Remove a file (not durable until its directory is fsynced)."""
        ...

    def mkdir(self, path: Path) -> None:
        """Create one directory (not durable until its parent is fsynced)."""
        ...

    def fsync_directory(self, directory: Path) -> None:
        """Make the creations and removals of names in `directory` durable."""
        ...


class OsFiles:
    """The real file system: each method is one `os` call (or a two-line helper).

    The methods look `os.*` up when called, not at import, so a test that makes
    `os.fsync` fail in a child process (test_wal_group_commit) still reaches it.
    """

    @staticmethod
    def pwrite(fd: int, data: bytes, offset: int) -> int:
        return os.pwrite(fd, data, offset)

    @staticmethod
    def fsync(fd: int) -> None:
        os.fsync(fd)

    @staticmethod
    def ftruncate(fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    @staticmethod
    def close(fd: int) -> None:
        os.close(fd)

    @staticmethod
    def unlink(path: Path) -> None:
        os.unlink(path)

    @staticmethod
    def mkdir(path: Path) -> None:
        os.mkdir(path)

    @staticmethod
    def open_write(path: Path) -> int:
        return os.open(path, os.O_WRONLY)

    @staticmethod
    def create(path: Path) -> None:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))

    @staticmethod
    def fsync_directory(directory: Path) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


OS_FILES: FileLayer = OsFiles()
_default: list[FileLayer] = [OS_FILES]


def default_files() -> FileLayer:
    """The layer a log opened without an explicit one uses (the real disk, unless a
    power-loss test has put its simulated disk under the whole process)."""
    return _default[0]


def set_default_files(files: FileLayer) -> FileLayer:
    """Make `files` the default layer; return the previous one (to put back after)."""
    previous, _default[0] = _default[0], files
    return previous


def make_directory(path: Path, files: FileLayer) -> None:
    """Create `path` and any missing parents, each made durable in its parent (rule 2)."""
    if path.is_dir():
        return
    make_directory(path.parent, files)
    try:
        files.mkdir(path)
    except FileExistsError:  # another opener made it meanwhile; its own fsync covers it
        return
    files.fsync_directory(path.parent)
