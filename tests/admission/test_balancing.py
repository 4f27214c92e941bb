"""Proactive balancing of consumed capacity (§4.3): leaderships move off a hot node."""

from __future__ import annotations

from dynamo.admission.balancing import (
    BALANCE_TIMER,
    BalanceConfig,
    LoadBalancer,
    Move,
    choose_move,
)
from dynamo.admission.messages import LedPartition, NodeLoad
from dynamo.contract import Announce, Receive, Send, SetTimer, Start, TimerFired
from dynamo.partitioning.messages import HandOffPartition

MEMBERS = ("n1", "n2", "n3")


def report(node: str, *loads: tuple[str, float]) -> NodeLoad:
    return NodeLoad(node, tuple(LedPartition(p, load, MEMBERS) for p, load in loads))


def test_a_node_past_the_threshold_hands_a_leadership_to_the_coolest_node() -> None:
    """§4.3: "in case the throughput is beyond a threshold percentage of the maximum
    capacity of the node", load is moved off it, to a node with room."""
    reports = {"n1": report("n1", ("a", 0.4), ("b", 0.3)), "n2": report("n2", ("c", 0.1)),
               "n3": report("n3")}
    assert choose_move(reports, set()) == Move("b", "n1", "n3", 0.3)


def test_the_move_halves_the_gap_rather_than_swapping_which_node_is_hot() -> None:
    """The partition moved is the one nearest half the difference; one as large as the
    whole difference would only make the cool node the hot one."""
    reports = {"n1": report("n1", ("big", 0.8)), "n2": report("n2", ("c", 0.1))}
    assert choose_move(reports, set()) is None  # n2 would run at 0.9
    reports = {"n1": report("n1", ("big", 0.6), ("mid", 0.35), ("small", 0.05)),
               "n2": report("n2", ("c", 0.3))}
    assert choose_move(reports, set()) == Move("mid", "n1", "n2", 0.35)


def test_a_node_under_the_threshold_or_close_to_the_others_is_left_alone() -> None:
    assert choose_move({"n1": report("n1", ("a", 0.45)), "n2": report("n2")}, set()) is None
    assert choose_move({"n1": report("n1", ("a", 0.3), ("b", 0.3)),
                        "n2": report("n2", ("c", 0.45))}, set()) is None


def test_a_partition_moved_recently_or_without_a_replica_there_is_not_a_candidate() -> None:
    reports = {"n1": report("n1", ("a", 0.4), ("b", 0.3)), "n2": report("n2")}
    assert choose_move(reports, {"b"}).partition == "a"  # type: ignore[union-attr]
    elsewhere = NodeLoad("n1", (LedPartition("a", 0.8, ("n1", "n3", "n4")),))
    assert choose_move({"n1": elsewhere, "n2": report("n2")}, set()) is None


def test_the_balancer_asks_the_hot_node_to_hand_off_and_waits_out_the_cooldown() -> None:
    balancer = LoadBalancer("balancer", BalanceConfig(interval_ms=1000.0, cooldown_ms=5000.0))
    assert balancer.step(0.0, Start()) == [SetTimer(BALANCE_TIMER, 1000.0)]
    hot, cool = report("n1", ("a", 0.5), ("b", 0.3), ("c", 0.1)), report("n2")
    balancer.step(900.0, Receive("n1", hot))
    balancer.step(900.0, Receive("n2", cool))
    effects = balancer.step(1000.0, TimerFired(BALANCE_TIMER))
    assert Send("n1", HandOffPartition("a", "n2")) in effects
    assert any(type(e) is Announce and e.kind == "rebalancing" for e in effects)
    # The same reports a second later (the handoff not seen yet): "a" rests.
    balancer.step(1900.0, Receive("n1", hot))
    balancer.step(1900.0, Receive("n2", cool))
    again = balancer.step(2000.0, TimerFired(BALANCE_TIMER))
    assert Send("n1", HandOffPartition("b", "n2")) in again
    # No reports at all in an interval: nothing to act on.
    assert not any(type(e) is Send for e in balancer.step(3000.0, TimerFired(BALANCE_TIMER)))
    assert balancer.snapshot()["moves"] == 2
