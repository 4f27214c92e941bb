"""Chapter 3, graded: the acceptor's two rules (`Acceptor.on_prepare` and `Acceptor.on_accept`
in dynamo/paxos/acceptor.py).

Phase 1b: promise a ballot at least as high as any promised, persist the promise,
and report what was accepted. Phase 2b: accept only in a ballot at least as high as
the one promised, persist what was accepted. Everything else in Multi-Paxos leans
on these two rules (§3; Lamport, "Paxos Made Simple").
"""

from __future__ import annotations

from ch03_simulated import assert_safe, seeds

from dynamo.paxos.acceptor import Acceptor
from dynamo.paxos.ballot import ZERO, Ballot
from dynamo.paxos.log import AcceptedEntry, Promised, ReplicatedLog, Snapshot
from dynamo.paxos.messages import Accept, Accepted, Nack, Prepare, Promise
from dynamo.paxos.operations import Put

B1, B2, B3 = Ballot(1, "a"), Ballot(2, "b"), Ballot(3, "a")
MEMBERS = ("a", "b", "c")


def fresh(promised: Ballot = ZERO, snapshot_index: int = 0) -> Acceptor:
    return Acceptor(promised, ReplicatedLog(Snapshot(snapshot_index, (), MEMBERS)))


def with_entries(promised: Ballot, *entries: AcceptedEntry) -> Acceptor:
    acceptor = fresh(promised)
    for entry in entries:
        acceptor.log.accept(entry)
    return acceptor


def test_a_higher_ballot_is_promised_and_the_promise_persisted() -> None:
    """Phase 1b: Prepare(b) with b above the promise → Promise(b), and the record Promised(b)."""
    acceptor = fresh()
    reply, records = acceptor.on_prepare(Prepare(B1, 1))
    assert reply == Promise(B1, (), None), (
        f"Phase 1b: an acceptor that promised nothing must answer Prepare({B1}) with "
        f"Promise({B1}) and no accepted entries; it answered {reply!r}")
    assert records == [Promised(B1)], (
        f"Phase 1b: the promise must be persisted before the reply leaves, as [Promised({B1})]; "
        f"on_prepare returned records {records!r}")
    assert acceptor.promised == B1, "Phase 1b: after promising, `promised` must be the new ballot"


def test_a_lower_ballot_is_refused_with_the_promise() -> None:
    """Phase 1b: Prepare(b) below the promise → Nack naming the promise; nothing changes."""
    acceptor = fresh(B2)
    reply, records = acceptor.on_prepare(Prepare(B1, 1))
    assert reply == Nack(B1, B2), (
        f"Phase 1b: having promised {B2}, a Prepare({B1}) must be refused with Nack({B1}, {B2}) "
        f"so the proposer learns the higher ballot; it answered {reply!r}")
    assert records == [], f"Phase 1b: a refusal changes nothing durable; got records {records!r}"
    assert acceptor.promised == B2, "Phase 1b: a lower ballot must never lower the promise"


def test_the_same_ballot_is_promised_again_without_a_new_record() -> None:
    """Phase 1b: a duplicated Prepare (the network repeats messages) gets the same Promise."""
    acceptor = fresh(B2)
    reply, records = acceptor.on_prepare(Prepare(B2, 1))
    assert isinstance(reply, Promise) and reply.ballot == B2, (
        f"Phase 1b: a repeated Prepare({B2}) (networks duplicate messages) must get the same "
        f"Promise again; it answered {reply!r}")
    assert records == [], (
        f"Phase 1b: promising a ballot already promised needs no new record; got {records!r}")


def test_a_promise_reports_what_was_accepted_from_the_slot_asked_for() -> None:
    """Phase 1b: the promise carries every accepted entry from `from_index` on, with its ballot."""
    e1, e2, e3 = (AcceptedEntry(1, B1, Put("k", "1")), AcceptedEntry(2, B1, Put("k", "2")),
                  AcceptedEntry(3, B2, Put("k", "3")))
    acceptor = with_entries(B2, e1, e2, e3)
    reply, records = acceptor.on_prepare(Prepare(B3, 2))
    assert reply == Promise(B3, (e2, e3), None), (
        "Phase 1b: the promise must report every entry accepted from the slot the new leader "
        f"asks for (2) on, with the ballot it was accepted in, so the leader can re-propose "
        f"the highest-ballot value of each slot; expected entries {(e2, e3)!r}, got {reply!r}")
    assert records == [Promised(B3)], f"Phase 1b: persist [Promised({B3})]; got {records!r}"


def test_a_promise_carries_the_snapshot_when_asked_for_truncated_slots() -> None:
    """Phase 1b after compaction (§5.1): slots below the snapshot are gone, so send the snapshot."""
    acceptor = fresh(B1, snapshot_index=5)
    reply, _ = acceptor.on_prepare(Prepare(B2, 3))
    assert isinstance(reply, Promise) and reply.snapshot == acceptor.log.snapshot, (
        "Phase 1b: slots 3..5 were compacted into a snapshot, so a leader asking from slot 3 "
        f"must be sent the snapshot instead; got {reply!r}")
    reply, _ = acceptor.on_prepare(Prepare(B2, 5))
    assert isinstance(reply, Promise) and reply.snapshot == acceptor.log.snapshot, (
        "Phase 1b: slot 5 is the last slot compacted into the snapshot (its index is 5), so a "
        f"leader asking from slot 5 must be sent the snapshot too; got {reply!r}")
    reply, _ = acceptor.on_prepare(Prepare(B2, 6))
    assert isinstance(reply, Promise) and reply.snapshot is None, (
        f"Phase 1b: a leader asking from slot 6 (above the snapshot) needs no snapshot; got {reply!r}")


def test_an_accept_at_the_promised_ballot_is_accepted_and_persisted() -> None:
    """Phase 2b: Accept(b) with b equal to the promise → Accepted, and one record per entry."""
    acceptor = fresh(B1)
    reply, records = acceptor.on_accept(Accept(B1, ((1, Put("k", "v")), (2, Put("j", "w"))), 0))
    assert reply == Accepted(B1, (1, 2)), (
        f"Phase 2b: an Accept in the promised ballot {B1} must be accepted, naming the slots "
        f"accepted (1, 2); it answered {reply!r}")
    assert records == [AcceptedEntry(1, B1, Put("k", "v")), AcceptedEntry(2, B1, Put("j", "w"))], (
        "Phase 2b: every accepted entry is persisted (one AcceptedEntry record per slot) before "
        f"Accepted is sent — a write counts once a quorum has it in its log (§3); got {records!r}")
    assert acceptor.log.entry(2) == AcceptedEntry(2, B1, Put("j", "w")), (
        "Phase 2b: the accepted entry must be in the acceptor's log")


def test_an_accept_at_a_higher_ballot_also_promises_it() -> None:
    """Phase 2b: accepting in ballot b is also promising b (persisted before the entry)."""
    acceptor = fresh(B1)
    reply, records = acceptor.on_accept(Accept(B2, ((1, Put("k", "v")),), 0))
    assert reply == Accepted(B2, (1,)), (
        f"Phase 2b: an Accept in {B2}, above the promise {B1}, must be accepted; got {reply!r}")
    assert records == [Promised(B2), AcceptedEntry(1, B2, Put("k", "v"))], (
        f"Phase 2b: accepting in {B2} is also promising {B2}: persist Promised({B2}) first, then "
        f"the entry; got {records!r}")
    assert acceptor.promised == B2, f"Phase 2b: after accepting in {B2}, `promised` must be {B2}"


def test_an_accept_below_the_promise_is_refused() -> None:
    """Phase 2b: a deposed leader's Accept must not be accepted: Nack, log unchanged."""
    old = AcceptedEntry(1, B1, Put("k", "old"))
    acceptor = with_entries(B2, old)
    reply, records = acceptor.on_accept(Accept(B1, ((1, Put("k", "stale")),), 0))
    assert reply == Nack(B1, B2), (
        f"Phase 2b: having promised {B2}, an Accept from the deposed leader's ballot {B1} must be "
        f"refused with Nack({B1}, {B2}) — accepting it could overwrite a chosen value; got {reply!r}")
    assert records == [], f"Phase 2b: a refused Accept persists nothing; got {records!r}"
    assert acceptor.log.entry(1) == old, "Phase 2b: a refused Accept must leave the log unchanged"
    assert acceptor.promised == B2, "Phase 2b: a refused Accept must not change the promise"


def test_a_higher_ballot_replaces_what_a_slot_held() -> None:
    """Phase 2b: a new leader's value for a slot replaces an entry from a lower ballot."""
    acceptor = with_entries(B1, AcceptedEntry(1, B1, Put("k", "x")))
    acceptor.on_accept(Accept(B2, ((1, Put("k", "y")),), 0))
    assert acceptor.log.entry(1) == AcceptedEntry(1, B2, Put("k", "y")), (
        f"Phase 2b: the new leader's Accept in {B2} replaces slot 1's entry from {B1}; the log "
        f"holds {acceptor.log.entry(1)!r}")


def test_a_group_of_your_acceptors_stays_safe_under_faults() -> None:
    """Simulated: crashes, partitions, loss, duplication; histories must be linearizable and
    no acknowledged write lost. A failure prints the command that replays the run."""
    assert_safe("paxos-faults", seeds(25))
