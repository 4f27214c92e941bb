"""Simulator proof of transactions: the bank keeps its money under faults (ATC'23 §3, §5).

`dynamo.sim.bank`: clerks move money between accounts with TransactWriteItems
(conditioned on the balance, with ClientRequestTokens sent again when
unanswered), an auditor reads every account with TransactGetItems, a teller
races them with single-item writes, on a table split into several
partitions, while storage nodes and transaction coordinators crash (one
coordinator right after a decision: mid-commit), links partition and lose,
duplicate and reorder messages. Each seed is judged for conserved totals in
every audit, no partial or doubled commit, answers that agree with the
ledgers, single-item writes applied exactly as answered, no item left held,
and the replication invariants at every step.
"""

from __future__ import annotations

from dynamo.sim.bank import run

SEEDS = 200


def test_no_audit_ever_sees_half_a_transfer_in_200_seeds_under_faults() -> None:
    results = [run(seed) for seed in range(SEEDS)]
    problems = [f"{r.violations[0]} (replay: {r.replay})" for r in results if r.violations]
    assert problems == [], "\n".join(problems)
    # The runs did what they were meant to: the table split, faults struck, money moved,
    # transfers were cancelled by their conditions and by conflicts, audits answered.
    assert all(r.faults for r in results)
    assert sum(r.splits >= 1 for r in results) >= 0.95 * SEEDS
    told = [t.outcome for r in results for t in r.transfers]
    assert told.count("committed") > 5 * SEEDS
    assert told.count("cancelled") > 2 * SEEDS
    assert sum(r.audits for r in results) > 5 * SEEDS
    # Reads met transfers: most retry past them, some run out of rounds and are cancelled.
    assert sum(r.audit_conflicts for r in results) >= 10
    assert sum(r.visits_refused for r in results) > SEEDS // 2  # single writes met holders
    assert sum(r.committed for r in results) >= told.count("committed")


def test_a_seed_replays_exactly() -> None:
    first, again = run(3), run(3)
    assert first.summary() == again.summary()
    assert [t.outcome for t in first.transfers] == [t.outcome for t in again.transfers]
