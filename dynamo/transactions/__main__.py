"""`python -m dynamo.transactions`: the bank, one simulated run, told.

Money moves between eight accounts by TransactWriteItems on a table split
into partitions, an auditor reads them all with TransactGetItems and a teller
races them with single-item writes, while storage nodes and the transaction
coordinators crash (one of them just after a decision: mid-commit) and links
fail (`dynamo.sim.bank`). It prints what happened and what was checked; the
same seed always tells the same story.
"""

from __future__ import annotations

import sys

from dynamo.sim.bank import run


def main(seed: int = 1) -> None:
    result = run(seed)
    print(f"the bank, {result.summary()}\n")
    for fault in result.faults:
        print(f"  fault  {fault.describe()}")
    told = {o: sum(t.outcome == o for t in result.transfers)
            for o in ("committed", "cancelled", "unknown")}
    print(f"\nclerks were told: {told['committed']} committed, {told['cancelled']} cancelled, "
          f"{told['unknown']} unanswered (the ledgers committed {result.committed} in all)")
    print(f"auditors: {result.audits} TransactGetItems answered, each saw the same total; "
          f"{result.audit_conflicts} cancelled (an item was held by a transfer)")
    if result.violations:
        print("\nVIOLATIONS:\n  " + "\n  ".join(result.violations))
        print(f"replay: {result.replay}")
    else:
        print("\nno audit saw half a transfer, no transfer committed partially or twice, "
              "no item was left held")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
