"""`python -m dynamo.paxos --sim` tells the failover story of §6.2, and keeps every acknowledged write."""

from __future__ import annotations

import dataclasses
import re

import pytest

from dynamo.paxos.__main__ import NODES, lost_writes, main, run_group


@pytest.mark.parametrize("seed", [7, 8])
def test_the_demo_elects_crashes_waits_out_the_lease_and_loses_nothing(seed, capsys) -> None:
    """§6.2: elected, crash, new election, the lease wait, writes resume, nothing lost."""
    assert main(["--sim", "--seed", str(seed)]) == 0
    out = capsys.readouterr().out
    times = {kind: [float(m) for m in re.findall(rf"^\s*(\d+) ms .*{kind}", out, re.M)]
             for kind in ("is elected leader", "holds a lease", "crashes")}
    assert len(times["is elected leader"]) == 2 and len(times["crashes"]) == 1
    crash = times["crashes"][0]
    second_election = times["is elected leader"][1]
    second_lease = times["holds a lease"][-1]
    assert crash < second_election < second_lease  # elected first, serves after the old lease
    assert second_lease - crash >= 900  # the old lease had most of its second left
    assert "No acknowledged write was lost" in out


def test_the_demos_verdict_is_the_durability_checkers() -> None:
    """"Nothing lost" is `dynamo.checker.durability`'s verdict on every replica: a write
    acknowledged after everything the replicas hold is reported as lost on each of them."""
    sim, records = run_group(7, 40)
    assert lost_writes(sim, records) == []
    last = max((r for r in records if r.outcome == "ok"), key=lambda r: r.complete_ms)
    later = dataclasses.replace(last, value="never-stored", invoke_ms=last.complete_ms + 1,
                                complete_ms=last.complete_ms + 2)
    problems = lost_writes(sim, [*records, later])
    assert sorted(p.split(":")[0] for p in problems) == sorted(NODES)
    assert all("the last write could only have left 'never-stored'" in p for p in problems)
