"""Transactions: TransactWriteItems and TransactGetItems across partitions (ATC'23).

DynamoDB's transactions (Idziorek et al., USENIX ATC 2023, "Distributed
Transactions at Scale in Amazon DynamoDB") are one-shot requests that a
transaction coordinator runs against the partitions holding their items:

* `operations` — what a client asks of a coordinator and what a coordinator
  asks of a partition (prepare, commit, cancel, read), and their answers;
* `participant` — a partition's side (§3.3, §3.4): timestamp ordering, items
  held by prepared transactions, all through the partition's replicated log;
* `ledger` — what a coordinator makes durable before it acts, and recovers
  from after a crash (§3.5); ClientRequestToken idempotency;
* `coordinator` — the sans-IO transaction coordinator (§3.2-§3.4): two-phase
  prepare and commit for writes, two rounds of reads for reads;
* `fleet` — a simulated fleet with coordinators beside the routers.

`python -m dynamo.sim.bank` runs the lab's proof: money moving between
accounts by transactions, under faults, audited by TransactGetItems.
"""

from dynamo.transactions.coordinator import CoordinatorConfig, TransactionCoordinator
from dynamo.transactions.operations import ConditionCheck, TransactGet, TransactWrite
from dynamo.transactions.participant import Participant

__all__ = ["ConditionCheck", "CoordinatorConfig", "Participant", "TransactGet",
           "TransactWrite", "TransactionCoordinator"]
