"""The simulator and checkers have teeth: each planted Paxos bug is caught.

Each planted bug (a replica subclass in dynamo/paxos/planted.py, chosen with
`planted_bug=` or `--planted-bug`) breaks one rule of the protocol on purpose. Within
a bounded number of seeds, the sweep must find a seed that fails, and the
failure must be of the kind the bug causes:

* read_without_lease: a deposed leader answers a strongly consistent read
  from its stale copy (§3: reads need the lease) -> not linearizable;
* commit_before_quorum: the leader acknowledges a write only it has (§3, §6.1:
  "ack once a quorum has persisted it") -> a committed slot changes;
* accept_stale_ballot: a follower accepts a proposal from a superseded leader
  (Paxos phase 2 safety) -> a committed slot changes.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynamo.cli.sim import check_seed, judge
from dynamo.sim.scenarios import SCENARIOS, run

MAX_SEEDS = 20
EXPECTED = {
    "read_without_lease": "history is not linearizable",
    "commit_before_quorum": "committed entries never change",
    "accept_stale_ballot": "committed entries never change",
}


@pytest.mark.parametrize("bug", sorted(EXPECTED))
def test_planted_bug_is_caught_within_bounded_seeds(bug: str) -> None:
    for seed in range(MAX_SEEDS):
        report = check_seed("paxos-isolation", seed, planted_bug=bug)
        if report.status == "violation":
            break
    else:
        pytest.fail(f"{bug} not caught in {MAX_SEEDS} seeds of paxos-isolation")
    command = report.replay_command()
    print(f"{bug} caught at seed {seed}: {report.problems[0].splitlines()[0]}")
    print(f"replay: {command}")
    assert command == f"dynamo sim replay --seed {seed} --scenario paxos-isolation " \
                      f"--planted-bug {bug}"
    assert any(p.startswith(EXPECTED[bug]) or EXPECTED[bug] in p for p in report.problems)
    # and the same seed without the bug is clean: the bug, not the seed, fails it
    assert check_seed("paxos-isolation", seed).status == "ok"


def test_a_scenarios_invariants_are_data() -> None:
    """Dropping an invariant from a scenario stops it being judged: the stale
    reads of read_without_lease are seen only by the linearizability check."""
    isolation = SCENARIOS["paxos-isolation"]
    assert judge(run(isolation, 0, planted_bug="read_without_lease"))[0] == "violation"
    blind = replace(isolation, invariants=tuple(i for i in isolation.invariants
                                                if i != "linearizable per key"))
    assert judge(run(blind, 0, planted_bug="read_without_lease")) == ("ok", [])
