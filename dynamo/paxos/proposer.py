"""Phase 1 of Multi-Paxos: how a candidate wins a ballot and recovers the log.

The *scout* (the name in van Renesse's "Paxos Made Moderately Complex") runs
one ballot's phase 1. It sends `Prepare(ballot, from_index)` to every member
and collects `Promise`s. With a majority of promises the ballot is won, and
the new leader must *recover the log before serving* (§3, §6.2): for every
slot above what it knows to be chosen, it re-proposes the command accepted in
the highest ballot any promiser reports, and a `Noop` where no promiser has
anything. Some of those commands may already be chosen (an old leader's
write that reached a majority just before it died); re-proposing exactly
them is what keeps them.

One phase 1 covers every slot at once, which is the "Multi" in Multi-Paxos:
afterwards the leader runs only phase 2, one round trip per write.

A candidate may be behind on membership: a replica that was cut off or down
while the group changed twice (a log replica added, a dead replica removed,
§5.1) still counts with a configuration whose majorities need not meet the
current one's. So the promises must come from a majority of *every*
configuration the recovered log passes through (`configs`, extended by the
replica until nothing new is learned), and until the recovered slots are
chosen the leader counts each accept in all of them, as joint consensus does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynamo.contract import NodeId
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.log import AcceptedEntry, Snapshot
from dynamo.paxos.membership import majority
from dynamo.paxos.messages import Promise
from dynamo.paxos.statemachine import Noop


@dataclass(frozen=True)
class Recovery:
    """What a won phase 1 hands the new leader.

    `snapshot` (if any) is a promiser's snapshot ahead of the leader's own
    commit index, to install first; `commands` are the values to re-propose
    in slots `first_index`, `first_index + 1`, ..., in order.
    """

    snapshot: Snapshot | None
    first_index: int
    commands: tuple[Any, ...]


class Scout:
    """Collects the promises for one ballot from the members of the group."""

    def __init__(self, ballot: Ballot, members: tuple[NodeId, ...]) -> None:
        self.ballot = ballot
        self.members = members
        self.configs: list[tuple[NodeId, ...]] = [members]
        self.promises: dict[NodeId, Promise] = {}

    def receive(self, member: NodeId, promise: Promise) -> bool:
        """Count a promise; True once a majority of every configuration has promised."""
        asked = any(member in config for config in self.configs)
        if asked and promise.ballot == self.ballot:
            self.promises[member] = promise
        return self.quorate()

    def quorate(self) -> bool:
        return all(sum(1 for m in self.promises if m in config) >= majority(config)
                   for config in self.configs)

    # --8<-- [start:recover]
    def recover(self, commit_index: int) -> Recovery:
        """The log the new leader re-proposes, from a majority's promises."""
        snapshots = [p.snapshot for p in self.promises.values() if p.snapshot is not None]
        snapshot = max(snapshots, key=lambda s: s.index, default=None)
        if snapshot is not None and snapshot.index <= commit_index:
            snapshot = None
        base = snapshot.index if snapshot is not None else commit_index
        best: dict[int, AcceptedEntry] = {}
        for promise in self.promises.values():
            for entry in promise.entries:
                known = best.get(entry.index)
                if entry.index > base and (known is None or entry.ballot > known.ballot):
                    best[entry.index] = entry
        last = max(best, default=base)
        commands = tuple(
            best[i].command if i in best else Noop() for i in range(base + 1, last + 1)
        )
        return Recovery(snapshot, base + 1, commands)
    # --8<-- [end:recover]
