"""The dashboard: watch what the chapters teach, live (DESIGN, "Observability is a feature").

Two views, both read-only windows on what the layers expose:

* `SimulationDashboard` runs a seeded `dynamo.sim` simulation of a Paxos
  replication group in virtual time and shows each replica's snapshot, the
  stream of announced events and faults, and the clients' acknowledged
  operations, with keys to crash, restart and cut off the leader (§3, §6.2);
* `ServerDashboard` polls a running `dynamo serve` through the DynamoDB API
  (ListTables, DescribeTable) and shows its tables as the API describes them,
  and through its admin endpoint its replication groups and its tables'
  partitions on storage nodes (§3, §4).

`dynamo dashboard` opens either; `python -m dynamo.tui` opens the simulation.
"""

from dynamo.tui.serverview import ServerDashboard
from dynamo.tui.simview import SimulationDashboard

__all__ = ["ServerDashboard", "SimulationDashboard"]
