"""`python -m dynamo.logreplica`: a replica is lost, a log replica restores the quorum, autoadmin heals.

Three replicas of one partition in three zones (az1, az2, az3), six spare
storage nodes (two per zone) and autoadmin run in the deterministic
simulator, with a client writing. One replica crashes and stays down. The
story printed is §5.1's: the leader notices the silent replica, asks a spare
in the lost replica's zone whether it is there and adds it as a log replica
(the write quorum is durable again), autoadmin adds a full replacement that copies the leader's B-tree and
the log tail, then removes the dead replica and the log replica. Every
acknowledged write is then read back from every member. The same seed prints
the same story.

(Only this module of dynamo.logreplica imports a driver and the checker: the
demo needs them, the layer's nodes never do.)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from dynamo.checker import as_history, no_lost_acknowledged_writes
from dynamo.logreplica.group import healing_factories
from dynamo.logreplica.healing import HealingConfig
from dynamo.paxos.operations import Put
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig, OpRecord
from dynamo.sim.faults import Fault
from dynamo.sim.scenarios import PaxosAdapter
from dynamo.sim.simulator import Simulator

MEMBERS = ("n1", "n2", "n3")
ZONES = (("n1", "az1"), ("n2", "az2"), ("n3", "az3"), ("s1", "az1"), ("s2", "az2"),
         ("s3", "az3"), ("s4", "az1"), ("s5", "az2"), ("s6", "az3"))
CRASH_MS, END_MS = 1000.0, 5000.0


def run_healing(seed: int, writes: int, lost: str = "n2") -> tuple[Simulator, list[OpRecord]]:
    """Run the group with one writing client; `lost` crashes at CRASH_MS for good."""
    config = PaxosConfig()
    healing = HealingConfig(ZONES)
    sim = Simulator(seed, healing_factories(MEMBERS, config, healing),
                    max_drift=config.max_drift)
    operations = [Put(f"k{i % 4}", f"v{i}") for i in range(writes)]
    router = ClientConfig(timeout_ms=250.0, retry_ms=20.0, think_ms=(30.0, 60.0), wander=0.0,
                          stop_ms=END_MS - 500.0)
    client = Client("client", operations, PaxosAdapter(), list(MEMBERS), sim.derive_rng(), router)
    sim.add_client(client)
    sim.schedule_fault(Fault(CRASH_MS, "crash", (lost,)))
    sim.start()
    sim.run(END_MS)
    return sim, client.records


def story(sim: Simulator, lost: str = "n2") -> list[tuple[float, str]]:
    """The healing steps the nodes announced, in time order."""
    zone = dict(ZONES)
    lines = [(CRASH_MS, f"** {lost} ({zone[lost]}) crashes and stays down")]
    for at, node, announce in sim.announcements:
        d: dict[str, Any] = dict(announce.detail)
        if announce.kind == "elected":
            lines.append((at, f"{node} is elected leader in ballot {d['ballot']}"))
        elif announce.kind == "replica_unresponsive":
            lines.append((at, f"{node}, the leader, has not heard {d['replica']} ({d['zone']}) "
                              f"for 10 heartbeats; spare {d['log_replica']} "
                              f"({d['log_replica_zone']}) answers that it can stand in: "
                              f"it proposes a log replica on {d['log_replica']}"))
        elif announce.kind == "log_replica_added":
            members = d["members"]
            live = [m for m in members if sim.nodes.get(m) is not None]
            lines.append((at, f"log replica {d['replica']} joins: {len(members)} members, a write "
                              f"quorum is {len(members) // 2 + 1} and {len(live)} are live: "
                              "the write quorum is restored"))
        elif announce.kind == "replacement_added":
            lines.append((at, f"autoadmin's full replacement {d['replica']} ({zone[d['replica']]})"
                              " joins; the leader ships it a snapshot of its B-tree and the "
                              "log tail"))
        elif announce.kind in ("member_removed", "log_replica_removed"):
            lines.append((at, f"{d['replica']} leaves the group: members {', '.join(d['members'])}"
                              f"; log replicas: {', '.join(d['log_members']) or 'none'}"))
        elif announce.kind == "healed":
            lines.append((at, "healed: three full replicas in three zones again"))
    return sorted(lines, key=lambda line: line[0])


def first(sim: Simulator, kind: str) -> float | None:
    return next((at for at, _, a in sim.announcements if a.kind == kind), None)


def lost_writes(sim: Simulator, records: Sequence[OpRecord]) -> list[str]:
    """Problems `dynamo.checker` finds with each live full member's items."""
    history = as_history(records)
    keys = {r.key for r in records}
    problems = []
    for node_id, node in sorted(sim.nodes.items()):
        view = node.snapshot() if node is not None else {}
        if view.get("replica_role") == "full" and node_id in view.get("members", ()):
            items = node.kv_items()  # type: ignore[union-attr]
            final = {key: items.get(key) for key in keys}
            problems += [f"{node_id}: {p}" for p in no_lost_acknowledged_writes(history, final)]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo.logreplica",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="the simulation's seed (default 7)")
    parser.add_argument("--writes", type=int, default=70, help="how many writes the client makes")
    args = parser.parse_args(argv)
    sim, records = run_healing(args.seed, args.writes)
    print(f"A replication group of {len(MEMBERS)} replicas in 3 zones, 6 spare nodes and "
          f"autoadmin (seed {args.seed}, simulated time):\n")
    for at, line in story(sim):
        print(f"{at:8.0f} ms  {line}")
    added, healed = first(sim, "log_replica_added"), first(sim, "healed")
    print()
    if added is not None:
        print(f"The write quorum was durable again {added - CRASH_MS:.0f} ms after the crash "
              "(a log replica copies no B-tree).")
    if healed is not None:
        print(f"The group was healed {healed - CRASH_MS:.0f} ms after the crash.")
    leader = sim.current_leader()
    members = sim.nodes[leader].snapshot()["members"] if leader is not None else ()
    print("The group now, as its leader sees it:")
    for node_id in members:
        node = sim.nodes[node_id]
        view = node.snapshot() if node is not None else {"role": "down", "commit_index": "-"}
        print(f"  {node_id} ({dict(ZONES)[node_id]}): {view['role']:<8} "
              f"commit index {view['commit_index']:>3}")
    acked = sum(1 for r in records if r.outcome == "ok")
    problems = lost_writes(sim, records)
    if problems or healed is None:
        print("NOT HEALED" if healed is None else "", *problems, sep="\n  ")
        return 1
    print(f"{acked} writes acknowledged; every member holds the last acknowledged value of "
          "every key.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
