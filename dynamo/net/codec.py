"""Messages on the wire: versioned, checksummed frames of tagged JSON.

The paper asks for a checksum on every log entry, message and log file,
validated on every transfer (§5.2), and for protocol changes to roll out as
"read-write deployments": first every node learns to *read* a new format,
then nodes start *sending* it (§6.4). A frame therefore carries its format
version and a CRC32C of its payload:

    +----------+---------+-----------+----------------------+
    | length 4 | version | crc32c 4  | payload (JSON)       |
    +----------+---------+-----------+----------------------+

`length` counts version, checksum and payload. A reader drops a frame whose
checksum fails (contract rule 4: messages may be lost, never corrupted) and
refuses a version it cannot read.

The payload is JSON in which frozen dataclasses (messages, log records,
client operations) are tagged with their class, so the same dataclasses the
simulator passes by reference cross a socket unchanged. Only classes
registered with the codec can be decoded: a frame never makes us import or
construct anything else.

Errors travel too, because a replica answers a rejected write with the
DynamoDB error the client must see (`Rejected(ConditionalCheckFailedException
(...))`). An exception is not a dataclass, so it is tagged with the nearest
registered class in its ancestry, its message, and the constructor's other
arguments read back from the instance (a ConditionalCheckFailedException's
`item` and `capacity`); the decoder rebuilds only registered classes.
"""

from __future__ import annotations

import dataclasses
import inspect
import struct
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import google_crc32c
import orjson

VERSION = 1
READABLE_VERSIONS = frozenset({1})
HEADER = struct.Struct(">IBI")  # length, version, crc32c
MAX_FRAME = 16 * 1024 * 1024


_INT64 = 1 << 63


class FrameError(ValueError):
    """A frame that must not be delivered: bad checksum, unknown version, too big."""


class Codec:
    """Encodes registered dataclasses to frames and back."""

    def __init__(self, modules: Iterable[ModuleType] = ()) -> None:
        self._classes: dict[str, type] = {}
        self._errors: dict[str, tuple[type[Exception], tuple[str, ...]]] = {}
        for module in modules:
            self.register_module(module)

    def register(self, cls: type) -> None:
        """Allow instances of a dataclass to be decoded."""
        self._classes[_tag(cls)] = cls

    def register_module(self, module: ModuleType) -> None:
        """Register every dataclass defined in a module."""
        for value in vars(module).values():
            if dataclasses.is_dataclass(value) and isinstance(value, type):
                if value.__module__ == module.__name__:
                    self.register(value)

    def register_error(self, cls: type[Exception]) -> None:
        """Allow an exception class (and, by ancestry, its subclasses) to cross the wire.

        Its constructor's first parameter is the message; any others must be
        attributes of the same name on the instance.
        """
        parameters = tuple(inspect.signature(cls.__init__).parameters)[2:]  # self, message
        self._errors[_tag(cls)] = (cls, parameters)

    # --- values <-> JSON trees -------------------------------------------

    def to_tree(self, value: Any) -> Any:
        """Turn a value into plain JSON types, tagging what JSON lacks."""
        if isinstance(value, int) and not isinstance(value, bool) and not (
                -_INT64 <= value < _INT64):
            return {"@i": format(value, "x")}  # a 128-bit hash position: JSON has 64 bits
        if value is None or isinstance(value, str | int | float | bool):
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: self.to_tree(getattr(value, f.name))
                      for f in dataclasses.fields(value)}
            return {"@": _tag(type(value)), "f": fields}
        if isinstance(value, Exception):
            return self._error_tree(value)
        if isinstance(value, tuple):
            return {"@t": [self.to_tree(v) for v in value]}
        if isinstance(value, bytes):  # encoded keys (dynamo.storage.keys)
            return {"@b": value.hex()}
        if isinstance(value, list):
            return [self.to_tree(v) for v in value]
        if isinstance(value, frozenset | set):
            return {"@s": [self.to_tree(v) for v in sorted(value, key=repr)]}
        if isinstance(value, dict):
            return {"@d": [[self.to_tree(k), self.to_tree(v)] for k, v in value.items()]}
        raise TypeError(f"cannot encode {type(value).__name__}")

    def from_tree(self, tree: Any) -> Any:
        """Rebuild a value from `to_tree`'s output."""
        if isinstance(tree, list):
            return [self.from_tree(v) for v in tree]
        if not isinstance(tree, dict):
            return tree
        if "@" in tree:
            cls = self._classes.get(tree["@"])
            if cls is None:
                raise FrameError(f"unregistered type {tree['@']!r}")
            return cls(**{k: self.from_tree(v) for k, v in tree["f"].items()})
        if "@x" in tree:
            return self._error_from_tree(tree)
        if "@t" in tree:
            return tuple(self.from_tree(v) for v in tree["@t"])
        if "@b" in tree:
            return bytes.fromhex(tree["@b"])
        if "@i" in tree:
            return int(tree["@i"], 16)
        if "@s" in tree:
            return frozenset(self.from_tree(v) for v in tree["@s"])
        if "@d" in tree:
            return {self.from_tree(k): self.from_tree(v) for k, v in tree["@d"]}
        raise FrameError("untagged object in payload")

    def _error_tree(self, error: Exception) -> Any:
        for cls in type(error).__mro__:  # an unregistered subclass goes as its registered base
            known = self._errors.get(_tag(cls))
            if known is not None:
                message = getattr(error, "message", str(error))
                extras = {name: self.to_tree(getattr(error, name)) for name in known[1]}
                return {"@x": _tag(cls), "m": message, "a": extras}
        raise TypeError(f"cannot encode {type(error).__name__}")

    def _error_from_tree(self, tree: dict[str, Any]) -> Exception:
        known = self._errors.get(tree["@x"])
        if known is None:
            raise FrameError(f"unregistered error {tree['@x']!r}")
        cls, parameters = known
        extras = {k: self.from_tree(v) for k, v in tree.get("a", {}).items() if k in parameters}
        return cls(str(tree["m"]), **extras)

    # --- payloads and frames -----------------------------------------------

    def dumps(self, value: Any) -> bytes:
        """The JSON payload of a value (also how log records are stored)."""
        return orjson.dumps(self.to_tree(value))

    def loads(self, payload: bytes) -> Any:
        """Inverse of `dumps`."""
        try:
            tree = orjson.loads(payload)
        except orjson.JSONDecodeError as error:
            raise FrameError(f"payload is not JSON: {error}") from None
        return self.from_tree(tree)

    def frame(self, value: Any) -> bytes:
        """A complete frame: header, then payload."""
        payload = self.dumps(value)
        checksum = google_crc32c.value(payload)
        return HEADER.pack(len(payload) + 5, VERSION, checksum) + payload

    def unframe(self, version: int, checksum: int, payload: bytes) -> Any:
        """Check a received frame's version and checksum, then decode it."""
        if version not in READABLE_VERSIONS:
            raise FrameError(f"frame version {version} is not readable by this node")
        if google_crc32c.value(payload) != checksum:
            raise FrameError("frame checksum mismatch")
        return self.loads(payload)


def read_header(header: bytes) -> tuple[int, int, int]:
    """Split a frame header into (payload length, version, checksum)."""
    length, version, checksum = HEADER.unpack(header)
    if not 5 <= length <= MAX_FRAME:
        raise FrameError(f"frame length {length} out of bounds")
    return length - 5, version, checksum


def _tag(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
