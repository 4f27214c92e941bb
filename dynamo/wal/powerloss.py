"""A simulated disk that loses power: what fsync promises, and nothing more (ATC'22 §5.4).

DynamoDB powers off nodes under load and then checks the data (§5.4 "power-off
tests"). `kill -9` is not that: the kernel's page cache outlives the process, so
a write the log never fsynced is still on disk after the kill. Only a power cut
loses it. This module is a disk that can lose power at a seeded moment:

- It watches every change a file layer makes under one directory (the log's
  `FileLayer`, files.py; the SQLite side of the tests feeds it from a VFS) and
  lets the change reach the real file at once, as a page cache would: a running
  process reads what it wrote.
- It keeps, per file, the *durable* content (as of the last fsync) and the
  writes and truncations made since; per name, whether the directory holding it
  has been fsynced since it was created or removed.
- Every change counts as one operation. The operation numbered `cut_at` fails
  with `PowerCut` (an EIO), the power is off, and every later change fails too.
- `crash_image(dest)` then writes what a reboot would find: each file's durable
  content plus what the `Loss` model lets survive of the unsynced writes; names
  whose directory was never fsynced are gone, names removed without that fsync
  are back.

Loss models (a seed picks one):

    LOSE     every unsynced write is lost;
    TEAR     every unsynced write is lost but a file's last, of which any subset
             of its 512-byte sectors survives (a torn write);
    REORDER  each unsynced write or truncation survives, is lost, or is torn,
             independently: the page cache writes back in any order.

What the model does not do: renames (neither the log nor SQLite renames), and a
name removed then created again before its directory is fsynced (SQLite's `-wal`
could be; the tests never close a database between two cuts).
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import threading
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

SECTOR = 512


class PowerCut(OSError):
    """The power is off: this change, and every one after it, never reached the disk."""

    def __init__(self) -> None:
        super().__init__(errno.EIO, "simulated power cut")


class Loss(Enum):
    LOSE = "lose"
    TEAR = "tear"
    REORDER = "reorder"


@dataclass(frozen=True)
class _Write:
    offset: int
    data: bytes


@dataclass(frozen=True)
class _Truncate:
    size: int


@dataclass
class _File:
    durable: bytes  # the content a power cut keeps for sure
    name_durable: bool  # the directory entry survives a cut
    pending: list[_Write | _Truncate] = field(default_factory=list)
    unlinked: bool = False
    sync_directory: bool = False  # fsync its directory too at its first fsync (SQLite journals)


class SimulatedDisk:
    """Durable versus written-not-synced state of every file under `root` (see the module doc).

    Args:
        root: only changes under this directory are watched; its content when the
            disk is made counts as durable.
        cut_at: the number of the change that fails because the power went; None
            never cuts (a dry run counts the changes a workload makes).
    """

    def __init__(self, root: Path, cut_at: int | None = None) -> None:
        self.root = root.resolve()
        self.cut_at = cut_at
        self.operations = 0
        self.off = False
        self._files: dict[Path, _File] = {}
        self._new_dirs: dict[Path, bool] = {}  # directory made while watched -> name durable
        self._lock = threading.RLock()

    def covers(self, path: str | Path) -> bool:
        return Path(path).resolve().is_relative_to(self.root)

    # --- changes, each one operation ------------------------------------------------------

    def write(self, path: Path, offset: int, data: bytes) -> None:
        with self._lock:
            self._tick()
            self._file(path).pending.append(_Write(offset, bytes(data)))

    def truncate(self, path: Path, size: int) -> None:
        with self._lock:
            self._tick()
            self._file(path).pending.append(_Truncate(size))

    def sync(self, path: Path) -> None:
        with self._lock:
            self._tick()
            state = self._file(path)
            content = bytearray(state.durable)
            for change in state.pending:
                _apply(content, change)
            state.durable, state.pending = bytes(content), []
            if state.sync_directory:
                state.sync_directory = False
                self._sync_dir(Path(path).resolve().parent)

    def create(self, path: Path, *, sync_directory_on_first_sync: bool = False) -> None:
        """A new, empty file: its name is not durable until its directory is fsynced."""
        with self._lock:
            self._tick()
            self._files[Path(path).resolve()] = _File(b"", name_durable=False,
                                                      sync_directory=sync_directory_on_first_sync)

    def mark_sync_directory(self, path: Path) -> None:
        """Sync the file's directory at its next fsync (not a change: SQLite's flag on a journal)."""
        with self._lock:
            self._file(path).sync_directory = True

    def unlink(self, path: Path) -> None:
        with self._lock:
            self._tick()
            self._file(path).unlinked = True

    def mkdir(self, path: Path) -> None:
        with self._lock:
            self._tick()
            self._new_dirs[Path(path).resolve()] = False

    def sync_directory(self, directory: Path) -> None:
        with self._lock:
            self._tick()
            self._sync_dir(Path(directory).resolve())

    # --- after the cut ----------------------------------------------------------------------

    def crash_image(self, dest: Path, loss: Loss, rng: random.Random) -> None:
        """Write to `dest` what a reboot after the cut would find under `root`."""
        with self._lock:
            self.off = True
            shutil.copytree(self.root, dest, ignore=shutil.ignore_patterns("*-shm"))
            lost_dirs = [d for d in self._new_dirs if not self._survives(d)]
            for directory in lost_dirs:
                shutil.rmtree(dest / directory.relative_to(self.root), ignore_errors=True)
            for path, state in self._files.items():
                target = dest / path.relative_to(self.root)
                if not state.name_durable or any(path.is_relative_to(d) for d in lost_dirs):
                    target.unlink(missing_ok=True)
                else:
                    target.write_bytes(_survivors(state, loss, rng))

    # --- helpers ----------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.off:
            raise PowerCut()
        self.operations += 1
        if self.operations == self.cut_at:
            self.off = True
            raise PowerCut()

    def _file(self, path: Path) -> _File:
        """The state of a file; one first seen now has its current content, durable."""
        key = Path(path).resolve()
        state = self._files.get(key)
        if state is None:
            state = _File(key.read_bytes() if key.exists() else b"", name_durable=True)
            self._files[key] = state
        return state

    def _sync_dir(self, directory: Path) -> None:
        for path in list(self._files):
            if path.parent == directory:
                if self._files[path].unlinked:
                    del self._files[path]  # the removal is durable: nothing comes back
                else:
                    self._files[path].name_durable = True
        for path in self._new_dirs:
            if path.parent == directory:
                self._new_dirs[path] = True

    def _survives(self, directory: Path) -> bool:
        """A directory made while watched survives if it and every new parent is durable."""
        return all(durable for d, durable in self._new_dirs.items()
                   if directory.is_relative_to(d))


def _apply(content: bytearray, change: _Write | _Truncate) -> None:
    if isinstance(change, _Truncate):
        del content[change.size:]
        return
    end = change.offset + len(change.data)
    if len(content) < end:
        content.extend(bytes(end - len(content)))
    content[change.offset:end] = change.data


def _torn(change: _Write, rng: random.Random) -> list[_Write]:
    """A random subset of the write's sector-aligned pieces (each write changes only its own bytes)."""
    pieces, start = [], change.offset
    while start < change.offset + len(change.data):
        end = min((start // SECTOR + 1) * SECTOR, change.offset + len(change.data))
        if rng.random() < 0.5:
            pieces.append(_Write(start, change.data[start - change.offset:end - change.offset]))
        start = end
    return pieces


def _survivors(state: _File, loss: Loss, rng: random.Random) -> bytes:
    content = bytearray(state.durable)
    writes = [i for i, change in enumerate(state.pending) if isinstance(change, _Write)]
    last = writes[-1] if writes else -1
    for index, change in enumerate(state.pending):
        if loss is Loss.LOSE:
            break
        if loss is Loss.TEAR:
            if index == last:
                assert isinstance(change, _Write)
                for piece in _torn(change, rng):
                    _apply(content, piece)
            continue
        fate = rng.choice(("keep", "lose", "tear"))
        if fate == "keep":
            _apply(content, change)
        elif fate == "tear" and isinstance(change, _Write):
            for piece in _torn(change, rng):
                _apply(content, piece)
    return bytes(content)


class PowerLossFiles:
    """The log's FileLayer on a SimulatedDisk: every change is recorded, then done for real.

    fsync is only recorded: what it makes durable is the disk's business, so the
    tests spend no time waiting on a real disk.
    """

    def __init__(self, disk: SimulatedDisk) -> None:
        self.disk = disk
        self._paths: dict[int, Path] = {}

    def open_write(self, path: Path) -> int:
        fd = os.open(path, os.O_WRONLY)
        self._paths[fd] = Path(path)
        return fd

    def create(self, path: Path) -> None:
        self.disk.create(path)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))

    def pwrite(self, fd: int, data: bytes, offset: int) -> int:
        self.disk.write(self._paths[fd], offset, data)
        return os.pwrite(fd, data, offset)

    def fsync(self, fd: int) -> None:
        self.disk.sync(self._paths[fd])

    def ftruncate(self, fd: int, size: int) -> None:
        self.disk.truncate(self._paths[fd], size)
        os.ftruncate(fd, size)

    def close(self, fd: int) -> None:
        self._paths.pop(fd, None)
        os.close(fd)

    def mark_sync_directory(self, path: Path) -> None:
        """Sync the file's directory at its next fsync (not a change: SQLite's flag on a journal)."""
        with self._lock:
            self._file(path).sync_directory = True

    def unlink(self, path: Path) -> None:
        self.disk.unlink(path)
        os.unlink(path)

    def mkdir(self, path: Path) -> None:
        self.disk.mkdir(path)
        os.mkdir(path)

    def fsync_directory(self, directory: Path) -> None:
        self.disk.sync_directory(directory)
