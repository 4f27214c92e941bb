"""`python -m dynamo.tui`: the dashboard's simulation view (see `dynamo dashboard`).

    python -m dynamo.tui [SCENARIO] [--seed N] [--speed X]

The server view needs a request signer, which the `dynamo` command provides:
use `dynamo dashboard --endpoint URL` for it.
"""

from __future__ import annotations

import argparse

from dynamo.sim.scenarios import SCENARIOS
from dynamo.tui.simview import SimulationDashboard


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dynamo.tui",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("scenario", nargs="?", default="paxos-failover", choices=sorted(SCENARIOS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args()
    SimulationDashboard(args.scenario, args.seed, args.speed).run()


if __name__ == "__main__":
    main()
