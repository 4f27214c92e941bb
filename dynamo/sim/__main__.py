"""`python -m dynamo.sim`: one simulated failover of a three-replica Paxos group, told.

Runs the "paxos-failover" scenario for one seed: three clients write while
the leader is crashed at 800 ms. It prints what the replicas announced
(elections, leases, step-downs), the faults, and the clients' view: when the
last write before the crash and the first write after it were acknowledged.
Everything is simulated: the run takes milliseconds and the same seed always
tells the same story (§6.2: a new leader waits out the old leader's lease).
"""

from __future__ import annotations

import sys

from dynamo.sim.scenarios import SCENARIOS, run

STORY_KINDS = ("elected", "lease_acquired", "stepped_down")


def main(seed: int = 1) -> None:
    result = run(SCENARIOS["paxos-failover"], seed, trace=True)
    print(f"paxos-failover, seed {seed}: three replicas, "
          f"{len(result.operations)} clients, leader crashed at 800 ms\n")
    assert result.trace is not None
    for line in result.trace.lines:
        parts = line.split(maxsplit=3)
        what = parts[1]
        if what in ("fault", "crash", "boot") or (
                what == "effect" and any(f"kind='{k}'" in line for k in STORY_KINDS)):
            print(f"  {float(parts[0]):8.1f} ms  {what:6} {parts[2]:3} {_short(parts[3:])}")
    writes = [r for r in result.history if r.kind == "put" and r.outcome == "ok"]
    crash = result.stats.leader_crashes[0][0] if result.stats.leader_crashes else None
    if crash is not None and writes:
        before = max((r.complete_ms for r in writes if r.complete_ms < crash), default=None)
        print(f"\nlast write acknowledged before the crash: {before:.1f} ms")
    if result.failover_ms is not None and crash is not None:
        print(f"first write acknowledged after it:       {crash + result.failover_ms:.1f} ms "
              f"(failover {result.failover_ms:.0f} ms of simulated time)")
    print(f"{result.stats.events} events, {len(result.history)} operations, "
          f"trace sha256 {result.trace.digest()[:16]}...")
    print(f"replay it: dynamo sim replay --seed {seed} --scenario paxos-failover --trace")


def _short(rest: list[str]) -> str:
    text = rest[0] if rest else ""
    return text if len(text) < 90 else text[:87] + "..."


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
