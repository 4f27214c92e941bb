"""SQLite on the simulated disk: a VFS that reports every write, truncate, sync and delete.

The B-tree and the catalog are SQLite files opened by Python's `sqlite3` module
(dynamo/storage/btree.py). To make them lose power with the log, SQLite's own
file access must go through `dynamo.wal.powerloss.SimulatedDisk`. SQLite lets a
program add a VFS, and apsw can write one in Python, but apsw's wheel carries its
own copy of SQLite, which `sqlite3` connections never use. So this VFS is
registered, through ctypes, in the very libsqlite3 that `sqlite3` is linked to,
as the default VFS: `BTree` opens its files through it unchanged.

It inherits the default ("unix") VFS whole. A file opened under the disk's root
gets a copy of unix's method table in which four entries are Python:

- xWrite and xTruncate tell the disk, then do the real write (reads see it);
- xSync only tells the disk (which decides what is durable: no real fsync);
- xClose forgets the file.

xOpen and xDelete are Python too. As unix does, the first sync of a journal or
`-wal` file it created also syncs its directory (`UNIXFILE_DIRSYNC` in SQLite's
os_unix.c), which is what makes the database's own name durable. The `-shm`
file is SQLite's shared memory, never durable state: it never reaches the VFS,
and the crash image leaves it out (SQLite rebuilds it from the `-wal`).

Once the power is off every change fails with SQLITE_IOERR, as a dead disk would.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dynamo.wal.files import set_default_files
from dynamo.wal.powerloss import PowerCut, PowerLossFiles, SimulatedDisk

SQLITE_OK, SQLITE_IOERR = 0, 10
SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC, SQLITE_IOERR_TRUNCATE = 10 | 3 << 8, 10 | 4 << 8, 10 | 6 << 8
SQLITE_IOERR_DELETE = 10 | 10 << 8
SQLITE_OPEN_CREATE = 0x4
JOURNALS = 0x800 | 0x4000 | 0x80000  # MAIN_JOURNAL | SUPER_JOURNAL | WAL

_p = ctypes.c_void_p
_i64 = ctypes.c_int64
X_OPEN = ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, _p, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
X_DELETE = ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, ctypes.c_int)
X_CLOSE = ctypes.CFUNCTYPE(ctypes.c_int, _p)
X_WRITE = ctypes.CFUNCTYPE(ctypes.c_int, _p, _p, ctypes.c_int, _i64)
X_TRUNCATE = ctypes.CFUNCTYPE(ctypes.c_int, _p, _i64)
X_SYNC = ctypes.CFUNCTYPE(ctypes.c_int, _p, ctypes.c_int)


class IoMethods(ctypes.Structure):
    """sqlite3_io_methods, version 3: raw function pointers."""

    _fields_ = [("iVersion", ctypes.c_int)] + [(name, _p) for name in (
        "xClose", "xRead", "xWrite", "xTruncate", "xSync", "xFileSize", "xLock", "xUnlock",
        "xCheckReservedLock", "xFileControl", "xSectorSize", "xDeviceCharacteristics",
        "xShmMap", "xShmLock", "xShmBarrier", "xShmUnmap", "xFetch", "xUnfetch")]


class Vfs(ctypes.Structure):
    """sqlite3_vfs, version 3."""

    _fields_ = [("iVersion", ctypes.c_int), ("szOsFile", ctypes.c_int), ("mxPathname", ctypes.c_int),
                ("pNext", _p), ("zName", ctypes.c_char_p), ("pAppData", _p)] + [(name, _p) for name in (
        "xOpen", "xDelete", "xAccess", "xFullPathname", "xDlOpen", "xDlError", "xDlSym", "xDlClose",
        "xRandomness", "xSleep", "xCurrentTime", "xGetLastError", "xCurrentTimeInt64",
        "xSetSystemCall", "xGetSystemCall", "xNextSystemCall")]


class PowerLossVfs:
    """The VFS, registered once per process; `disk` is the disk it reports to (None: pass through)."""

    def __init__(self) -> None:
        lib_name = ctypes.util.find_library("sqlite3") or "libsqlite3.so.0"
        self.lib = ctypes.CDLL(lib_name)  # the library sqlite3 already loaded: same handle
        self.lib.sqlite3_vfs_find.restype = _p
        self.lib.sqlite3_vfs_find.argtypes = [ctypes.c_char_p]
        self.lib.sqlite3_vfs_register.argtypes = [_p, ctypes.c_int]
        self.lib.sqlite3_vfs_unregister.argtypes = [_p]
        self.base_address = self.lib.sqlite3_vfs_find(b"unix")
        self.base = Vfs.from_address(self.base_address)
        self.disk: SimulatedDisk | None = None
        # sqlite3_file address -> (the disk it was opened on, its path), for watched files; a
        # connection left open by a cut-short test reports to its own, dead, disk
        self._files: dict[int, tuple[SimulatedDisk, Path]] = {}
        self._tables: dict[int, IoMethods] = {}  # unix's method table -> our copy of it
        self._base_by_patched: dict[int, IoMethods] = {}  # our copy's address -> unix's table
        # The callbacks must live as long as any file uses them: they are kept here.
        self._callbacks = [X_OPEN(self._open), X_DELETE(self._delete), X_CLOSE(self._close),
                           X_WRITE(self._write), X_TRUNCATE(self._truncate), X_SYNC(self._sync)]
        self.vfs = Vfs()
        ctypes.memmove(ctypes.addressof(self.vfs), self.base_address, ctypes.sizeof(Vfs))
        self.vfs.iVersion = min(self.base.iVersion, 3)
        self.vfs.zName = b"powerloss"
        self.vfs.pNext = None
        self.vfs.xOpen = ctypes.cast(self._callbacks[0], _p).value
        self.vfs.xDelete = ctypes.cast(self._callbacks[1], _p).value
        self._base_open = X_OPEN(self.base.xOpen)
        self._base_delete = X_DELETE(self.base.xDelete)

    def register(self) -> None:
        self.lib.sqlite3_vfs_register(ctypes.addressof(self.vfs), 1)

    def unregister(self) -> None:
        self.lib.sqlite3_vfs_unregister(ctypes.addressof(self.vfs))
        self.lib.sqlite3_vfs_register(self.base_address, 1)

    # --- the callbacks: never raise into C ---------------------------------------------------

    def _open(self, _vfs: int, name: int | None, file: int, flags: int, out_flags: object) -> int:
        path = None if not name else Path(os.fsdecode(ctypes.string_at(name)))
        disk = self.disk
        watched = disk is not None and path is not None and disk.covers(path)
        created = watched and not path.exists() and bool(flags & SQLITE_OPEN_CREATE)
        rc = self._base_open(self.base_address, name, file, flags, out_flags)
        if rc != SQLITE_OK or not watched or disk is None or path is None:
            return rc
        methods_at = ctypes.c_void_p.from_address(file)
        if not methods_at.value:
            return rc
        try:
            if created:
                disk.create(path, sync_directory_on_first_sync=bool(flags & JOURNALS))
            elif flags & JOURNALS and flags & SQLITE_OPEN_CREATE:
                disk.mark_sync_directory(path)
        except PowerCut:
            X_CLOSE(IoMethods.from_address(methods_at.value).xClose)(file)
            return SQLITE_IOERR
        methods_at.value = ctypes.addressof(self._patched(methods_at.value))
        self._files[file] = (disk, path)
        return rc

    def _patched(self, base_table: int) -> IoMethods:
        table = self._tables.get(base_table)
        if table is None:
            base = IoMethods.from_address(base_table)
            table = IoMethods()
            ctypes.memmove(ctypes.addressof(table), base_table, ctypes.sizeof(IoMethods))
            table.iVersion = min(base.iVersion, 3)
            table.xClose = ctypes.cast(self._callbacks[2], _p).value
            table.xWrite = ctypes.cast(self._callbacks[3], _p).value
            table.xTruncate = ctypes.cast(self._callbacks[4], _p).value
            table.xSync = ctypes.cast(self._callbacks[5], _p).value
            self._tables[base_table] = table
            self._base_by_patched[ctypes.addressof(table)] = base
        return table

    def _base(self, file: int) -> IoMethods:
        return self._base_by_patched[ctypes.c_void_p.from_address(file).value or 0]

    def _close(self, file: int) -> int:
        if not hasattr(self, "_base_by_patched"):  # a connection closed as the interpreter exits
            return SQLITE_OK
        base = self._base(file)
        self._files.pop(file, None)
        ctypes.c_void_p.from_address(file).value = ctypes.addressof(base)
        return X_CLOSE(base.xClose)(file)

    def _write(self, file: int, buffer: int, amount: int, offset: int) -> int:
        if not self._report(lambda disk, path: disk.write(path, offset, ctypes.string_at(buffer, amount)),
                            file):
            return SQLITE_IOERR_WRITE
        return X_WRITE(self._base(file).xWrite)(file, buffer, amount, offset)

    def _truncate(self, file: int, size: int) -> int:
        if not self._report(lambda disk, path: disk.truncate(path, size), file):
            return SQLITE_IOERR_TRUNCATE
        return X_TRUNCATE(self._base(file).xTruncate)(file, size)

    def _sync(self, file: int, flags: int) -> int:
        if file not in self._files:
            return X_SYNC(self._base(file).xSync)(file, flags)
        return SQLITE_OK if self._report(lambda disk, path: disk.sync(path), file) else SQLITE_IOERR_FSYNC

    def _delete(self, _vfs: int, name: int, sync_dir: int) -> int:
        path = Path(os.fsdecode(ctypes.string_at(name)))
        disk = self.disk
        if disk is not None and disk.covers(path) and path.exists():
            try:
                disk.unlink(path)
                if sync_dir:
                    disk.sync_directory(path.parent)
            except PowerCut:
                return SQLITE_IOERR_DELETE
        return self._base_delete(self.base_address, name, 0 if disk is not None else sync_dir)

    def _report(self, change, file: int) -> bool:  # type: ignore[no-untyped-def]
        """Tell the disk about a change; False when the power is off."""
        if file not in self._files:
            return True
        disk, path = self._files[file]
        try:
            change(disk, path)
        except PowerCut:
            return False
        return True


_VFS: list[PowerLossVfs] = []


def vfs() -> PowerLossVfs:
    """The process's one PowerLossVfs (its callbacks must outlive every file it opened)."""
    if not _VFS:
        sqlite3.connect(":memory:").close()  # make sure sqlite3 has loaded libsqlite3
        _VFS.append(PowerLossVfs())
    return _VFS[0]


@contextmanager
def power_loss_disk(disk: SimulatedDisk) -> Iterator[SimulatedDisk]:
    """Put `disk` under the whole process: the log's files and SQLite's, until exit."""
    sqlite_vfs = vfs()
    sqlite_vfs.disk = disk
    sqlite_vfs.register()
    previous = set_default_files(PowerLossFiles(disk))
    try:
        yield disk
    finally:
        set_default_files(previous)
        sqlite_vfs.unregister()
        sqlite_vfs.disk = None
