"""Log replicas against full replacement only: durability and write availability (§5.1).

A three-replica group in three zones loses a replica for good; before it
heals, one more node (another member, or the node standing in for the lost
one) becomes unreachable for a while. Each seed runs twice in the
deterministic simulator (dynamo.sim), with the same faults and writes:

* with log replicas: the leader adds a log replica (H2 of dynamo.logreplica),
  autoadmin builds a full replacement and retires it;
* without: autoadmin builds the full replacement only.

Building a full replacement means copying a B-tree, modelled as `--copy-s`
seconds before the new replica may join (the paper: minutes; a log replica
copies nothing). The figures, in simulated seconds: the time from the loss
to a durable write quorum again (three live copies: the log replica, or the
full replacement, joined), the time to the full replacement, and write
availability (% of write requests that succeeded). Nothing is hard-coded:
every figure comes from the runs.

    .venv/bin/python -m lab.logreplica_availability --seeds 20 --copy-s 60
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from random import Random

from dynamo.logreplica.__main__ import MEMBERS, ZONES
from dynamo.logreplica.group import healing_factories
from dynamo.logreplica.healing import HealingConfig
from dynamo.paxos.operations import Put
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.clients import Client, ClientConfig
from dynamo.sim.faults import Fault
from dynamo.sim.scenarios import PaxosAdapter
from dynamo.sim.simulator import Simulator

LOST_AT_MS = 1000.0
LOST = "n2"


@dataclass(frozen=True)
class Outcome:
    """One run's figures (seconds are simulated)."""

    seed: int
    log_replicas: bool
    unreachable: str
    writes: int
    acknowledged: int
    durable_quorum_s: float | None
    full_replacement_s: float | None

    @property
    def availability(self) -> float:
        return 100.0 * self.acknowledged / self.writes if self.writes else 0.0


def second_failure(seed: int) -> tuple[str, float, float]:
    """Which node becomes unreachable, when, and for how long (ms), drawn from the seed."""
    rng = Random(seed)
    node = ("n1", "n3", "s2")[rng.randrange(3)]  # a survivor, or the lost replica's stand-in
    return node, LOST_AT_MS + rng.uniform(1000.0, 4000.0), rng.uniform(5000.0, 15000.0)


def run_once(seed: int, log_replicas: bool, copy_ms: float, horizon_ms: float) -> Outcome:
    healing = HealingConfig(ZONES, log_replicas=log_replicas, copy_ms=copy_ms)
    config = PaxosConfig()
    sim = Simulator(seed, healing_factories(MEMBERS, config, healing), max_drift=config.max_drift)
    writes = int(horizon_ms / 50)
    router = ClientConfig(timeout_ms=250.0, retry_ms=20.0, think_ms=(40.0, 60.0), wander=0.0,
                          stop_ms=horizon_ms - 1000.0)
    client = Client("client", [Put(f"k{i % 8}", f"v{i}") for i in range(writes)],
                    PaxosAdapter(), [n for n, _ in ZONES], sim.derive_rng(), router)
    sim.add_client(client)
    node, at, lasts = second_failure(seed)
    others = tuple(n for n, _ in ZONES if n != node) + ("autoadmin",)
    sim.schedule_fault(Fault(LOST_AT_MS, "crash", (LOST,)))
    sim.schedule_fault(Fault(at, "partition", (node,), others))
    sim.schedule_fault(Fault(at + lasts, "heal"))
    sim.start()
    sim.run(horizon_ms)
    joined = [t for t, _, a in sim.announcements
              if a.kind in ("log_replica_added", "replacement_added")]
    replaced = [t for t, _, a in sim.announcements if a.kind == "replacement_added"]
    attempted = [r for r in client.records]
    return Outcome(seed, log_replicas, node, len(attempted),
                   sum(1 for r in attempted if r.outcome == "ok"),
                   (min(joined) - LOST_AT_MS) / 1000 if joined else None,
                   (min(replaced) - LOST_AT_MS) / 1000 if replaced else None)


def summarise(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | None]]:
    table: dict[str, dict[str, float | None]] = {}
    for mode in (True, False):
        runs = [o for o in outcomes if o.log_replicas is mode]
        quorum = [o.durable_quorum_s for o in runs if o.durable_quorum_s is not None]
        full = [o.full_replacement_s for o in runs if o.full_replacement_s is not None]
        table["with log replicas" if mode else "without"] = {
            "write availability %": statistics.mean(o.availability for o in runs),
            "durable quorum, median s": statistics.median(quorum) if quorum else None,
            "full replacement, median s": statistics.median(full) if full else None,
            "seeds": len(runs),
        }
    return table


def plot(outcomes: Sequence[Outcome], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, colour in ((True, "tab:green"), (False, "tab:red")):
        runs = [o for o in outcomes if o.log_replicas is mode]
        label = "with log replicas" if mode else "without"
        left.scatter([o.seed for o in runs], [o.availability for o in runs], c=colour,
                     label=label, s=14)
        right.scatter([o.seed for o in runs], [o.durable_quorum_s or float("nan") for o in runs],
                      c=colour, label=label, s=14)
    left.set(xlabel="seed", ylabel="write availability (%)", title="Writes that succeeded")
    right.set(xlabel="seed", ylabel="simulated seconds", yscale="log",
              title="Loss to a durable write quorum")
    left.legend()
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.logreplica_availability",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--copy-s", type=float, default=60.0,
                        help="simulated seconds to copy a B-tree for a full replacement")
    parser.add_argument("--out", type=Path, default=Path("lab/out"))
    args = parser.parse_args(argv)
    copy_ms = args.copy_s * 1000
    horizon = copy_ms + 15_000.0
    outcomes = [run_once(seed, mode, copy_ms, horizon)
                for seed in range(args.seeds) for mode in (True, False)]
    table = summarise(outcomes)
    print(f"{args.seeds} seeds; a replica lost at {LOST_AT_MS / 1000:.0f} s, one more node "
          f"unreachable 1-4 s later for 5-15 s; B-tree copy {args.copy_s:.0f} s (simulated)")
    for mode, row in table.items():
        cells = "  ".join(f"{k}: {'-' if v is None else f'{v:.1f}'}" for k, v in row.items())
        print(f"  {mode:<18} {cells}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "logreplica_availability.json").write_text(json.dumps(
        {"table": table, "runs": [asdict(o) for o in outcomes]}, indent=1))
    plot(outcomes, args.out / "logreplica_availability.png")
    print(f"wrote {args.out / 'logreplica_availability.json'} and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
