"""Layer 3: one partition's Multi-Paxos replication group (§3, §6.1, §6.2).

Each DynamoDB partition is replicated by a group of three replicas that elect
a leader, replicate the write-ahead log by Multi-Paxos and let the leader
serve strongly consistent reads under a lease. `Replica` is one member, as a
sans-IO node (dynamo.contract); `replica_factory` is how a driver (the
simulator, or the TCP runtime) builds one. Run `python -m dynamo.paxos` for a
failover told step by step.
"""

from dynamo.paxos.membership import AddMember, ChangeRole, RemoveMember
from dynamo.paxos.operations import (
    ConditionalPut,
    ConditionFailed,
    Delete,
    Get,
    NotLeader,
    Ok,
    Put,
    Unavailable,
)
from dynamo.paxos.replica import PaxosConfig, Replica, replica_factory

__all__ = [
    "AddMember",
    "ChangeRole",
    "ConditionFailed",
    "ConditionalPut",
    "Delete",
    "Get",
    "NotLeader",
    "Ok",
    "PaxosConfig",
    "Put",
    "RemoveMember",
    "Replica",
    "Unavailable",
    "replica_factory",
]
