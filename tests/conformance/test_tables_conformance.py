"""The control plane answers as DynamoDB's (dynalite's test/createTable.js, describeTable.js,
deleteTable.js, listTables.js, updateTable.js), over raw signed HTTP."""

from __future__ import annotations

import pytest
from cases import case_id, check_error
from cases.tables import CREATE_TABLE, DELETE_TABLE, DESCRIBE_TABLE, LIST_TABLES, UPDATE_TABLE

CASES = [(operation, case) for operation, cases in (
    ("CreateTable", CREATE_TABLE), ("DescribeTable", DESCRIBE_TABLE),
    ("DeleteTable", DELETE_TABLE), ("ListTables", LIST_TABLES), ("UpdateTable", UPDATE_TABLE),
) for case in cases]


@pytest.mark.parametrize(("operation", "case"), CASES,
                         ids=[f"{op}-{case_id(case)}" for op, case in CASES])
def test_error(dynamo, operation, case) -> None:  # type: ignore[no-untyped-def]
    check_error(dynamo, operation, case)


def test_list_tables_pages_in_order(dynamo) -> None:  # type: ignore[no-untyped-def]
    """should return list using ExclusiveStartTableName and Limit (listTables.js)."""
    status, answer = dynamo.call("ListTables", {"Limit": 1})
    assert status == 200
    assert answer["TableNames"] == ["conformance-hash"]
    assert answer["LastEvaluatedTableName"] == "conformance-hash"
    status, answer = dynamo.call("ListTables", {"ExclusiveStartTableName": "conformance-hash"})
    assert answer == {"TableNames": ["conformance-range", "conformance-rangeB",
                                     "conformance-rangeN"]}
    # should return 200 if null attributes are supplied / if random attributes are supplied
    status, answer = dynamo.call("ListTables", {"ExclusiveStartTableName": None, "Limit": None,
                                                "hi": "yo"})
    assert status == 200 and "LastEvaluatedTableName" not in answer
    assert len(answer["TableNames"]) == 4


def test_delete_table_answers_deleting(dynamo) -> None:  # type: ignore[no-untyped-def]
    """should eventually delete (deleteTable.js): DELETING, then ResourceNotFoundException."""
    definition = {"TableName": "conformance-doomed",
                  "AttributeDefinitions": [{"AttributeName": "a", "AttributeType": "S"}],
                  "KeySchema": [{"KeyType": "HASH", "AttributeName": "a"}],
                  "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}
    status, answer = dynamo.call("CreateTable", definition)
    assert answer["TableDescription"]["TableStatus"] == "CREATING"
    dynamo.call("DescribeTable", {"TableName": "conformance-doomed"})
    status, answer = dynamo.call("DeleteTable", {"TableName": "conformance-doomed"})
    assert status == 200 and answer["TableDescription"]["TableStatus"] == "DELETING"
    status, answer = dynamo.call("DescribeTable", {"TableName": "conformance-doomed"})
    assert (status, answer["__type"]) == (
        400, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")
