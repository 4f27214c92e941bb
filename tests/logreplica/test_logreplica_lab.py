"""The availability experiment (lab/logreplica_availability.py) measures what it says (§5.1)."""

from __future__ import annotations

from lab.logreplica_availability import run_once, summarise


def test_a_log_replica_restores_a_durable_quorum_long_before_a_full_replacement() -> None:
    """§5.1: seconds for a log replica against the B-tree copy time for a full replica."""
    copy_ms = 10_000.0
    outcomes = [run_once(seed, mode, copy_ms, copy_ms + 25_000.0)  # past the second failure
                for seed in (1, 2) for mode in (True, False)]
    for outcome in outcomes:
        assert outcome.writes > 0 and 0 < outcome.acknowledged <= outcome.writes
        assert outcome.full_replacement_s is not None
        assert outcome.full_replacement_s >= copy_ms / 1000  # the copy is waited out
        assert outcome.durable_quorum_s is not None
        if outcome.log_replicas:
            assert outcome.durable_quorum_s < 2.0
        else:  # without log replicas only the full replacement restores the quorum
            assert outcome.durable_quorum_s == outcome.full_replacement_s
    table = summarise(outcomes)
    assert set(table) == {"with log replicas", "without"}
    assert all(0 < row["write availability %"] <= 100 for row in table.values())
