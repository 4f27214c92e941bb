"""Chapter 4, graded: where a new member of a healing group goes (`choose_spare` in
dynamo/logreplica/placement.py).

The paper: when a replica becomes unhealthy, the leader adds a log replica to the
group, and autoadmin later builds a full replacement (§5.1); a partition's replicas
live in different availability zones (§6.1). Both new members go to a spare storage
node in a zone the group lacks: for a log replica, a zone with no live member at all;
for a full replacement, a zone with no live full member; never a member, never a node
known not to answer; the first such spare in the configured order.

Each test calls `choose_spare` on the fleet of the lesson's demo (sometimes listed zone
by zone instead) and names the exact spare. A failure says what the group looked like,
which spare it should get, what your code chose, and the rules. The simulated runs of
healing with your code are in test_ch04_healing.py, not graded.
"""

from __future__ import annotations

from dynamo.logreplica.__main__ import ZONES
from dynamo.logreplica.placement import choose_spare

MEMBERS = ("n1", "n2", "n3")
# The same fleet with its spares listed zone by zone: a zone that comes first in the
# order is not the zone a rule asks for.
BY_ZONE = (("n1", "az1"), ("n2", "az2"), ("n3", "az3"), ("s1", "az1"), ("s4", "az1"),
           ("s2", "az2"), ("s5", "az2"), ("s3", "az3"), ("s6", "az3"))

RULES = """P1: never a member of the group, never a node known to be unhealthy.
P2: a log replica goes to a zone with no live member at all (full or log).
P3: a full replacement goes to a zone with no live *full* member.
P4: the first spare that qualifies, in the order of `zones`; None if none does."""


def fleet(zones: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{node} {zone}" for node, zone in zones)


def check(expected: str | None, situation: str, zones: tuple[tuple[str, str], ...],
          members: tuple[str, ...], unhealthy: set[str], log_members: tuple[str, ...] = (),
          for_log_replica: bool = True) -> None:
    got = choose_spare(zones, members, unhealthy, log_members, for_log_replica=for_log_replica)
    kind = "a log replica" if for_log_replica else "a full replacement"
    assert got == expected, (
        f"{situation}\nThe fleet, in order: {fleet(zones)}.\nMembers {', '.join(members)}"
        f"{'; log replicas ' + ', '.join(log_members) if log_members else ''}; unhealthy: "
        f"{', '.join(sorted(unhealthy)) or 'none'}.\nchoose_spare for {kind} should answer "
        f"{expected!r}; your code answered {got!r}.\nThe rules:\n{RULES}")


def test_a_log_replica_goes_to_the_zone_the_lost_replica_leaves() -> None:
    """§5.1, §6.1: the log replica stands in for the lost replica, in its zone."""
    for lost, spare in (("n2", "s2"), ("n1", "s1"), ("n3", "s3")):
        check(spare, f"Three full replicas in three zones; {lost} stops answering.",
              ZONES, MEMBERS, {lost})


def test_a_zone_with_a_live_log_replica_needs_no_other_log_replica() -> None:
    """P2: a log replica covers its zone, so a second loss gets a log replica elsewhere."""
    check("s3", "n2 was lost and log replica s2 stands in for it in az2; now n3 stops "
          "answering too.", BY_ZONE, ("n1", "n2", "n3", "s2"), {"n2", "n3"}, ("s2",))
    check(None, "n2 was lost and log replica s2 stands in for it in az2; nothing else failed.",
          ZONES, ("n1", "n2", "n3", "s2"), {"n2"}, ("s2",))


def test_a_dead_log_replicas_zone_is_free_again() -> None:
    """P2: a log replica that stops answering covers nothing: the leader may put another there."""
    check("s5", "n2 was lost, then its stand-in, log replica s2, stops answering too.",
          ZONES, ("n1", "n2", "n3", "s2"), {"n2", "s2"}, ("s2",))


def test_a_full_replacement_goes_where_no_live_full_replica_is() -> None:
    """P3: the log replica in the lost zone is on its way out, so the full replacement goes
    to that zone, and not to the log replica itself (P1)."""
    check("s5", "n2 was lost; log replica s2 stands in for it; autoadmin asks where to build "
          "the full replacement.", ZONES, ("n1", "n2", "n3", "s2"), {"n2"}, ("s2",),
          for_log_replica=False)
    check("s5", "n2 was lost and log replica s2 stands in for it; then n3 is lost too. Both "
          "az2 and az3 lack a full replica; az2's spares are listed first.", BY_ZONE,
          ("n1", "n2", "n3", "s2"), {"n2", "n3"}, ("s2",), for_log_replica=False)


def test_a_full_replacement_is_not_needed_where_a_full_replica_lives() -> None:
    """P3: a full member's zone is covered for a full replacement; a log member's is not."""
    check(None, "A healthy group of three full replicas: no zone lacks a full replica.",
          ZONES, MEMBERS, set(), for_log_replica=False)
    check(None, "n2 was lost, log replica s2 stands in for it, and the full replacement s5 "
          "has joined: az2 has a live full replica again.", ZONES,
          ("n1", "n2", "n3", "s2", "s5"), {"n2"}, ("s2",), for_log_replica=False)


def test_a_spare_known_to_be_unhealthy_is_passed_over() -> None:
    """P1: the leader remembers nodes it has seen silent and never places on them."""
    check("s5", "n2 stops answering, and spare s2 (az2) is known to be down.",
          ZONES, MEMBERS, {"n2", "s2"})
    check("s6", "n3 stops answering; spares s3 and s6 are in its zone, s3 is known to be down.",
          BY_ZONE, MEMBERS, {"n3", "s3"})


def test_a_member_is_never_chosen_even_in_a_zone_the_group_lacks() -> None:
    """P1: a member (here the lost replica itself, then the log replica) is in the group
    already; adding it again changes nothing."""
    check("s2", "n2 stops answering. n2 is listed before the spares of az2.",
          ZONES, MEMBERS, {"n2"})
    check("s5", "n2 was lost and log replica s2 stands in for it; autoadmin asks where to "
          "build the full replacement. s2 is listed first.",
          (("s2", "az2"), ("n1", "az1"), ("n2", "az2"), ("n3", "az3"), ("s5", "az2")),
          ("n1", "n2", "n3", "s2"), {"n2"}, ("s2",), for_log_replica=False)


def test_the_first_spare_in_the_configured_order_is_taken() -> None:
    """P4: two zones lack a member; the spare listed first wins, so every run places alike."""
    check("s2", "n2 and n3 stop answering at once.", ZONES, MEMBERS, {"n2", "n3"})
    check("s6", "n2 and n3 stop answering at once; the fleet is listed the other way round.",
          tuple(reversed(ZONES)), MEMBERS, {"n2", "n3"})


def test_no_spare_when_no_zone_lacks_a_member() -> None:
    """P4: a healthy group, or a zone whose spares are all down, gets no new member."""
    check(None, "A healthy group of three full replicas in three zones.", ZONES, MEMBERS, set())
    check(None, "n2 stops answering, and both spares of az2, s2 and s5, are known to be down.",
          ZONES, MEMBERS, {"n2", "s2", "s5"})
    check(None, "n2 stops answering in a fleet with no spare node at all.",
          ZONES[:3], MEMBERS, {"n2"})
