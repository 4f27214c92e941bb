"""Chapter 8, graded: the participant's prepare check (`may_prepare` in
dynamo/transactions/participant.py).

The paper (ATC'23, section 3.3): a storage node accepts a prepare only if no
other accepted transaction is pending on the item and the item's timestamp is
older than the transaction's; an item that does not exist has no timestamp,
and with no tombstones the partition's max delete timestamp stands in for it.

The first tests call `may_prepare` with exact states; the last run it inside
a `Participant`, planned and applied as its replication group would. A
failure says what was asked, what was expected, what your code answered, and
the rule. (The bank, `python -m dynamo.transactions`, runs your check under
faults too: try it once these pass.)
"""

from __future__ import annotations

import itertools
from typing import Any

from dynamo.partitioning.keyspace import WHOLE_SPACE
from dynamo.paxos.operations import KV_TABLE, Ok, PutItem, Rejected
from dynamo.paxos.statemachine import InFlight
from dynamo.storage.btree import BTree
from dynamo.storage.errors import TransactionConflictException
from dynamo.storage.keys import request_key
from dynamo.transactions.operations import Commit, Prepare, Prepared
from dynamo.transactions.participant import ItemState, Participant, PreparedWrite, may_prepare

HELD = "P1: an item held by a prepared transaction takes no other prepare"
LATER = ("P2: an item's timestamp is its last committed transaction's: a prepare is "
         "accepted only with a later timestamp")
CREATE = ("P3: an item that does not exist (and has no state) has no timestamp of its own: "
          "a prepare must be later than the partition's max delete timestamp")
UNTOUCHED = "P4: an item that exists and no transaction ever touched takes any prepare"


def check(state: ItemState | None, ts: int, exists: bool, max_delete: int, expected: bool,
          rule: str) -> None:
    answer = may_prepare(state, ts, exists, max_delete)
    assert answer is expected, (
        f"may_prepare({state}, ts={ts}, exists={exists}, max_delete_ts={max_delete}) "
        f"should be {expected}, your code says {answer}. {rule}")


def test_an_item_no_transaction_touched_may_be_prepared() -> None:
    check(None, 1, True, 0, True, UNTOUCHED)
    check(None, 1, True, 50, True, UNTOUCHED)  # it exists: the deletes are not its own


def test_an_item_held_by_a_prepared_transaction_refuses_every_other() -> None:
    held = ItemState(5, PreparedWrite("t1", 10))
    for ts in (6, 10, 11, 1_000):
        check(held, ts, True, 0, False, HELD)
    check(ItemState(0, PreparedWrite("t1", 10)), 20, False, 0, False, HELD)


def test_a_transaction_must_be_later_than_the_items_last() -> None:
    check(ItemState(100), 101, True, 0, True, LATER)
    check(ItemState(100), 100, True, 0, False, LATER)  # equal is not later
    check(ItemState(100), 99, True, 0, False, LATER)
    check(ItemState(0), 1, True, 0, True, LATER)


def test_creating_an_item_must_be_later_than_the_partitions_last_delete() -> None:
    check(None, 51, False, 50, True, CREATE)
    check(None, 50, False, 50, False, CREATE)
    check(None, 49, False, 50, False, CREATE)
    check(None, 1, False, 0, True, CREATE)


def test_an_items_own_timestamp_outranks_the_max_delete_timestamp() -> None:
    """A cancelled transaction leaves its timestamp on an item it never created: the item's
    own state decides, whatever the partition deleted later or earlier."""
    check(ItemState(10), 20, False, 500, True, LATER)
    check(ItemState(30), 20, False, 0, False, LATER)


class Group:
    """One participant, its log slots handed out in order, as its replication group would."""

    def __init__(self) -> None:
        self.store = Participant(BTree(None), "p", WHOLE_SPACE)
        self.slots = itertools.count(1)

    def ask(self, request: Any) -> Any:
        command, answer = self.store.plan(request, InFlight(self.store.btree))
        if command is not None:
            self.store.apply(next(self.slots), command)
        return answer


def put(value: str) -> PutItem:
    return PutItem(KV_TABLE, {"k": {"S": "x"}, "v": {"S": value}})


KEY = request_key(KV_TABLE.key_schema, {"k": {"S": "x"}})


def test_a_participant_refuses_a_late_prepare_and_keeps_the_item_free() -> None:
    group = Group()
    group.ask(put("first"))
    assert type(group.ask(Prepare("t1", 50, put("t1"))).value) is Prepared, \
        f"an untouched item takes a prepare. {UNTOUCHED}"
    group.ask(Commit("t1", 50, KV_TABLE.tbl, KEY))
    late = group.ask(Prepare("t0", 40, put("t0")))
    assert type(late) is Rejected and type(late.error) is TransactionConflictException, (
        f"a prepare at 40 after a commit at 50 must be refused, was answered {late}. {LATER}")
    assert group.store.held() == {}, "a refused prepare must not hold the item"
    assert type(group.ask(Prepare("t2", 60, put("t2"))).value) is Prepared, \
        f"a prepare at 60 after a commit at 50 is accepted. {LATER}"


def test_a_single_item_write_meets_a_prepared_transaction() -> None:
    group = Group()
    group.ask(Prepare("t1", 50, put("t1")))
    answer = group.ask(put("single"))
    assert type(answer) is Rejected and type(answer.error) is TransactionConflictException, (
        f"a PutItem of an item a transaction holds is TransactionConflictException, was {answer}")
    second = group.ask(Prepare("t2", 60, put("t2")))
    assert type(second) is Rejected, f"a held item took a second prepare. {HELD}"
    group.ask(Commit("t1", 50, KV_TABLE.tbl, KEY))
    assert type(group.ask(put("single"))) is Ok, "once committed, the item takes writes again"
