"""A partition as a transaction's participant (ATC'23 §3.3, §3.4), planned and applied in log order.

Each test drives one `Participant` the way its replication group does: the
leader plans a request against the applied items (`plan`), the record it
logs is applied at the next slot (`apply`), and the answer is what its client
is told.
"""

from __future__ import annotations

import itertools
from typing import Any

from dynamo.partitioning.keyspace import WHOLE_SPACE, position_of
from dynamo.paxos.operations import KV_TABLE, DeleteItem, GetItem, Ok, PutItem, Rejected, UpdateItem
from dynamo.paxos.statemachine import InFlight
from dynamo.storage.btree import BTree
from dynamo.storage.errors import ConditionalCheckFailedException, TransactionConflictException
from dynamo.storage.expressions import compile_expressions
from dynamo.storage.keys import request_key
from dynamo.transactions.operations import (
    Cancel,
    Commit,
    ConditionCheck,
    ItemRead,
    Prepare,
    Prepared,
    ReadForTransaction,
)
from dynamo.transactions.participant import TRANSACTIONS_TABLE, ItemState, Participant, may_prepare


class Group:
    """One participant, its log slots handed out in order, as a replication group would."""

    def __init__(self, store: Participant | None = None) -> None:
        self.store = store or Participant(BTree(None), "p", WHOLE_SPACE)
        self.slots = itertools.count(self.store.applied_lsn + 1)

    def ask(self, request: Any) -> Any:
        command, answer = self.store.plan(request, InFlight(self.store.btree))
        if command is not None and not self.store.apply(next(self.slots), command):
            return "skipped"
        return answer

    def balance(self, account: str) -> int | None:
        item = self.store.btree.get(KV_TABLE.tbl, key(account))
        return None if item is None else int(item["balance"]["N"])


def key(account: str) -> Any:
    return request_key(KV_TABLE.key_schema, {"k": {"S": account}})


def account(name: str, balance: int) -> PutItem:
    return PutItem(KV_TABLE, {"k": {"S": name}, "balance": {"N": str(balance)}})


def debit(name: str, amount: int) -> UpdateItem:
    compiled = compile_expressions("UpdateItem", {
        "UpdateExpression": "SET balance = balance - :a", "ConditionExpression": "balance >= :a",
        "ExpressionAttributeValues": {":a": {"N": str(amount)}}})
    return UpdateItem(KV_TABLE, {"k": {"S": name}}, compiled, on_failure="ALL_OLD")


def commit(txn: str, ts: int, name: str) -> Commit:
    return Commit(txn, ts, KV_TABLE.tbl, key(name))


def cancel(txn: str, ts: int, name: str) -> Cancel:
    return Cancel(txn, ts, KV_TABLE.tbl, key(name))


def test_a_prepared_item_is_written_only_when_its_transaction_commits() -> None:
    group = Group()
    group.ask(account("a", 100))
    assert type(group.ask(Prepare("t1", 10, debit("a", 30))).value) is Prepared
    assert group.balance("a") == 100  # prepared, not applied: reads see the last commit
    assert group.store.held() == {(KV_TABLE.tbl, key("a")): "t1"}
    assert type(group.ask(commit("t1", 10, "a"))) is Ok
    assert group.balance("a") == 70
    assert group.store.held() == {}
    assert group.store.states[(KV_TABLE.tbl, key("a"))] == ItemState(10)


def test_a_cancelled_transaction_changes_nothing() -> None:
    group = Group()
    group.ask(account("a", 100))
    group.ask(Prepare("t1", 10, debit("a", 30)))
    assert type(group.ask(cancel("t1", 10, "a"))) is Ok
    assert group.balance("a") == 100 and group.store.held() == {}


def test_a_single_item_write_on_a_held_item_is_a_transaction_conflict() -> None:
    """§3.3: "no other accepted transaction is pending on the item"; a singleton write that
    meets one is refused with TransactionConflictException, definitely."""
    group = Group()
    group.ask(account("a", 100))
    group.ask(Prepare("t1", 10, debit("a", 30)))
    answer = group.ask(account("a", 5))
    assert type(answer) is Rejected and type(answer.error) is TransactionConflictException
    assert type(group.ask(DeleteItem(KV_TABLE, {"k": {"S": "a"}})).error) \
        is TransactionConflictException
    group.ask(commit("t1", 10, "a"))
    assert type(group.ask(account("a", 5))) is Ok  # released: single writes go on


def test_a_write_planned_before_a_prepare_applied_is_skipped_on_every_replica() -> None:
    """The leader may plan a PutItem, then a prepare of the same item, before either is
    applied: the prepare takes its slot first, so the PutItem must not write under it."""
    group = Group()
    group.ask(account("a", 100))
    in_flight = InFlight(group.store.btree)
    put, _ = group.store.plan(account("a", 1), in_flight)
    prepare, _ = group.store.plan(Prepare("t1", 10, debit("a", 30)), in_flight)
    assert group.store.apply(next(group.slots), prepare)
    assert not group.store.apply(next(group.slots), put)
    assert group.balance("a") == 100


def test_a_second_transaction_cannot_prepare_a_held_item() -> None:
    group = Group()
    group.ask(account("a", 100))
    group.ask(Prepare("t1", 10, debit("a", 30)))
    answer = group.ask(Prepare("t2", 20, debit("a", 30)))
    assert type(answer.error) is TransactionConflictException


def test_the_same_prepare_twice_is_accepted_once() -> None:
    """A coordinator sends a prepare again when its answer is lost."""
    group = Group()
    group.ask(account("a", 100))
    group.ask(Prepare("t1", 10, debit("a", 30)))
    assert type(group.ask(Prepare("t1", 10, debit("a", 30))).value) is Prepared
    group.ask(commit("t1", 10, "a"))
    group.ask(commit("t1", 10, "a"))
    assert group.balance("a") == 70


def test_timestamp_order_refuses_a_transaction_older_than_the_items_last() -> None:
    """§3.3: a prepare is accepted only if the item's timestamp is older than the
    transaction's: a TC whose clock lags cannot write under a later transaction."""
    group = Group()
    group.ask(account("a", 100))
    group.ask(Prepare("t1", 50, debit("a", 1)))
    group.ask(commit("t1", 50, "a"))
    late = group.ask(Prepare("t0", 40, debit("a", 1)))
    assert type(late.error) is TransactionConflictException
    assert type(group.ask(Prepare("t2", 60, debit("a", 1))).value) is Prepared


def test_a_prepare_that_arrives_after_its_cancel_is_refused() -> None:
    """The cancel leaves the transaction's timestamp on the item, so a delayed copy of its
    prepare cannot hold the item forever."""
    group = Group()
    group.ask(account("a", 100))
    group.ask(cancel("t1", 10, "a"))  # the prepare was never seen: its answer timed out
    assert type(group.ask(Prepare("t1", 10, debit("a", 30))).error) \
        is TransactionConflictException
    assert group.store.held() == {}


def test_a_failed_condition_refuses_the_prepare_with_the_item() -> None:
    group = Group()
    group.ask(account("a", 10))
    answer = group.ask(Prepare("t1", 10, debit("a", 30)))
    assert type(answer.error) is ConditionalCheckFailedException
    assert answer.error.item == {"k": {"S": "a"}, "balance": {"N": "10"}}
    assert group.store.held() == {}


def test_a_condition_check_holds_the_item_but_writes_nothing() -> None:
    group = Group()
    group.ask(account("a", 10))
    check = ConditionCheck(KV_TABLE, {"k": {"S": "a"}}, compile_expressions(
        "DeleteItem", {"ConditionExpression": "balance > :z",
                       "ExpressionAttributeValues": {":z": {"N": "0"}}}))
    assert type(group.ask(Prepare("t1", 10, check)).value) is Prepared
    assert type(group.ask(account("a", 99)).error) is TransactionConflictException
    group.ask(commit("t1", 10, "a"))
    assert group.balance("a") == 10
    assert group.store.states[(KV_TABLE.tbl, key("a"))].ts == 10  # checked items are stamped


def test_no_tombstones_a_delete_raises_the_partitions_max_delete_timestamp() -> None:
    """§3.3: deletes keep no tombstone; creating an item needs a timestamp later than the
    partition's latest transactional delete."""
    group = Group()
    group.ask(account("a", 1))
    group.ask(Prepare("t1", 50, DeleteItem(KV_TABLE, {"k": {"S": "a"}})))
    group.ask(commit("t1", 50, "a"))
    assert group.balance("a") is None and group.store.max_delete_ts == 50
    assert (KV_TABLE.tbl, key("a")) not in group.store.states
    assert type(group.ask(Prepare("t0", 40, account("b", 1))).error) \
        is TransactionConflictException
    assert type(group.ask(Prepare("t2", 60, account("b", 1))).value) is Prepared


def test_may_prepare_follows_the_papers_rules() -> None:
    assert may_prepare(None, 5, exists=True, max_delete_ts=9)
    assert not may_prepare(None, 5, exists=False, max_delete_ts=9)
    assert may_prepare(ItemState(4), 5, exists=True, max_delete_ts=0)
    assert not may_prepare(ItemState(5), 5, exists=True, max_delete_ts=0)


def test_a_transactional_read_is_refused_while_the_item_is_held_and_versions_move() -> None:
    """§3.4: a TransactGet's read refuses an item a prepared transaction holds, and an
    item's version (its last write's slot) changes with every write."""
    group = Group()
    group.ask(account("a", 100))
    read = ReadForTransaction(GetItem(KV_TABLE, {"k": {"S": "a"}}, True))
    before = group.ask(read).value
    assert type(before) is ItemRead and before.item["balance"] == {"N": "100"}
    assert group.ask(read).value.version == before.version
    group.ask(Prepare("t1", 10, debit("a", 1)))
    assert type(group.ask(read).error) is TransactionConflictException
    group.ask(commit("t1", 10, "a"))
    assert group.ask(read).value.version != before.version


def test_transaction_state_survives_a_reopen_and_follows_its_item_into_a_split() -> None:
    """The rows are in the partition's B-tree: a replica reopened from it knows which items
    are held, and a split's children each get the rows of their half."""
    group = Group()
    for name in "abcdefgh":
        group.ask(account(name, 100))
    group.ask(Prepare("t1", 10, debit("c", 1)))
    reopened = Participant(group.store.btree, "p", WHOLE_SPACE)
    assert reopened.held() == {(KV_TABLE.tbl, key("c")): "t1"}
    low, high = WHOLE_SPACE.split_at(position_of(key("c")))  # "c" is the right half's first
    assert [m for m in reopened.child_items(low) if m.tbl == TRANSACTIONS_TABLE] == []
    child = BTree(None)
    child.replace_all(reopened.child_items(high), 1)
    assert Participant(child, "p1", high).held() == {(KV_TABLE.tbl, key("c")): "t1"}
