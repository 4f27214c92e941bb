"""The deterministic simulator: sans-IO nodes on a virtual clock, one seed for every choice.

`Simulator` drives `dynamo.contract` nodes through a simulated network
(latency, loss, duplication, reordering, symmetric and one-way partitions),
crashes and restarts them with exactly what they persisted, and gives each a
clock drifting within ε. `scenarios` names the runs the tests, the lab and the
dashboard share; `invariants` checks safety at every step; `minimise` shrinks
a failing run. Run `python -m dynamo.sim` for a short demo.

Paper: §3 and §6 (the replication protocol it exercises), §5.4 (failure
injection and model checking as the way to trust it).
"""

from dynamo.sim.faults import Fault, NemesisConfig
from dynamo.sim.network import NetworkConfig
from dynamo.sim.simulator import Simulator

__all__ = ["Fault", "NemesisConfig", "NetworkConfig", "Simulator"]
