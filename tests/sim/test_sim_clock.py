"""Virtual time jumps; each node's clock drifts within ε (the lease's premise, §3, §6.2)."""

from __future__ import annotations

from random import Random

import pytest
from sim_toys import ping_sim

from dynamo.sim.clock import DriftingClock, drifting_clocks


def test_clock_jumps_to_the_next_event() -> None:
    """A minute of simulated pings: the clock goes from event to event, never
    waiting, and lands exactly on the horizon asked for."""
    sim = ping_sim(1)
    sim.run(60_000)
    assert sim.now == 60_000
    assert sim.stats.events > 30_000
    times = [float(line.split()[0]) for line in sim.trace.lines]
    assert times == sorted(times)
    gaps = {round(b - a, 6) for a, b in zip(times, times[1:], strict=False) if b > a}
    assert len(gaps) > 100  # irregular jumps between events, not fixed ticks


@pytest.mark.parametrize("epsilon", [0.0, 0.01, 0.2])
def test_every_node_measures_time_within_epsilon(epsilon: float) -> None:
    sim = ping_sim(5, max_drift=epsilon)
    sim.run(2000)
    rates = []
    for node_id in "abc":
        clock = sim.clocks[node_id]
        rates.append(clock.rate)
        assert 1 - epsilon <= clock.rate <= 1 + epsilon
        local = sim.nodes[node_id].local_times
        assert local == sorted(local)  # never backwards
        assert local[-1] <= 2000 * (1 + epsilon) + 1e-9
    # the seed puts one node at each extreme of the bound
    assert min(rates) == pytest.approx(1 - epsilon) and max(rates) == pytest.approx(1 + epsilon)


def test_timers_run_on_the_nodes_own_clock() -> None:
    slow = DriftingClock(0.9)
    assert slow.deadline(10, 90) == pytest.approx(110)
    assert slow.local(100) == pytest.approx(90)
    assert slow.to_global(slow.local(123.0)) == pytest.approx(123.0)


def test_drift_bound_is_validated() -> None:
    with pytest.raises(ValueError):
        drifting_clocks(["a"], 1.5, Random(0))


@pytest.mark.parametrize("rate", [0.99, 1.0, 1.01, 0.9])
def test_a_timer_never_fires_early_by_the_nodes_clock(rate: float) -> None:
    """Even a timer re-armed for a sliver of a millisecond must move time on,
    or a node could be woken at the same instant forever (contract rule 5)."""
    clock = DriftingClock(rate)
    for now in (1257.8557323977568, 3.0, 123456.789):
        for delay in (1e-13, 1e-9, 0.1, 150.0):
            fire = clock.deadline(now, delay)
            assert clock.local(fire) >= clock.local(now) + delay
            assert fire > now
