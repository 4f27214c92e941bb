"""The acceptor: the Paxos role that makes a choice stick.

An acceptor keeps two things durable: the highest ballot it has *promised*,
and, per log slot, the command it has *accepted* and in which ballot. Its two
rules are all of Paxos's safety (Lamport, "Paxos Made Simple", 2001):

* **Phase 1b.** On `Prepare(b)`: if b is at least the ballot promised, promise
  b (persist it first) and report every entry accepted from the slot asked
  for on; otherwise refuse with a `Nack` naming the promise.
* **Phase 2b.** On `Accept(b, entries)`: if b is at least the ballot promised,
  accept the entries (persist them first) and promise b; otherwise `Nack`.

A command is *chosen* in a slot once a majority has accepted it in one
ballot. A new leader's phase 1 reaches a majority, which overlaps every
majority that chose something, and it re-proposes the highest-ballot value it
is told of; so a chosen command is never replaced. DynamoDB's replicas are
acceptors of exactly this kind, and its log replicas are acceptors only,
"akin to acceptors in Paxos" (§5.1, §6.1).

Persisting before answering is what lets a crashed acceptor keep its word:
the driver makes each `Persist` durable before any later effect (contract
rule 2), so a promise or an acceptance is never forgotten once sent.
"""

from __future__ import annotations

from typing import Any

from dynamo.paxos.ballot import Ballot
from dynamo.paxos.log import AcceptedEntry, Promised, ReplicatedLog
from dynamo.paxos.messages import Accept, Accepted, Nack, Prepare, Promise


class Acceptor:
    """Phase 1b and 2b of Multi-Paxos for every slot of one replica's log.

    The methods return the reply and the records to persist *before* the
    reply is sent; the replica turns those into `Persist` and `Send` effects.
    """

    def __init__(self, promised: Ballot, log: ReplicatedLog) -> None:
        self.promised = promised
        self.log = log

    def on_prepare(self, prepare: Prepare) -> tuple[Promise | Nack, list[Any]]:
        """Phase 1b: promise `prepare.ballot` unless a higher ballot was promised."""
        # BEGIN ASSIGNMENT ch03-acceptor: phase 1b, promise a ballot at least as high as any promised
        if prepare.ballot < self.promised:
            return Nack(prepare.ballot, self.promised), []
        records: list[Any] = []
        if prepare.ballot > self.promised:
            self.promised = prepare.ballot
            records.append(Promised(prepare.ballot))
        snapshot = self.log.snapshot if prepare.from_index <= self.log.snapshot.index else None
        entries = self.log.entries_from(prepare.from_index)
        return Promise(prepare.ballot, entries, snapshot), records
        # END ASSIGNMENT

    def on_accept(self, accept: Accept) -> tuple[Accepted | Nack, list[Any]]:
        """Phase 2b: accept `accept.entries` unless a higher ballot was promised."""
        # BEGIN ASSIGNMENT ch03-acceptor: phase 2b, accept only in a ballot at least as high as promised
        if accept.ballot < self.promised:
            return Nack(accept.ballot, self.promised), []
        records: list[Any] = []
        if accept.ballot > self.promised:
            self.promised = accept.ballot
            records.append(Promised(accept.ballot))
        for index, command in accept.entries:
            entry = AcceptedEntry(index, accept.ballot, command)
            self.log.accept(entry)
            records.append(entry)
        return Accepted(accept.ballot, tuple(index for index, _ in accept.entries)), records
        # END ASSIGNMENT

    def observe(self, ballot: Ballot) -> list[Any]:
        """Promise a higher ballot heard of from a leader (raising a promise is always safe)."""
        if ballot <= self.promised:
            return []
        self.promised = ballot
        return [Promised(ballot)]

    def learn(self, entry: AcceptedEntry) -> list[Any]:
        """Store a command the leader says is chosen (log shipping to a lagging replica).

        The entry keeps the higher of the two ballots. Why this is safe: once
        a command is chosen in a ballot, every proposal in a higher ballot
        carries that same command, so reporting it under any ballot keeps
        phase 1's "highest ballot wins" right; and never lowering a ballot
        keeps this acceptor's part in the majority that chose it.
        """
        current = self.log.entry(entry.index)
        if current is not None and current.ballot > entry.ballot:
            entry = AcceptedEntry(entry.index, current.ballot, entry.command)
        if current == entry:
            return []
        self.log.accept(entry)
        return [entry]
