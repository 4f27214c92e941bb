"""The control plane, from dynalite's test/createTable.js, describeTable.js, deleteTable.js,
listTables.js and updateTable.js.

Each list is named after its operation; tests/conformance/test_tables_conformance.py runs them.
"""

from __future__ import annotations

from cases import HASH, IN_USE, INVALID, NOT_FOUND, ErrorCase, validation

_ONE = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
_NO_DEFINITION = "Invalid KeySchema: Some index key attribute have no definition"
_COUNT_MISMATCH = (INVALID + "Number of attributes in KeySchema does not exactly match number of "
                   "attributes defined in AttributeDefinitions")
_NAME_LENGTH = "TableName must be at least 3 characters long and at most 255 characters long"


def _create(definitions: list[tuple[str, str]], keys: list[tuple[str, str]],
            **extra: object) -> dict[str, object]:
    return {"TableName": "abc",
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t}
                                     for n, t in definitions],
            "KeySchema": [{"KeyType": k, "AttributeName": n} for k, n in keys],
            "ProvisionedThroughput": _ONE, **extra}


def _missing(name: str) -> ErrorCase:
    """dynalite's assertNotFound for a table name that was never created."""
    return ErrorCase("should return ResourceNotFoundException if table does not exist",
                     {"TableName": name}, NOT_FOUND,
                     f"Requested resource not found: Table: {name} not found")


CREATE_TABLE = [
    validation("should return ValidationException for low ProvisionedThroughput.WriteCapacityUnits",
               {"TableName": "abc", "AttributeDefinitions": [], "KeySchema": [],
                "ProvisionedThroughput": {"ReadCapacityUnits": -1, "WriteCapacityUnits": -1}},
               "3 validation errors detected: Value '-1' at "
               "'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member "
               "must have value greater than or equal to 1; Value '-1' at "
               "'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member "
               "must have value greater than or equal to 1; Value '[]' at 'keySchema' failed to "
               "satisfy constraint: Member must have length greater than or equal to 1"),
    validation("should return ValidationException for high ProvisionedThroughput."
               "ReadCapacityUnits and neg",
               {"TableName": "abc", "AttributeDefinitions": [],
                "KeySchema": [{"KeyType": "HASH", "AttributeName": "a"}],
                "ProvisionedThroughput": {"ReadCapacityUnits": 1000000000001,
                                          "WriteCapacityUnits": -1}},
               "1 validation error detected: Value '-1' at "
               "'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member "
               "must have value greater than or equal to 1"),
    *[validation("should return ValidationException for high ProvisionedThroughput",
                 {"TableName": "abc", "AttributeDefinitions": [],
                  "KeySchema": [{"KeyType": "HASH", "AttributeName": "a"}],
                  "ProvisionedThroughput": throughput},
                 f"Given value 1000000000001 for {member} is out of bounds")
      for throughput, member in (
          ({"ReadCapacityUnits": 1000000000001, "WriteCapacityUnits": 1000000000001},
           "ReadCapacityUnits"),
          ({"WriteCapacityUnits": 1000000000001, "ReadCapacityUnits": 1000000000001},
           "ReadCapacityUnits"),
          ({"ReadCapacityUnits": 1000000000000, "WriteCapacityUnits": 1000000000001},
           "WriteCapacityUnits"))],
    validation("should return ValidationException for attribute definitions member nulls",
               {**_create([], [("HASH", "a"), ("HASH", "a")]), "AttributeDefinitions": [{}]},
               "2 validation errors detected: Value null at "
               "'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: "
               "Member must not be null; Value null at "
               "'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
               "Member must not be null"),
    *[validation("should return ValidationException for SS or random attr definition",
                 _create([("b", kind)], [("HASH", "a"), ("HASH", "a")]),
                 f"1 validation error detected: Value '{kind}' at "
                 "'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: "
                 "Member must satisfy enum value set: [B, N, S]") for kind in ("SS", "a")],
    validation("should return ValidationException for missing key attribute definitions",
               _create([], [("HASH", "a"), ("HASH", "a")]), _NO_DEFINITION),
    validation("should return ValidationException for missing key attr definition when double",
               _create([("b", "S")], [("HASH", "a"), ("HASH", "a")]), _NO_DEFINITION),
    validation("should return ValidationException for missing key attr definition",
               _create([("b", "S")], [("HASH", "a")]),
               INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
               "Keys: [a], AttributeDefinitions: [b]"),
    validation("should return ValidationException for missing key attr definition when double "
               "and valid", _create([("b", "S")], [("HASH", "a"), ("RANGE", "b")]),
               _NO_DEFINITION),
    validation("should return ValidationException for missing key attr definition when double "
               "and same", _create([("a", "S")], [("HASH", "a"), ("HASH", "a")]), _NO_DEFINITION),
    validation("should return ValidationException for 5",
               _create([("a", "S"), ("b", "S")], [("HASH", "a"), ("HASH", "a")]),
               "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    validation("should return ValidationException for 6",
               _create([("a", "S"), ("b", "S")], [("HASH", "a"), ("HASH", "b")]),
               "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
    *[validation(f"should return ValidationException for {number}",
                 _create([("a", "S"), ("b", "S")], [(first, "a"), (second, "b")]),
                 "Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
      for number, first, second in ((7, "RANGE", "HASH"), (8, "RANGE", "RANGE"))],
    validation("should return ValidationException for 9",
               _create([("a", "S"), ("c", "S"), ("b", "S")], [("HASH", "a"), ("RANGE", "b")]),
               _COUNT_MISMATCH),
    validation("should return ValidationException for 10",
               _create([("a", "S"), ("b", "S")], [("HASH", "a")]), _COUNT_MISMATCH),
    ErrorCase("should return ResourceInUseException if table already exists",
              _create([("a", "S")], [("HASH", "a")], TableName=HASH), IN_USE,
              f"Table already exists: {HASH}"),
]

DESCRIBE_TABLE = [
    validation("should return ValidationException for null attributes", {"TableName": "abc;"},
               "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
    _missing("describe-table-missing"),
]

DELETE_TABLE = [
    validation("should return ValidationException for null attributes", {"TableName": "abc;"},
               "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
    _missing("delete-table-missing"),
]

LIST_TABLES = [
    validation("should return ValidationExceptions in order",
               {"ExclusiveStartTableName": "a;", "Limit": 500},
               "3 validation errors detected: Value '500' at 'limit' failed to satisfy "
               "constraint: Member must have value less than or equal to 100; Value 'a;' at "
               "'exclusiveStartTableName' failed to satisfy constraint: Member must satisfy "
               "regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at "
               "'exclusiveStartTableName' failed to satisfy constraint: Member must have length "
               "greater than or equal to 3"),
    validation("should return ValidationException for empty ExclusiveStartTableName",
               {"ExclusiveStartTableName": ""},
               "2 validation errors detected: Value '' at 'exclusiveStartTableName' failed to "
               "satisfy constraint: Member must satisfy regular expression pattern: "
               "[a-zA-Z0-9_.-]+; Value '' at 'exclusiveStartTableName' failed to satisfy "
               "constraint: Member must have length greater than or equal to 3"),
    validation("should return ValidationException for long ExclusiveStartTableName",
               {"ExclusiveStartTableName": "a" * 256},
               f"1 validation error detected: Value '{'a' * 256}' at 'exclusiveStartTableName' "
               "failed to satisfy constraint: Member must have length less than or equal to 255"),
    validation("should return ValidationException for low Limit", {"Limit": 0},
               "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
               "Member must have value greater than or equal to 1"),
    validation("should return ValidationException for high Limit", {"Limit": 101},
               "1 validation error detected: Value '101' at 'limit' failed to satisfy "
               "constraint: Member must have value less than or equal to 100"),
]

UPDATE_TABLE = [
    validation("should return ValidationException for no TableName", {},
               "The parameter 'TableName' is required but was not present in the request"),
    *[validation("should return ValidationException for empty, short or long TableName",
                 {"TableName": name}, _NAME_LENGTH) for name in ("", "a;", "a" * 256)],
    validation("should return ValidationException for null attributes", {"TableName": "abc;"},
               "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy "
               "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
    validation("should return ValidationException for empty ProvisionedThroughput",
               {"TableName": "abc", "ProvisionedThroughput": {}},
               "2 validation errors detected: Value null at "
               "'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member "
               "must not be null; Value null at 'provisionedThroughput.readCapacityUnits' failed "
               "to satisfy constraint: Member must not be null"),
    validation("should return ValidationException for high ProvisionedThroughput."
               "ReadCapacityUnits and neg",
               {"TableName": "abc", "ProvisionedThroughput": {"ReadCapacityUnits": 1000000000001,
                                                              "WriteCapacityUnits": -1}},
               "1 validation error detected: Value '-1' at "
               "'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member "
               "must have value greater than or equal to 1"),
    *[validation("should return ValidationException for high ProvisionedThroughput",
                 {"TableName": "abc", "ProvisionedThroughput": throughput},
                 f"Given value 1000000000001 for {member} is out of bounds")
      for throughput, member in (
          ({"ReadCapacityUnits": 1000000000001, "WriteCapacityUnits": 1000000000001},
           "ReadCapacityUnits"),
          ({"ReadCapacityUnits": 1000000000000, "WriteCapacityUnits": 1000000000001},
           "WriteCapacityUnits"))],
    ErrorCase("should return ResourceNotFoundException if table does not exist",
              {"TableName": "update-table-missing", "ProvisionedThroughput": _ONE}, NOT_FOUND,
              "Requested resource not found: Table: update-table-missing not found"),
    validation("should return ValidationException if read and write are same",
               {"TableName": HASH, "ProvisionedThroughput": {"ReadCapacityUnits": 5,
                                                             "WriteCapacityUnits": 5}},
               "The provisioned throughput for the table will not change. The requested value "
               "equals the current value. Current ReadCapacityUnits provisioned for the table: "
               "5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for "
               "the table: 5. Requested WriteCapacityUnits: 5. Refer to the Amazon DynamoDB "
               "Developer Guide for current limits and how to request higher limits."),
]
