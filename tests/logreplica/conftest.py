"""The log-replica tests step replicas with tests/paxos's message pump."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "paxos"))
