"""The metadata service: partition maps built from storage nodes' reports (§6.6, §4.4).

Storage nodes are the authority on which partitions exist and who leads them;
they publish it, and the metadata service serves routers the map derived from
what was published. These tests step `MetadataService` with the events a
driver would hand it and read its answers.
"""

from __future__ import annotations

from typing import Any

from dynamo.contract import ClientRequest, Effect, Receive, Reply, Send
from dynamo.partitioning.keyspace import KEY_SPACE, KeyRange
from dynamo.partitioning.messages import MapReply, MapRequest, PartitionReport, PartitionStatus
from dynamo.partitioning.metadata import DropTable, MetadataService, RegisterTable
from dynamo.partitioning.partition_map import PartitionMap
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.operations import Ok

TABLE = "lab/kv"
NODES = ("n1", "n2", "n3")
AT = 1 << 127


def registered() -> MetadataService:
    service = MetadataService("memds")
    effects = service.step(0.0, ClientRequest("control", 1, RegisterTable(TABLE, "p", NODES)))
    assert effects == [Reply("control", 1, Ok())]
    return service


def ask(service: MetadataService, table: str = TABLE, router: str = "r1") -> PartitionMap | None:
    """A router's MapRequest; the map the service answers with."""
    effects = service.step(0.0, Receive(router, MapRequest(table)))
    assert len(effects) == 1
    send = effects[0]
    assert type(send) is Send and send.dst == router and type(send.message) is MapReply
    assert send.message.table == table
    return send.message.map


def status(partition: str, key_range: KeyRange, *, leads: bool = False, ballot: Any = None,
           split: tuple[int, str, str] | None = None) -> PartitionStatus:
    return PartitionStatus(partition, TABLE, key_range.low, key_range.high, NODES, leads,
                           ballot, split)


def report(service: MetadataService, node: str, *statuses: PartitionStatus) -> list[Effect]:
    return service.step(0.0, Receive(node, PartitionReport(node, statuses)))


def current(service: MetadataService) -> PartitionMap:
    found = ask(service)
    assert found is not None
    return found


def test_a_registered_table_has_a_one_partition_map() -> None:
    partition_map = current(registered())
    assert partition_map.version == 1
    assert [(p.id, p.key_range, p.replicas) for p in partition_map.partitions] == [
        ("p", KeyRange(0, KEY_SPACE), NODES)]


def test_a_reported_split_replaces_the_parent_by_its_children() -> None:
    """§4.4: once a node reports the split, the map shows the two halves, one version up."""
    service = registered()
    before = current(service)
    assert report(service, "n1", status("p", KeyRange(0, KEY_SPACE), split=(AT, "p0", "p1"))) == []
    after = current(service)
    assert after.version > before.version
    assert [(p.id, p.key_range) for p in after.partitions] == [
        ("p0", KeyRange(0, AT)), ("p1", KeyRange(AT, KEY_SPACE))]
    assert after.lookup(AT - 1).id == "p0" and after.lookup(AT).id == "p1"


def test_a_split_of_a_child_divides_only_that_child() -> None:
    service = registered()
    report(service, "n1", status("p", KeyRange(0, KEY_SPACE), split=(AT, "p0", "p1")))
    quarter = AT + (AT >> 1)
    report(service, "n2", status("p1", KeyRange(AT, KEY_SPACE), split=(quarter, "p10", "p11")))
    assert [(p.id, p.key_range) for p in current(service).partitions] == [
        ("p0", KeyRange(0, AT)), ("p10", KeyRange(AT, quarter)),
        ("p11", KeyRange(quarter, KEY_SPACE))]


def test_a_node_that_has_not_applied_the_split_does_not_undo_it() -> None:
    """The map only moves forward: a lagging replica still reports its unsplit parent."""
    service = registered()
    report(service, "n1", status("p", KeyRange(0, KEY_SPACE), split=(AT, "p0", "p1")))
    split = current(service)
    report(service, "n3", status("p", KeyRange(0, KEY_SPACE), leads=True,
                                 ballot=Ballot(9, "n3")))
    later = current(service)
    assert [p.id for p in later.partitions] == ["p0", "p1"]
    assert later.version == split.version


def test_leader_hints_follow_the_highest_ballot_reported() -> None:
    """Two nodes may both claim to lead for a while (a deposed leader has not heard yet);
    the higher ballot is the later election."""
    service = registered()
    whole = KeyRange(0, KEY_SPACE)
    report(service, "n2", status("p", whole, leads=True, ballot=Ballot(2, "n2")))
    first = current(service)
    assert first.get("p").leader == "n2"  # type: ignore[union-attr]
    report(service, "n1", status("p", whole, leads=True, ballot=Ballot(1, "n1")))
    stale = current(service)
    assert stale.get("p").leader == "n2"  # type: ignore[union-attr]
    assert stale.version == first.version
    report(service, "n3", status("p", whole, leads=True, ballot=Ballot(3, "n3")))
    newer = current(service)
    assert newer.get("p").leader == "n3"  # type: ignore[union-attr]
    assert newer.version > first.version


def test_the_children_carry_their_own_leader_hints() -> None:
    service = registered()
    report(service, "n1", status("p", KeyRange(0, KEY_SPACE), split=(AT, "p0", "p1")),
           status("p0", KeyRange(0, AT), leads=True, ballot=Ballot(1, "n1")))
    report(service, "n2", status("p1", KeyRange(AT, KEY_SPACE), leads=True,
                                 ballot=Ballot(1, "n2")))
    assert [(p.id, p.leader) for p in current(service).partitions] == [("p0", "n1"), ("p1", "n2")]


def test_moved_replicas_are_shown_in_the_map() -> None:
    service = registered()
    moved = ("n1", "n2", "n4")
    report(service, "n4", PartitionStatus("p", TABLE, 0, KEY_SPACE, moved, False))
    assert current(service).get("p").replicas == moved  # type: ignore[union-attr]


def test_a_map_request_is_answered_with_the_map_and_counted() -> None:
    """Constant work (§6.6): every router request reaches the service and is counted."""
    service = registered()
    answers = [ask(service, router=f"r{i % 2}") for i in range(5)]
    assert service.requests == 5
    assert all(a == answers[0] and a is not None and a.table == TABLE for a in answers)


def test_a_map_request_for_an_unknown_table_is_answered_with_no_map() -> None:
    service = registered()
    assert ask(service, "lab/nope") is None
    assert service.requests == 1


def test_drop_table_forgets_the_table() -> None:
    service = registered()
    effects = service.step(0.0, ClientRequest("control", 2, DropTable(TABLE)))
    assert effects == [Reply("control", 2, Ok())]
    assert ask(service) is None
    report(service, "n1", status("p", KeyRange(0, KEY_SPACE), leads=True, ballot=Ballot(1, "n1")))
    assert ask(service) is None  # a straggling report does not bring it back


def test_a_table_registered_again_after_a_drop_starts_from_one_partition() -> None:
    """A re-created table is a new table: its predecessor's splits are not its own."""
    service = registered()
    report(service, "n1", status("p", KeyRange(0, KEY_SPACE), split=(AT, "p0", "p1")))
    service.step(0.0, ClientRequest("control", 2, DropTable(TABLE)))
    service.step(0.0, ClientRequest("control", 3, RegisterTable(TABLE, "p", NODES)))
    assert [p.id for p in current(service).partitions] == ["p"]


def test_a_restarted_service_builds_the_map_from_the_children_alone() -> None:
    """After a restart the split parent may be gone from every node (its replicas removed):
    the live partitions' own ranges still give the map."""
    service = registered()
    low, high = KeyRange(0, KEY_SPACE).split_at(AT)
    report(service, "n1", status("p0", low, leads=True, ballot=1),
           status("p1", high, leads=True, ballot=1))
    assert [(p.id, p.key_range, p.leader) for p in current(service).partitions] == [
        ("p0", low, "n1"), ("p1", high, "n1")]


def test_a_gap_in_the_ranges_leaves_the_map_as_it_was() -> None:
    service = registered()
    before = current(service)
    report(service, "n1", status("p1", KeyRange(AT, KEY_SPACE)))  # p0 unheard of
    assert current(service) == before
