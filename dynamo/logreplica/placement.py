"""Where a new member of a group goes: a spare node in a zone the group lacks (§5.1, §6.1).

DynamoDB places a partition's replicas in different availability zones, so
that losing one zone costs a group one replica (§6.1). A replica that dies
leaves its zone without a live member; the log replica that stands in for it,
and later the full replacement, go to a spare storage node in such a zone.

The rules `choose_spare` follows:

  P1 (a new node, a healthy one)  A node that is a member of the group
     already, or that is known not to answer, is never chosen.
  P2 (a log replica)  It needs a zone with no live member at all, full or
     log: a zone that still has a live member of the group is covered.
  P3 (a full replacement)  It needs a zone with no live *full* member: the
     log replica in that zone, if any, is on its way out, and a log replica
     has no B-tree to serve from.
  P4 (the same choice every time)  Among the spares that qualify, the first
     in the configured order is taken, so every run of a seed places alike;
     if none qualifies, there is no spare to take (None).
  P5 (no zone to spare)  A full replacement that P3 cannot place goes to the
     first healthy spare of any zone (`choose_any_spare`). With two storage
     nodes a zone, the lost zone's other node holds the log replica (P2), so
     P3 finds nothing there: three full replicas in two zones survive more
     than a group that never heals. A log replica has no such fallback: it
     stands in for the lost zone, or the group waits for a full replacement.

"Live" means a member not known to be unhealthy.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from dynamo.contract import NodeId


def choose_spare(zones: Sequence[tuple[NodeId, str]], members: Collection[NodeId],
                 unhealthy: Collection[NodeId], log_members: Collection[NodeId] = (),
                 *, for_log_replica: bool = True) -> NodeId | None:
    """A spare node for a new member, or None if no zone lacks one (rules P1 to P4).

    Args:
        zones: every storage node of the fleet and its zone, in preference order.
        members: the group's members now.
        unhealthy: nodes known not to answer (members or not); never chosen.
        log_members: which members are log replicas.
        for_log_replica: True for a log replica (a zone with no live member),
            False for a full replacement (a zone with no live full member).
    """
    # BEGIN ASSIGNMENT ch04-placement: the first spare (P4) in a zone with no live member (P2), or no live full member (P3), never a member or an unhealthy node (P1)
    zone_of = dict(zones)
    counted = [m for m in members if m not in unhealthy
               and (for_log_replica or m not in log_members)]
    taken = {zone_of.get(m) for m in counted}
    for node, zone in zones:
        if node not in members and node not in unhealthy and zone not in taken:
            return node
    return None
    # END ASSIGNMENT


def choose_any_spare(zones: Sequence[tuple[NodeId, str]], members: Collection[NodeId],
                     unhealthy: Collection[NodeId]) -> NodeId | None:
    """The first healthy node that is not a member, whatever its zone (rule P5)."""
    return next((node for node, _ in zones if node not in members and node not in unhealthy),
                None)
