"""Layer 4: log replicas and healing (§5.1).

When a replica of a partition becomes unhealthy, DynamoDB's leader adds a
*log replica* to the group: a member that holds only recent write-ahead-log
entries, with no B-tree. It counts toward the write quorum, so the group is
back to full durability in seconds, where copying a B-tree to a new full
replica takes minutes. Meanwhile autoadmin builds that full replacement and,
once it has caught up, retires the log replica and the dead replica.

The role's rules. dynamo/paxos/replica.py enforces them (its rule R9); they
are written here, one per line, for the reader of the code and of the TLA+
specification:

  L1 (membership)  A member's role is "full" or "log". Roles change only
     through the replicated log, one change at a time, like members do:
     `AddMember(id, role="log")`, `ChangeRole(id, "log")`, `RemoveMember(id)`
     (dynamo/paxos/membership.py). A log replica never becomes full in place:
     it is replaced by a new full replica and removed.
  L2 (quorums)  Every member, full or log, is one acceptor with one vote. A
     write quorum and an election quorum are both a majority of all members,
     so every write quorum meets every election quorum, log replicas included.
  L3 (never leads)  A log replica never asks for a pre-vote, never runs phase
     1, ignores `TimeoutNow` and is never chosen as a handoff successor. It
     does answer `Prepare`, `PreVote` and heartbeats (it grants leases) like
     any acceptor. A replica that was away while the group made it a log
     replica, and stands as the full replica it remembers being, stands down
     when the promises' snapshot shows its role (healing.py).
  L4 (never serves)  A log replica answers every client request with
     `NotLeader(hint)`: it has no B-tree to read and never holds a lease.
  L5 (applies nothing)  It persists accepted entries and learns which are
     chosen (its commit index advances), but applies no write to a B-tree;
     only membership changes are recorded, so it knows the group. (What a
     spare learns before it applies the change that makes it a log replica
     it applies like any replica catching up.)
  L6 (truncation)  It drops log entries only up to an index i a leader sends
     it (`Truncate(b, i)`, b at least its promise, i at most its commit
     index), where i is the least index every full member has applied, as the
     leader last heard. A log replica makes no promise to a candidate that
     asks for a slot it has dropped (`Prepare.from_index` at or below its
     truncation point): such a candidate is behind every full member, so it
     is a replica removed from the group that does not know it yet. So a log
     replica never promises a copy of a B-tree, which it does not have.

Healing (healing.py at the leader, autoadmin.py beside the group):

  H1 (detection)  The leader counts a member unresponsive when it has not
     answered for `unresponsive_heartbeats` heartbeats since the leader's
     ballot began or the member was added.
  H2 (log replica)  While unresponsive full members outnumber the live log
     replicas and no membership change is in flight, the leader proposes
     `AddMember(spare, "log")`, the spare in a zone with no live member of
     the group (placement.py), and not one seen silent lately, once the
     spare has answered that it is there (`StandIn`, `StandingBy`): a member
     added on a dead node would leave the group a failure from no quorum.
     Announced: "replica_unresponsive", "log_replica_added".
  H3 (replacement)  Autoadmin polls the leader (`StatusRequest`,
     `GroupStatus`). While a full member is unresponsive and fewer than
     `replicas` full members are live, it asks for a full replica on a spare
     in a zone with no live full member (or, with none, on any healthy
     spare: placement.py's P5); the leader ships the new member a copy of
     its B-tree and the log tail. It waits for H2 first only while a spare
     can take the log replica. Announced: "replacement_added".
  H4 (retirement)  Once `replicas` live full members have caught up, it
     removes the unresponsive full members, then the log replicas, one change
     at a time. Announced: "member_removed" (a full member),
     "log_replica_removed", and "healed" once the group is
     `replicas` full members again. An unresponsive log replica is removed
     first of all, so that the leader may add another.

Everything is sans-IO (dynamo.contract): the same nodes run in the simulator
(`python -m dynamo.logreplica` tells one run step by step).
"""

from dynamo.logreplica.autoadmin import AutoAdmin, next_change
from dynamo.logreplica.group import AUTOADMIN, healing_factories
from dynamo.logreplica.healing import HealingConfig, HealingReplica
from dynamo.logreplica.placement import choose_spare

__all__ = [
    "AUTOADMIN",
    "AutoAdmin",
    "HealingConfig",
    "HealingReplica",
    "choose_spare",
    "healing_factories",
    "next_change",
]
