"""Chapter 07, not graded: your index functions in the simulator, where global indexes converge.

The simulator's `gsi-convergence` scenario runs the whole path: base writes that move
items in and out of global indexes while the base table splits, storage nodes and the
propagator crash, and messages are lost, duplicated and reordered. Once writes stop and
faults heal, every index must hold exactly the entries of its table's items. It is not
graded because these runs also stand on chapter 3's Paxos and chapter 5's splits, which
another chapter's handout may have stubbed.
"""

from __future__ import annotations

import os

from test_ch07_entries import CHANGES, SPARSE, VERSIONS

from dynamo.cli.sim import check_seed

SIMULATED_SEEDS = 6  # gsi-convergence seeds: every one has splits, crashes and lost messages


def test_every_global_index_equals_its_tables_projection_once_faults_heal() -> None:
    """§2 and the Developer Guide: a global index is eventually consistent. In the simulator's
    gsi-convergence scenario (splits, crashes of storage nodes and of the propagator, lost,
    duplicated and reordered messages), once writes stop every index must hold exactly the
    entries of its table's items."""
    first = int(os.environ.get("DYNAMO_LAB_SEED", "0"))
    for seed in range(first, first + SIMULATED_SEEDS):
        report = check_seed("gsi-convergence", seed)
        replay = f"dynamo sim replay --scenario gsi-convergence --seed {seed}"
        assert report.status == "ok", (
            f"gsi-convergence, seed {seed}: {report.status}\n" + "\n".join(report.problems)
            + f"\nReplay it (and read its trace) with:\n  {replay}\nThe rules: {SPARSE}.\n"
            f"{CHANGES}.\n{VERSIONS}.")
