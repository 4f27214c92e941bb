"""The nemesis: fault schedules as data, drawn from the seed (§6.2's failure kinds)."""

from __future__ import annotations

from random import Random

import pytest

from dynamo.sim.faults import Fault, NemesisConfig, nemesis
from dynamo.sim.scenarios import SCENARIOS, run

NODES = ["n1", "n2", "n3"]


def test_schedule_is_a_function_of_the_seed() -> None:
    config = NemesisConfig(kinds=("crash", "partition", "one_way", "crash_leader"))
    assert nemesis(Random(1), NODES, config) == nemesis(Random(1), NODES, config)
    schedules = {tuple(nemesis(Random(s), NODES, config)) for s in range(20)}
    assert len(schedules) == 20


def test_every_fault_is_repaired_in_time_order() -> None:
    config = NemesisConfig(kinds=("crash", "partition", "one_way", "isolate_leader"),
                           episodes=(3, 3), duration_ms=(10.0, 20.0))
    for seed in range(50):
        faults = nemesis(Random(seed), NODES, config)
        assert faults == sorted(faults) and len(faults) == 6
        breaks = [f for f in faults if f.kind not in ("restart", "heal")]
        repairs = [f for f in faults if f.kind in ("restart", "heal")]
        assert len(breaks) == len(repairs) == 3
        for fault in breaks:
            if fault.kind in ("partition", "one_way"):
                assert fault.nodes and fault.others
                assert not set(fault.nodes) & set(fault.others)


def test_unknown_fault_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault(1.0, "meteor")


def test_crash_leader_crashes_the_elected_leader() -> None:
    result = run(SCENARIOS["paxos-failover"], 2, trace=True)
    assert result.trace is not None
    (crashed_at, victim), = result.stats.leader_crashes
    assert crashed_at == 800.0
    elected = [line for line in result.trace.lines
               if float(line.split()[0]) < 800 and "kind='elected'" in line]
    assert f"('leader', '{victim}')" in elected[-1]
    later = [line for line in result.trace.lines
             if float(line.split()[0]) > 800 and "kind='elected'" in line]
    assert later and f"('leader', '{victim}')" not in later[0]


def test_isolating_the_leader_cuts_it_off_from_its_peers_only() -> None:
    scenario = SCENARIOS["paxos-isolation"]
    result = run(scenario, 1, trace=True)
    assert result.trace is not None
    isolate = next(f for f in result.faults if f.kind == "isolate_leader")
    elected = [line for line in result.trace.lines
               if float(line.split()[0]) < isolate.at_ms and "kind='elected'" in line]
    leader = elected[-1].split("('leader', '")[1].split("'")[0]
    heal = min(f.at_ms for f in result.faults if f.kind == "heal" and f.at_ms > isolate.at_ms)
    received = [line for line in result.trace.lines
                if isolate.at_ms + 20 < float(line.split()[0]) < heal
                and line.split()[1] == "step" and line.split()[2] == leader]
    # after what was already in flight, no replica gets through; clients still do
    assert not any("Receive(src='n" in line for line in received)
    assert any("ClientRequest(" in line for line in received)
