"""Peer confirmation before an election: the pre-vote (§6.2, dynamo/paxos/prevote.py).

§6.2: a follower that wants to trigger a failover first asks the other replicas
whether they can still communicate with the leader, and drops the attempt if
they can. Here first one replica at a time (the message pump), then the
rejoin scenario over 200 simulated seeds with the elections counted.
"""

from __future__ import annotations

from dataclasses import replace

from paxos_pump import Pump

from dynamo.contract import Persist, Receive, Send, TimerFired
from dynamo.paxos import Ok, PaxosConfig, Put
from dynamo.paxos.ballot import Ballot
from dynamo.paxos.messages import Prepare, PreVote, PreVoteReply
from dynamo.sim.faults import Fault
from dynamo.sim.scenarios import SCENARIOS, run

REJOIN_SEEDS = 200


def fire_election_timer(pump: Pump, node: str) -> list:
    replica = pump.nodes[node]
    pump.now = replica.last_heard + replica.election_timeout + 1.0
    return replica.step(pump.now, TimerFired("election"))


def test_a_follower_that_hears_no_leader_asks_before_raising_its_ballot() -> None:
    """P1: the timer's expiry sends PreVotes only: no Prepare, no promise, nothing persisted."""
    pump = Pump()
    pump.elect()
    follower = pump.followers()[0]
    promised = pump.nodes[follower].acceptor.promised
    effects = fire_election_timer(pump, follower)
    sent = [e.message for e in effects if isinstance(e, Send)]
    assert sent and all(isinstance(m, PreVote) for m in sent)
    assert not [e for e in effects if isinstance(e, Persist)]
    assert pump.nodes[follower].acceptor.promised == promised
    assert pump.nodes[follower].role == "follower"


def test_peers_that_hear_a_live_leader_say_no_and_nobody_stands() -> None:
    """P2, P3: a follower cut off from a healthy group asks; the leader and the other
    follower, which still hear each other, refuse; the asker stays a follower."""
    pump = Pump()
    leader = pump.elect()
    asker, other = pump.followers()
    pump.isolate(asker)
    pump.advance(400.0)  # its timer expires: it asks, but nobody hears it
    asks = [m for src, _, m in pump.sent if src == asker and isinstance(m, PreVote)]
    assert asks, "a follower that hears no leader asks its peers"
    ballot = asks[-1].ballot
    for peer in (leader, other):
        answers = pump.nodes[peer].step(pump.now, Receive(asker, PreVote(ballot)))
        assert [e.message for e in answers] == [PreVoteReply(ballot, False)]
        assert pump.nodes[peer].acceptor.promised < ballot  # answering changed no promise
    for peer in (leader, other):
        pump.nodes[asker].step(pump.now, Receive(peer, PreVoteReply(ballot, False)))
    assert pump.nodes[asker].role == "follower"
    assert pump.nodes[asker].acceptor.promised < ballot
    assert not [m for src, _, m in pump.sent if src == asker and isinstance(m, Prepare)]


def test_a_majority_of_grants_starts_phase_one() -> None:
    """P3: one grant from a peer makes a majority of three with the asker's own: it stands."""
    pump = Pump()
    pump.elect()
    asker = pump.followers()[0]
    effects = fire_election_timer(pump, asker)
    ballot = next(e.message.ballot for e in effects if isinstance(e, Send))
    effects = pump.nodes[asker].step(pump.now, Receive("c" if asker != "c" else "b",
                                                       PreVoteReply(ballot, True)))
    prepares = [e.message for e in effects if isinstance(e, Send)]
    assert prepares and all(isinstance(m, Prepare) and m.ballot == ballot for m in prepares)
    assert pump.nodes[asker].role == "candidate"


def test_a_lone_replica_grants_once_its_leader_has_been_silent_for_the_patience() -> None:
    """P2 at a follower: 'no' right after a heartbeat, 'yes' once the shortest timeout has passed."""
    pump = Pump()
    pump.elect()
    follower = pump.nodes[pump.followers()[0]]
    ballot = Ballot(follower.acceptor.promised.round + 1, "zz")
    reply = follower.step(pump.now, Receive("zz", PreVote(ballot)))[0].message
    assert reply.granted is False
    later = follower.leader_heard + PaxosConfig().election_timeout_ms[0]
    reply = follower.step(later, Receive("zz", PreVote(ballot)))[0].message
    assert reply.granted is True


def rejoin(pre_vote: bool) -> Pump:
    """A follower is cut off for 2 s while the leader takes writes, then heals."""
    pump = Pump(config=PaxosConfig(pre_vote=pre_vote))
    leader = pump.elect()
    cut_off = pump.followers()[0]
    pump.isolate(cut_off)
    for i in range(20):
        assert pump.request(leader, Put("k", f"v{i}"), wait_ms=100.0) == Ok()
    pump.heal()
    pump.advance(1500.0)
    return pump


def test_a_follower_that_rejoins_deposes_no_one_with_the_pre_vote() -> None:
    """§6.2: cut off for 2 s and healed, the follower catches up under the same leader."""
    pump = rejoin(pre_vote=True)
    assert len(pump.kinds("elected")) == 1
    assert pump.kinds("stepped_down") == []
    leader = pump.leader()
    assert all(pump.nodes[n].log.commit_index == pump.nodes[leader].log.commit_index
               for n in pump.ids)


def test_without_the_pre_vote_the_rejoining_follower_deposes_the_leader() -> None:
    """The failure the pre-vote prevents: the healed follower's raised ballot reaches the
    leader, which steps down, and the group elects again."""
    pump = rejoin(pre_vote=False)
    assert len(pump.kinds("elected")) > 1
    assert [a for a in pump.kinds("stepped_down") if dict(a[2].detail)["reason"]
            == "a higher ballot"]


def test_the_rejoin_scenario_elects_once_in_every_seed_with_the_pre_vote() -> None:
    """The rejoin scenario over 200 seeds: 0 elections after the first (the sweep in
    tests/sim judges its histories for linearizability and lost writes)."""
    scenario = SCENARIOS["paxos-rejoin"]
    extra = {seed: run(scenario, seed).elections - 1 for seed in range(REJOIN_SEEDS)}
    assert {seed: n for seed, n in extra.items() if n != 0} == {}


def test_the_rejoin_scenario_elects_again_without_the_pre_vote() -> None:
    """Switched off, the same scenario deposes the healthy leader: > 0 elections after the first."""
    scenario = replace(SCENARIOS["paxos-rejoin"], pre_vote=False)
    extra = [run(scenario, seed).elections - 1 for seed in range(10)]
    assert sum(extra) > 0 and min(extra) >= 0


def test_a_follower_deaf_to_the_leader_alone_is_told_the_leader_is_healthy() -> None:
    """§6.2's gray failure: the follower hears the other follower but not the leader. Its
    peers, which still hear the leader, refuse: no election in any seed, with the pre-vote;
    without it, the follower's raised ballot deposes the leader once the link heals."""
    deaf = replace(SCENARIOS["paxos-rejoin"],
                   faults=(Fault(500.0, "deafen_follower"), Fault(2500.0, "heal")))
    assert [s for s in range(40) if run(deaf, s).elections != 1] == []
    assert sum(run(replace(deaf, pre_vote=False), s).elections - 1 for s in range(5)) > 0


def test_the_follower_faults_cut_the_links_they_name() -> None:
    """isolate_follower cuts one follower off both ways; deafen_follower only the leader's
    link to it. Neither touches the leader's link to the other follower."""
    from dynamo.paxos import replica_factory
    from dynamo.sim.simulator import Simulator

    nodes = ("n1", "n2", "n3")
    for kind in ("isolate_follower", "deafen_follower"):
        factory = replica_factory(nodes, PaxosConfig())
        sim = Simulator(3, {n: factory for n in nodes})
        sim.start()
        sim.run(1000.0)
        leader = sim.current_leader()
        assert leader is not None
        victim, other = [n for n in nodes if n != leader]
        sim.apply_fault(Fault(sim.now, kind))
        cut = sim.network.blocked
        assert (leader, victim) in cut and (leader, other) not in cut
        both_ways = {(victim, leader), (victim, other), (other, victim)}
        assert both_ways <= cut if kind == "isolate_follower" else not both_ways & cut
