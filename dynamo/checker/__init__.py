"""History checkers: linearizability per key, and no lost acknowledged writes.

The checkers judge what clients saw, never how the replicas got there, so they
import nothing from the protocol they judge: any driver that records
`HistoryOp`s (the simulator, a real cluster under test) can use them.
Paper: §2 and §6 (the promise checked), §5.4 (checking as a method).
"""

from dynamo.checker.durability import no_lost_acknowledged_writes
from dynamo.checker.history import HistoryOp, as_history, by_key
from dynamo.checker.linearizability import Verdict, check

__all__ = ["HistoryOp", "Verdict", "as_history", "by_key", "check",
           "no_lost_acknowledged_writes"]
