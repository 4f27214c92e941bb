"""The replicated state machine: a partition's items as a key→value map.

Every replica applies the same committed commands in the same log order, so
every replica holds the same items (§3: the B-tree of each storage replica is
built from the replicated write-ahead log). Commands are deterministic: a
`ConditionalPut` evaluates its condition when it is *applied*, so all replicas
agree on whether it failed, and the leader reports exactly that outcome.

In the full system each replica's B-tree is SQLite (layer 1); here the map
stays in memory so the simulator can step millions of times a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynamo.paxos.operations import ConditionalPut, ConditionFailed, Delete, Get, Ok, Put


@dataclass(frozen=True)
class Noop:
    """A command that changes nothing.

    A new leader proposes it to fill holes in the log it recovered, and once
    at the start of its ballot, so that it commits something of its own.
    """


class KeyValueStore:
    """Items by key, changed only by applying commands in log order."""

    def __init__(self, items: tuple[tuple[str, str], ...] = ()) -> None:
        self.items: dict[str, str] = dict(items)

    def read(self, key: str) -> str | None:
        return self.items.get(key)

    def apply(self, command: Any) -> Ok | ConditionFailed:
        """Apply one committed command and return what its client is told."""
        kind = type(command)
        if kind is Put:
            self.items[command.key] = command.value
            return Ok()
        if kind is ConditionalPut:
            current = self.items.get(command.key)
            if current != command.expected:
                return ConditionFailed(current)
            self.items[command.key] = command.value
            return Ok()
        if kind is Delete:
            self.items.pop(command.key, None)
            return Ok()
        if kind is Get:
            return Ok(self.items.get(command.key))
        return Ok()  # Noop, and membership changes (the replica applies those)

    def to_snapshot(self) -> tuple[tuple[str, str], ...]:
        """The items as a sorted tuple: what a `Snapshot` record carries."""
        return tuple(sorted(self.items.items()))
