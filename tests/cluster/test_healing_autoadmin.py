"""Autoadmin heals every partition of a fleet, and moves nothing meanwhile (§4.3, §5.1).

`dynamo.partitioning.autoadmin.AutoAdmin`, stepped by hand: each poll it asks
the metadata service where the partitions are (`Placement`) and each
partition's leader how its group is (`GroupStatus`), and answers with the
one next step: a spare hosts a full replacement first, then the leader is
asked to add it; the members removed are told to drop their copies. A
non-member that still holds a stale copy (a removed log replica) is never
made a full replica, and no replica moves while a group heals.
"""

from __future__ import annotations

from typing import Any

from dynamo.contract import Effect, Receive, Send, TimerFired
from dynamo.logreplica.healing import HealingConfig
from dynamo.logreplica.messages import GroupStatus, Reconfigure, StatusRequest
from dynamo.partitioning.autoadmin import AutoAdmin, next_move
from dynamo.partitioning.messages import (
    DropReplica,
    HostReplica,
    PeerMessage,
    PlacedPartition,
    Placement,
    PlacementRequest,
)
from dynamo.paxos.membership import AddMember, RemoveMember

ZONES = {"n1": "az1", "n2": "az2", "n3": "az3", "n4": "az1", "n5": "az2", "n6": "az3"}


def autoadmin() -> AutoAdmin:
    return AutoAdmin("autoadmin", ZONES, healing=HealingConfig(tuple(ZONES.items())))


def placed(members: tuple[str, ...], hosted_by: tuple[str, ...] | None = None,
           name: str = "p") -> PlacedPartition:
    return PlacedPartition(name, "t", 0, 1, members, hosted_by or members, members[0])


def status(members: tuple[str, ...], logs: tuple[str, ...] = (),
           silent: tuple[str, ...] = ()) -> GroupStatus:
    live = tuple(m for m in members if m not in silent)
    return GroupStatus("1.n1", members, logs, silent, live, False, 10)


def poll(admin: AutoAdmin, now: float, *partitions: PlacedPartition) -> list[Effect]:
    return admin.step(now, Receive("memds", Placement(partitions)))


def answer(admin: AutoAdmin, now: float, group: GroupStatus, name: str = "p") -> list[Any]:
    effects = admin.step(now, Receive("n1", PeerMessage(name, group)))
    return [e.message for e in effects if isinstance(e, Send)]


def test_each_poll_asks_the_metadata_service_then_every_leader() -> None:
    admin = autoadmin()
    assert Send("memds", PlacementRequest()) in admin.step(0.0, TimerFired("poll"))
    effects = poll(admin, 0.0, placed(("n1", "n2", "n3")), placed(("n4", "n5", "n6"), name="q"))
    asked = [(e.dst, e.message) for e in effects if isinstance(e, Send)]
    assert asked == [("n1", PeerMessage("p", StatusRequest())),
                     ("n4", PeerMessage("q", StatusRequest()))]


def test_a_full_replacement_is_hosted_by_its_spare_before_the_leader_adds_it() -> None:
    """§5.1 "autoadmin builds a full replacement": the spare first hosts a passive replica."""
    admin = autoadmin()
    members = ("n1", "n2", "n3", "n5")  # n2 lost, n5 its zone's log replica
    poll(admin, 0.0, placed(members))
    [host] = answer(admin, 0.0, status(members, ("n5",), ("n2",)))
    assert isinstance(host, HostReplica) and host.members == members
    poll(admin, 500.0, placed(members, (*members, "n4")))
    [ask] = answer(admin, 500.0, status(members, ("n5",), ("n2",)))
    assert ask == PeerMessage("p", Reconfigure(AddMember("n4")))


def test_the_members_removed_are_told_to_drop_their_copies() -> None:
    admin = autoadmin()
    members = ("n1", "n3", "n4", "n5")  # healed but for the log replica n5
    poll(admin, 0.0, placed(members))
    [ask] = answer(admin, 0.0, status(members, ("n5",)))
    assert ask == PeerMessage("p", Reconfigure(RemoveMember("n5")))
    effects = poll(admin, 500.0, placed(("n1", "n3", "n4"), ("n1", "n3", "n4", "n5")))
    assert Send("n5", DropReplica("p")) in effects


def test_a_stale_copy_on_a_non_member_is_never_made_a_full_replica() -> None:
    """n4 still holds the partition, as a log replica removed earlier: its B-tree is empty
    and its log far along, so it would never be sent a snapshot. n6 is taken instead."""
    admin = autoadmin()
    members = ("n1", "n2", "n3", "n5")
    poll(admin, 0.0, placed(members, (*members, "n4")))
    [host] = answer(admin, 0.0, status(members, ("n5",), ("n2",)))
    assert isinstance(host, HostReplica)
    effects = admin.step(0.0, Receive("n1", PeerMessage("p", status(members, ("n5",),
                                                                      ("n2",)))))
    assert [e.dst for e in effects if isinstance(e, Send)] == ["n6"]


def test_a_spare_that_never_hosts_is_given_up_for_another() -> None:
    admin = autoadmin()
    members = ("n1", "n2", "n3", "n5")
    poll(admin, 0.0, placed(members))
    sends = admin.step(0.0, Receive("n1", PeerMessage("p", status(members, ("n5",), ("n2",)))))
    assert [e.dst for e in sends if isinstance(e, Send)] == ["n4"]
    answer(admin, 2500.0, status(members, ("n5",), ("n2",)))  # n4 never hosted: suspected
    sends = admin.step(2600.0, Receive("n1", PeerMessage("p", status(members, ("n5",),
                                                                     ("n2",)))))
    assert [e.dst for e in sends if isinstance(e, Send)] == ["n6"]


def test_no_replica_moves_while_a_partition_heals() -> None:
    """§4.3 balancing waits for §5.1 healing: n1..n3 hold everything, n4..n6 nothing."""
    partitions = [placed(("n1", "n2", "n3"), name=f"p{i}") for i in range(4)]
    admin = autoadmin()
    assert moves(poll(admin, 0.0, *partitions))  # a move starts: its target hosts a replica
    answer(admin, 0.0, status(("n1", "n2", "n3"), silent=("n2",)), "p0")
    assert moves(poll(admin, 500.0, *partitions)) == []  # p0 heals: the move waits
    for i in range(4):
        answer(admin, 600.0, status(("n1", "n2", "n3")), f"p{i}")
    assert moves(poll(admin, 1000.0, *partitions))  # healthy again: the move goes on


def moves(effects: list[Effect]) -> list[Any]:
    """What a poll asked of storage nodes for a move (everything but status requests)."""
    return [e.message for e in effects
            if isinstance(e, Send) and not isinstance(e.message, PeerMessage)]


def test_a_move_never_targets_a_silent_node_or_one_holding_a_copy() -> None:
    partitions = tuple(placed(("n1", "n2", "n3"), name=f"p{i}") for i in range(4))
    chosen = next_move(Placement(partitions), ZONES, unhealthy={"n4", "n5"})
    assert chosen is not None and chosen[2] == "n6"
    holding = tuple(placed(("n1", "n2", "n3"), ("n1", "n2", "n3", "n4", "n5", "n6"),
                           name=f"p{i}") for i in range(4))
    assert next_move(Placement(holding), ZONES) is None
