"""Capacity units: 4 KB reads, 1 KB writes, rounded up, at least one (paper §4).

Developer Guide, "Capacity unit consumption" and "ProvisionedThroughput".
"""

from __future__ import annotations

from typing import Any

import pytest

from dynamo.storage.attributes import item_size
from dynamo.storage.capacity import (
    ConsumedCapacity,
    page_read_units,
    read_units,
    write_units,
)

KB = 1024


# Items DynamoDB itself reported at the 4 KB capacity boundary (dynalite's test
# suite records them): the first pair costs 1 RCU, one byte more costs 2.
def boundary_items(extra: int) -> list[dict[str, Any]]:
    key = "k" * 10
    return [{
        "a": {"S": key},
        "bb": {"S": "b" * (3999 + extra)},
        "ccc": {"N": "12.3456"},
        "dddd": {"B": "AQI="},
        "eeeee": {"BS": ["AQI=", "Ag==", "AQ=="]},
        "ffffff": {"NULL": True},
        "ggggggg": {"BOOL": False},
        "hhhhhhhh": {"L": [{"S": "a"}, {"S": "aa"}, {"S": "bb"}, {"S": "ccc"}]},
        "iiiiiiiii": {"M": {"aa": {"S": "aa"}, "bbb": {"S": "bbb"}}},
    }, {
        "a": {"S": key},
        "ab": {"S": "b" * (4026 + extra)},
        "abc": {"NULL": True},
        "abcd": {"BOOL": True},
        "abcde": {"L": [{"S": "aa"}, {"N": "12.3456"}, {"B": "AQI="}]},
        "abcdef": {"M": {"aa": {"S": "aa"}, "bbb": {"N": "12.3456"}, "cccc": {"B": "AQI="}}},
    }]


def test_sizes_match_items_dynamodb_measured_at_4_kb() -> None:
    assert [item_size(item) for item in boundary_items(0)] == [4096, 4096]
    assert [item_size(item) for item in boundary_items(1)] == [4097, 4097]


@pytest.mark.parametrize(("size", "strong", "eventual"), [
    (0, 1, 0.5),          # a missing item still costs a read
    (100, 1, 0.5),
    (4 * KB, 1, 0.5),
    (4 * KB + 1, 2, 1),
    (400 * KB, 100, 50),
])
def test_reads_round_up_to_4_kb_and_eventual_reads_cost_half(
        size: int, strong: float, eventual: float) -> None:
    assert read_units(size, consistent=True) == strong
    assert read_units(size, consistent=False) == eventual


@pytest.mark.parametrize(("size", "units"), [
    (0, 1), (1, 1), (KB, 1), (KB + 1, 2), (400 * KB, 400),
])
def test_writes_round_up_to_1_kb(size: int, units: float) -> None:
    assert write_units(size) == units


def test_items_dynamodb_measured_cost_what_it_charged() -> None:
    """The 4096-byte items cost 1 RCU strongly consistent; one byte more costs 2."""
    for item in boundary_items(0):
        assert read_units(item_size(item), consistent=True) == 1
        assert read_units(item_size(item), consistent=False) == 0.5
    for item in boundary_items(1):
        assert read_units(item_size(item), consistent=True) == 2
        assert read_units(item_size(item), consistent=False) == 1


def test_batch_get_rounds_each_item_but_query_rounds_the_page() -> None:
    """Developer Guide: 1.5 KB + 6.5 KB is 3 RCUs item by item; a 40.8 KB page is 11."""
    assert read_units(1536, True) + read_units(6656, True) == 3
    assert page_read_units(int(40.8 * KB), consistent=True) == 11
    assert page_read_units(int(40.8 * KB), consistent=False) == 5.5
    assert page_read_units(0, consistent=False) == 0.5


def test_consumed_capacity_is_reported_only_when_asked() -> None:
    consumed = ConsumedCapacity("Music", read=0.5)
    assert consumed.to_wire("NONE") is None
    assert consumed.to_wire("TOTAL") == {
        "TableName": "Music", "CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}
    assert consumed.to_wire("INDEXES") == {
        "TableName": "Music", "CapacityUnits": 0.5, "ReadCapacityUnits": 0.5,
        "Table": {"CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}}


def test_consumed_capacity_adds_up_reads_and_writes() -> None:
    consumed = ConsumedCapacity("t", write=1)
    consumed.add(ConsumedCapacity("t", write=2, read=1))
    assert consumed.total == 4
    assert consumed.to_wire("TOTAL") == {"TableName": "t", "CapacityUnits": 4.0,
                                         "ReadCapacityUnits": 1.0, "WriteCapacityUnits": 3.0}
