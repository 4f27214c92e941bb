"""`python -m dynamo.paxos`: one replication group's failover, told step by step.

By default the group runs for real: three replica processes on loopback
(dynamo.net), a client writing over TCP, the leader killed with SIGKILL, and
every acknowledged write read back afterwards.

With `--sim` three replicas run in the deterministic simulator (dynamo.sim)
with a client writing to them, timed to the simulated millisecond. The story the demo prints is §6.2's: a leader is elected and
takes its lease, writes are acknowledged by a quorum, the leader crashes, the
followers notice and elect a new leader, which waits out the old lease before
it serves, writes resume, the old leader comes back as a follower, and no
acknowledged write is lost. The same seed prints the same story.

(This module alone in dynamo.paxos imports drivers, the simulator and the
TCP runtime: the demo needs one, and the layer's replicas never do.)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from dynamo.checker import as_history, no_lost_acknowledged_writes
from dynamo.paxos.operations import Put
from dynamo.paxos.replica import PaxosConfig, replica_factory
from dynamo.sim.clients import Client, ClientConfig, OpRecord
from dynamo.sim.faults import Fault
from dynamo.sim.scenarios import PaxosAdapter
from dynamo.sim.simulator import Simulator

NODES = ("n1", "n2", "n3")
CRASH_MS, RESTART_MS, END_MS = 1500.0, 4000.0, 6000.0
STORY_KINDS = ("elected", "lease_acquired", "stepped_down")


def run_group(seed: int, writes: int) -> tuple[Simulator, list[OpRecord]]:
    """Run the group with one writing client, a leader crash and a restart."""
    config = PaxosConfig()
    factory = replica_factory(NODES, config)
    sim = Simulator(seed, {n: factory for n in NODES}, max_drift=config.max_drift)
    operations = [Put(f"k{i % 4}", f"v{i}") for i in range(writes)]
    # like a request router: give up on a silent replica after 250 ms, follow redirects
    router = ClientConfig(timeout_ms=250.0, retry_ms=20.0, think_ms=(30.0, 60.0), wander=0.0,
                          stop_ms=END_MS - 500.0)
    client = Client("client", operations, PaxosAdapter(), list(NODES), sim.derive_rng(), router)
    sim.add_client(client)
    sim.schedule_fault(Fault(CRASH_MS, "crash_leader"))
    sim.schedule_fault(Fault(RESTART_MS, "restart"))
    sim.start()
    sim.run(END_MS)
    return sim, client.records


def story(sim: Simulator, records: Sequence[OpRecord]) -> list[tuple[float, str]]:
    """The run's events worth telling, in time order."""
    lines: list[tuple[float, str]] = []
    for at, node, announce in sim.announcements:
        detail = dict(announce.detail)
        if announce.kind == "elected":
            recovered = detail["recovered"]
            lines.append((at, f"{node} is elected leader in ballot {detail['ballot']} "
                              f"(recovered {recovered} log slot{'s' * (recovered != 1)})"))
        elif announce.kind == "lease_acquired":
            lines.append((at, f"{node} holds a lease from a majority: it serves writes and "
                              "consistent reads"))
        elif announce.kind == "stepped_down":
            lines.append((at, f"{node} steps down: it heard of a higher ballot"))
    for at, leader in sim.stats.leader_crashes:
        lines.append((at, f"** {leader}, the leader, crashes (its lease is still running)"))
    lines.append((RESTART_MS, "** the crashed replica restarts from its durable records"))
    for _, crashed in sim.stats.leader_crashes[:1]:
        caught_up = [(at, dict(a.detail)["last"]) for at, node, a in sim.announcements
                     if node == crashed and a.kind == "committed" and at > RESTART_MS]
        if caught_up:
            at, index = caught_up[0]
            lines.append((at, f"{crashed} is a follower again; log shipping brings it to "
                              f"commit index {index}"))
    acked = [r for r in records if r.outcome == "ok" and r.complete_ms is not None]
    lines += _write_batches(acked)
    return sorted(lines, key=lambda line: line[0])


def _write_batches(acked: Sequence[OpRecord]) -> list[tuple[float, str]]:
    """Acknowledged writes, one line per run of writes with no pause over 300 ms."""
    batches: list[list[OpRecord]] = []
    for record in acked:
        previous = batches[-1][-1].complete_ms if batches else None
        crossed = previous is not None and any(previous < t <= record.complete_ms
                                               for t in (CRASH_MS, RESTART_MS))
        if previous is not None and record.complete_ms - previous < 300 and not crossed:
            batches[-1].append(record)
        else:
            batches.append([record])
    return [(b[0].complete_ms, f"   {len(b)} write{'s' * (len(b) != 1)} acknowledged by a quorum"
                              f" (last: {b[-1].key}={b[-1].value} at {b[-1].complete_ms:.0f} ms)")
            for b in batches]


def lost_writes(sim: Simulator, records: Sequence[OpRecord]) -> list[str]:
    """What `dynamo.checker.durability` finds wrong with each live replica's items: every
    value must be one that some write (acknowledged, or of unknown outcome) could have
    left last, so no acknowledged write is lost on any replica."""
    history = as_history(records)
    keys = {r.key for r in records}
    problems = []
    for node_id, node in sorted(sim.nodes.items()):
        if node is not None:
            items = node.kv_items()
            final = {key: items.get(key) for key in keys}
            problems += [f"{node_id}: {problem}"
                         for problem in no_lost_acknowledged_writes(history, final)]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo.paxos", description=__doc__.split("\n")[0])
    parser.add_argument("--sim", action="store_true",
                        help="run the group in the deterministic simulator, not as processes")
    parser.add_argument("--seed", type=int, default=7,
                        help="with --sim: the simulation's seed (default 7)")
    parser.add_argument("--writes", type=int, default=90,
                        help="with --sim: how many writes the client makes")
    args = parser.parse_args(argv)
    if not args.sim:
        return run_over_tcp()
    sim, records = run_group(args.seed, args.writes)
    print(f"A Multi-Paxos replication group of {len(NODES)} replicas "
          f"(seed {args.seed}, simulated time):\n")
    for at, line in story(sim, records):
        print(f"{at:8.0f} ms  {line}")
    crash = sim.stats.leader_crashes[0][0] if sim.stats.leader_crashes else None
    acked = [r for r in records if r.outcome == "ok"]
    after = [r.complete_ms for r in acked if crash is not None and r.complete_ms > crash]
    print()
    if after and crash is not None:
        print(f"Writes resumed {min(after) - crash:.0f} ms after the crash: an election, then the "
              "wait for the old lease to run out (§6.2).")
    problems = lost_writes(sim, records)
    unknown = sum(1 for r in records if r.outcome == "unknown")
    print(f"{len(acked)} writes acknowledged; {unknown} timed out around the crash (they may or "
          "may not have happened).")
    for node_id, node in sorted(sim.nodes.items()):
        if node is not None:
            view = node.snapshot()
            print(f"  {node_id}: {view['role']:<8} commit index {view['commit_index']:>3}  "
                  f"items {dict(sorted(node.kv_items().items()))}")
    if problems:
        print("ACKNOWLEDGED WRITES LOST:", *problems, sep="\n  ")
        return 1
    print("No acknowledged write was lost: every replica holds the last acknowledged value of "
          "every key.")
    return 0


def run_over_tcp() -> int:
    """The failover story with real processes, sockets and fsyncs (dynamo.net)."""
    from dynamo.net.demo import main as tcp_demo

    return tcp_demo()


if __name__ == "__main__":
    raise SystemExit(main())
