"""The bank: money moves between accounts by transactions, under faults (ATC'23 §3, §5).

A simulation of DynamoDB's transactions on the partitioned fleet
(`dynamo.transactions.fleet`): accounts are items of one table, which splits
into several partitions as it is opened; two transaction coordinators run
beside two request routers. Then, while storage nodes and coordinators crash
and restart, links partition (both ways and one way) and messages are lost,
duplicated and reordered:

* **clerks** move money: a TransactWriteItems of two UpdateItems, the first
  conditioned on `balance >= :amount` (so some are cancelled), each with a
  ClientRequestToken, sent again with the same token when it goes unanswered;
* **auditors** read every account in one TransactGetItems;
* **tellers** race the transactions with single-item writes: UpdateItem
  `ADD visits :one` on an account, straight through a router;
* a coordinator is crashed once, right after it decides a transaction
  (persisted, commits or cancels on their way): mid-commit.

What is checked, once the faults end and the coordinators are idle:

1. every TransactGetItems that answered saw the money conserved (serializable
   reads: never half a transfer);
2. no transaction committed partially: each account's final balance is its
   opening balance plus exactly the transfers the coordinators' ledgers
   decided to commit, and no ClientRequestToken committed twice;
3. what clients were told agrees with the ledgers: an acknowledged transfer
   committed, a cancelled one did not;
4. single-item writes kept their guarantees: each account's visits count is
   at least the acknowledged ADDs and at most those plus the unanswered ones
   (a TransactionConflictException is definite: never applied), and no
   transaction's commit wrote over one;
5. no item is left held by a prepared transaction;
6. the replication invariants held at every step (one leader per ballot,
   committed entries never change, leases never overlap).

A run is a pure function of its seed; a failing seed prints the command that
replays it: `python -m dynamo.sim.bank --seed N`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from random import Random
from typing import Any

from dynamo.contract import Effect, NodeId, Persist, Reply
from dynamo.partitioning.fleet import FleetConfig
from dynamo.paxos.operations import KV_TABLE, GetItem, Ok, PutItem, Rejected, UpdateItem
from dynamo.paxos.replica import PaxosConfig
from dynamo.sim.faults import Fault, NemesisConfig, nemesis
from dynamo.sim.invariants import Invariants
from dynamo.sim.network import NetworkConfig
from dynamo.sim.scenarios import splits
from dynamo.sim.simulator import Simulator
from dynamo.storage.errors import (
    TransactionCanceledException,
    TransactionConflictException,
    TransactionInProgressException,
)
from dynamo.storage.expressions import compile_expressions
from dynamo.transactions.coordinator import TransactionCoordinator
from dynamo.transactions.fleet import COORDINATORS, transaction_factories
from dynamo.transactions.ledger import Begun, Decided
from dynamo.transactions.operations import Committed, ItemsRead, TransactGet, TransactWrite
from dynamo.transactions.participant import Participant

STORAGE: tuple[NodeId, ...] = ("n1", "n2", "n3")
ROUTERS: tuple[NodeId, ...] = ("r1", "r2")
PAD = "x" * 24  # makes each account big enough that the table splits as it opens


@dataclass(frozen=True)
class BankConfig:
    """The bank's shape and the faults it runs under."""

    accounts: int = 8
    opening: int = 100
    clerks: int = 3
    transfers: int = 6  # per clerk
    auditors: int = 1
    audits: int = 8
    tellers: int = 1
    visits: int = 8
    fleet: FleetConfig = FleetConfig(storage_nodes=STORAGE, routers=ROUTERS, split_size=200)
    nemesis: NemesisConfig = NemesisConfig(kinds=("crash", "partition", "one_way"),
                                           episodes=(1, 3), start_ms=400.0, end_ms=1500.0,
                                           duration_ms=(100.0, 700.0))
    network: NetworkConfig = NetworkConfig(loss=0.02, duplicate=0.02, reorder=0.05)
    max_drift: float = 0.02
    duration_ms: float = 1800.0  # faults end here (every link healed, every node up)
    horizon_ms: float = 12_000.0  # the run ends here at the latest
    timeout_ms: float = 600.0  # a client's patience with one request
    tries: int = 4  # how often a clerk sends one transfer, with its token, before giving up


@dataclass
class Transfer:
    """One transfer as its clerk saw it."""

    token: str
    source: str
    target: str
    amount: int
    outcome: str = "unknown"  # "committed", "cancelled" or "unknown"


@dataclass
class BankRun:
    """What one seed did, and what it broke."""

    seed: int
    violations: list[str] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    audits: int = 0  # TransactGetItems that answered
    audit_conflicts: int = 0  # ... that were cancelled instead
    visits_refused: int = 0  # single-item writes refused with TransactionConflictException
    committed: int = 0  # transactions the ledgers decided to commit
    splits: int = 0
    faults: list[Fault] = field(default_factory=list)
    end_ms: float = 0.0

    @property
    def replay(self) -> str:
        return f"python -m dynamo.sim.bank --seed {self.seed}"

    def summary(self) -> str:
        told = {o: sum(t.outcome == o for t in self.transfers)
                for o in ("committed", "cancelled", "unknown")}
        return (f"seed {self.seed}: {len(self.transfers)} transfers ({told['committed']} "
                f"committed, {told['cancelled']} cancelled, {told['unknown']} unanswered; "
                f"{self.committed} committed by the ledgers), {self.audits} audits "
                f"({self.audit_conflicts} cancelled), {self.visits_refused} single writes "
                f"refused, {self.splits} splits, {len(self.faults)} faults, "
                f"{self.end_ms:.0f} ms")


class Bank:
    """The accounts, how to move money between them, and what the clients saw."""

    def __init__(self, config: BankConfig) -> None:
        self.config = config
        self.accounts = [f"a{i}" for i in range(config.accounts)]
        self.opened: set[str] = set()
        self.audits: list[dict[str, int]] = []
        self.audit_conflicts = 0
        self.visits_acked = dict.fromkeys(self.accounts, 0)
        self.visits_unknown = dict.fromkeys(self.accounts, 0)
        self.visits_refused = 0
        self.final: dict[str, tuple[int, int]] | None = None  # balance, visits
        self.quiet: Callable[[], bool] = lambda: True  # may the final audit begin?

    @property
    def open(self) -> bool:
        return len(self.opened) == len(self.accounts)

    @property
    def total(self) -> int:
        return self.config.opening * len(self.accounts)

    def account(self, name: str) -> PutItem:
        item = {"k": {"S": name}, "balance": {"N": str(self.config.opening)},
                "visits": {"N": "0"}, "pad": {"S": PAD}}
        return PutItem(KV_TABLE, item)

    def transfer(self, transfer: Transfer) -> TransactWrite:
        amount = {":amount": {"N": str(transfer.amount)}}
        debit = compile_expressions("UpdateItem", {
            "UpdateExpression": "SET balance = balance - :amount",
            "ConditionExpression": "balance >= :amount", "ExpressionAttributeValues": amount})
        credit = compile_expressions("UpdateItem", {
            "UpdateExpression": "SET balance = balance + :amount",
            "ExpressionAttributeValues": amount})
        return TransactWrite(
            (UpdateItem(KV_TABLE, {"k": {"S": transfer.source}}, debit, on_failure="ALL_OLD"),
             UpdateItem(KV_TABLE, {"k": {"S": transfer.target}}, credit)),
            token=transfer.token, fingerprint=f"{transfer.source}>{transfer.target}:"
                                              f"{transfer.amount}")

    def audit(self) -> TransactGet:
        return TransactGet(tuple(GetItem(KV_TABLE, {"k": {"S": a}}, True) for a in self.accounts))

    def visit(self, account: str) -> UpdateItem:
        return UpdateItem(KV_TABLE, {"k": {"S": account}}, compile_expressions("UpdateItem", {
            "UpdateExpression": "ADD visits :one", "ExpressionAttributeValues":
            {":one": {"N": "1"}}}))


class BankClient:
    """A simulated client of the bank: one request at a time, each to one node.

    `role` is "opener", "clerk", "auditor", "teller" or "final" (the last audit,
    retried until it answers). Only the opener starts before the bank is open.
    """

    def __init__(self, name: str, role: str, bank: Bank, work: Sequence[Any],
                 nodes: Sequence[NodeId], rng: Random, start_ms: float = 0.0) -> None:
        self.name, self.role, self.bank = name, role, bank
        self.work = list(work)
        self.nodes = list(nodes)
        self.rng = rng
        self.start_ms = start_ms
        self.request_id = 0
        self.target = self.nodes[rng.randrange(len(self.nodes))]
        self.current: Any = None
        self.sent_at = 0.0
        self.tries = 0

    @property
    def finished(self) -> bool:
        return not self.work and self.current is None

    def start(self, sim: Simulator) -> None:
        sim.client_timer(self.name, self.start_ms, 0)

    def on_timer(self, sim: Simulator, token: int) -> None:
        if token == 0:
            self._next(sim)
        elif self.current is None:
            return
        elif token == -self.request_id:  # the pause before sending again is over
            self._send(sim)
        elif token == self.request_id:
            self._unanswered(sim)

    def on_reply(self, sim: Simulator, reply: Reply) -> None:
        if reply.request_id != self.request_id or self.current is None:
            return
        if self._answered(reply.result):
            self._done(sim)
        else:  # not done yet: try again, after a moment
            self._send(sim, delay_ms=20.0)

    # --- one request's life -------------------------------------------------------

    def _next(self, sim: Simulator) -> None:
        waiting = not self.bank.quiet() if self.role == "final" else not self.bank.open
        if self.role != "opener" and waiting:
            sim.client_timer(self.name, 20.0, 0)
            return
        if not self.work or (sim.now > self.bank.config.duration_ms
                             and self.role not in ("auditor", "final")):
            self.work = []
            return
        self.current, self.tries = self.work.pop(0), 0
        self._send(sim)

    def _send(self, sim: Simulator, delay_ms: float = 0.0) -> None:
        if delay_ms:
            self.request_id += 1  # the answer to the last try is no longer awaited
            sim.client_timer(self.name, delay_ms, -self.request_id)
            return
        self.request_id += 1
        self.tries += 1
        if self.role not in ("clerk",):  # a clerk stays with its TC: it holds the token
            self.target = self.nodes[self.rng.randrange(len(self.nodes))]
        sim.submit(self.name, self.target, self.request_id, self._operation())
        sim.client_timer(self.name, self.bank.config.timeout_ms, self.request_id)

    def _operation(self) -> Any:
        work, bank = self.current, self.bank
        if self.role == "opener":
            return bank.account(work)
        if self.role == "clerk":
            return bank.transfer(work)
        if self.role == "teller":
            return bank.visit(work)
        return bank.audit()

    def _answered(self, result: Any) -> bool:
        """Take an answer; False if the request is to be sent again."""
        role, bank, work = self.role, self.bank, self.current
        kind = type(result)
        if role == "opener":
            if kind is Ok:
                bank.opened.add(work)
            return kind is Ok
        if role == "clerk":
            if kind is Ok and type(result.value) is Committed:
                work.outcome = "committed"
            elif kind is Rejected and type(result.error) is TransactionCanceledException:
                work.outcome = "cancelled"
            elif kind is Rejected and type(result.error) is TransactionInProgressException:
                return False
            return True
        if role == "teller":
            if kind is Ok:
                bank.visits_acked[work] += 1
            elif kind is Rejected and type(result.error) is TransactionConflictException:
                bank.visits_refused += 1
            else:
                bank.visits_unknown[work] += 1
            return True
        if kind is Ok and type(result.value) is ItemsRead:
            self._audited(result.value)
            return True
        if kind is Rejected and type(result.error) is TransactionCanceledException:
            bank.audit_conflicts += 1
        return role != "final"

    def _audited(self, read: ItemsRead) -> None:
        seen = {}
        for account, item in zip(self.bank.accounts, read.items, strict=True):
            if item is None:
                return  # not opened yet where this audit read
            seen[account] = (int(item["balance"]["N"]), int(item["visits"]["N"]))
        self.bank.audits.append({a: b for a, (b, _) in seen.items()})
        if self.role == "final":
            self.bank.final = seen

    def _unanswered(self, sim: Simulator) -> None:
        if self.role == "clerk" and self.tries < self.bank.config.tries:
            self._send(sim)  # once more, with the same token: it must not apply twice
            return
        if self.role == "teller":
            self.bank.visits_unknown[self.current] += 1
        if self.role in ("opener", "final"):
            self.target = self.nodes[self.rng.randrange(len(self.nodes))]
            self._send(sim)
            return
        self._done(sim)

    def _done(self, sim: Simulator) -> None:
        self.current = None
        self.request_id += 1  # late answers to it are ignored
        sim.client_timer(self.name, self.rng.uniform(5.0, 40.0), 0)


class MidCommitCrash:
    """Crash a coordinator right after it persists its `nth` decision (commits or cancels
    already on their way), and restart it `down_ms` later: a crash mid-commit (§3.5)."""

    def __init__(self, coordinator: NodeId, nth: int, down_ms: float, until_ms: float) -> None:
        self.coordinator, self.nth, self.down_ms = coordinator, nth, down_ms
        self.until_ms = until_ms  # no crash after the faults end
        self.seen = 0

    def after_step(self, sim: Simulator, node_id: NodeId, effects: Sequence[Effect]) -> None:
        if node_id != self.coordinator or self.seen >= self.nth:
            return
        if any(type(e) is Persist and type(e.record) is Decided for e in effects):
            self.seen += 1
            if self.seen == self.nth and sim.now < self.until_ms:
                sim.crash(node_id)
                sim.schedule_fault(Fault(sim.now + self.down_ms, "restart", (node_id,)))


def run(seed: int, config: BankConfig | None = None) -> BankRun:
    """Run one seed of the bank and judge it."""
    config = config or BankConfig()
    paxos = PaxosConfig(max_drift=config.max_drift)
    factories = transaction_factories(config.fleet, paxos)
    sim = Simulator(seed, factories, network=config.network, max_drift=config.max_drift)
    rng = sim.derive_rng()
    faults = nemesis(rng, [*STORAGE, *COORDINATORS], config.nemesis)
    for fault in faults:
        sim.schedule_fault(fault)
    sim.schedule_fault(Fault(config.duration_ms, "heal"))
    sim.schedule_fault(Fault(config.duration_ms, "restart"))
    sim.add_observer(Invariants())
    sim.add_observer(MidCommitCrash(COORDINATORS[rng.randrange(len(COORDINATORS))],
                                    1 + rng.randrange(6), rng.uniform(100.0, 600.0),
                                    config.duration_ms))
    bank = Bank(config)
    result = BankRun(seed, faults=faults)
    clients = _clients(bank, sim, rng, result)
    # The final audit waits until every other client is done and every coordinator idle.
    bank.quiet = lambda: all(c.finished for c in clients[:-1]) and _idle(sim)
    for client in clients:
        sim.add_client(client)
    sim.start()
    final = clients[-1]
    while sim.now < config.horizon_ms and sim.stopped is None and not (
            final.finished and bank.final is not None and _idle(sim)):
        sim.run(sim.now + 100.0)
    result.end_ms = sim.now
    result.audits, result.audit_conflicts = len(bank.audits), bank.audit_conflicts
    result.visits_refused = bank.visits_refused
    result.splits = splits(sim.announcements)
    result.violations = _judge(sim, bank, result)
    return result


def _clients(bank: Bank, sim: Simulator, rng: Random, result: BankRun) -> list[BankClient]:
    config = bank.config
    clients = [BankClient(f"opener{i}", "opener", bank, [account], ROUTERS, sim.derive_rng())
               for i, account in enumerate(bank.accounts)]
    for c in range(config.clerks):
        transfers = []
        for i in range(config.transfers):
            source, target = rng.sample(bank.accounts, 2)
            transfers.append(Transfer(f"c{c}.{i}", source, target, 1 + rng.randrange(60)))
        result.transfers += transfers
        clients.append(BankClient(f"clerk{c}", "clerk", bank, transfers, COORDINATORS,
                                  sim.derive_rng()))
    for a in range(config.auditors):
        clients.append(BankClient(f"auditor{a}", "auditor", bank, range(config.audits),
                                  COORDINATORS, sim.derive_rng()))
    for t in range(config.tellers):
        visits = [bank.accounts[rng.randrange(len(bank.accounts))] for _ in range(config.visits)]
        clients.append(BankClient(f"teller{t}", "teller", bank, visits, ROUTERS,
                                  sim.derive_rng()))
    clients.append(BankClient("final", "final", bank, [0], COORDINATORS, sim.derive_rng(),
                              start_ms=config.duration_ms + 500.0))
    return clients


def _idle(sim: Simulator) -> bool:
    """Whether every coordinator is up and has finished every transaction it began."""
    return all(isinstance(node := sim.nodes[c], TransactionCoordinator) and not node.writes
               for c in COORDINATORS)


def _judge(sim: Simulator, bank: Bank, result: BankRun) -> list[str]:
    problems = [f"invariant: {v}" for o in sim.observers if isinstance(o, Invariants)
                for v in (x.describe() for x in o.violations)]
    if sim.stopped is not None and not problems:
        problems.append(f"stopped: {sim.stopped}")
    for audit in bank.audits:
        if sum(audit.values()) != bank.total:
            problems.append(f"an audit saw {sum(audit.values())}, not {bank.total}: {audit}")
    if bank.final is None:
        return [*problems, "the final audit never answered"]
    if not _idle(sim):
        problems.append("a coordinator did not finish its transactions")
    committed = _committed_tokens(sim, problems)
    result.committed = len(committed)
    expected = dict.fromkeys(bank.accounts, bank.config.opening)
    for transfer in result.transfers:
        if transfer.token in committed:
            expected[transfer.source] -= transfer.amount
            expected[transfer.target] += transfer.amount
        if transfer.outcome == "committed" and transfer.token not in committed:
            problems.append(f"transfer {transfer.token} was acknowledged but never committed")
        if transfer.outcome == "cancelled" and transfer.token in committed:
            problems.append(f"transfer {transfer.token} was cancelled but committed")
    balances = {a: b for a, (b, _) in bank.final.items()}
    if balances != expected:
        problems.append(f"final balances {balances} are not the committed transfers' "
                        f"{expected}: a transaction committed partially, or twice")
    for account, (_, visits) in bank.final.items():
        acked, unknown = bank.visits_acked[account], bank.visits_unknown[account]
        if not acked <= visits <= acked + unknown:
            problems.append(f"{account} has {visits} visits: {acked} acknowledged, "
                            f"{unknown} unanswered")
    problems += _still_held(sim)
    return problems


def _committed_tokens(sim: Simulator, problems: list[str]) -> set[str]:
    """The tokens of the transactions the coordinators' ledgers decided to commit."""
    committed: set[str] = set()
    for coordinator in COORDINATORS:
        tokens = {r.txn: r.token for r in sim.records[coordinator] if type(r) is Begun}
        for record in sim.records[coordinator]:
            if type(record) is Decided and record.commit:
                token = tokens[record.txn]
                if token in committed:
                    problems.append(f"token {token} committed twice")
                committed.add(token)
    return committed


def _still_held(sim: Simulator) -> list[str]:
    """Items a prepared transaction still holds, at every partition's leader."""
    held = []
    for node_id in STORAGE:
        node = sim.nodes[node_id]
        for partition, replica in ({} if node is None else node.replicas).items():
            store = replica.store
            if replica.leader is not None and isinstance(store, Participant) \
                    and store.split is None and store.held():
                held.append(f"{partition} on {node_id} still holds {store.held()}")
    return held


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dynamo.sim.bank", description=__doc__
                                     .split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=1, help="the first seed to run")
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds to run")
    args = parser.parse_args(argv)
    failed = 0
    for seed in range(args.seed, args.seed + args.seeds):
        result = run(seed)
        print(result.summary())
        for problem in result.violations:
            print(f"  VIOLATION {problem}")
        if result.violations:
            failed += 1
            print(f"  replay: {result.replay}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
