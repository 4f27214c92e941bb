"""The wire protocol: envelope checks, error shapes, headers, and garbage input.

Raw HTTP here (not boto3), because boto3 never sends most of these mistakes.
Every bad request must get a 4xx with DynamoDB's error, change nothing, and
leave the server serving (Developer Guide, "DynamoDB low-level API" and "Error handling with DynamoDB").
"""

from __future__ import annotations

import http.client
import json
import zlib

import pytest
from apitools import create_table

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDLAB/20240101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0123")
JSON10 = "application/x-amz-json-1.0"


def call(server, body, target="DynamoDB_20120810.ListTables", *, method="POST", path="/",
         content_type=JSON10, auth=AUTH):
    """One raw HTTP exchange: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    headers = {}
    if target is not None:
        headers["X-Amz-Target"] = target
    if content_type is not None:
        headers["Content-Type"] = content_type
    if auth is not None:
        headers["Authorization"] = auth
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
    if isinstance(body, str):
        body = body.encode()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def error_of(payload: bytes) -> tuple[str, str | None]:
    body = json.loads(payload)
    return body["__type"].split("#")[1], body.get("message")


def test_answers_carry_request_id_and_a_correct_crc32(server):
    status, headers, payload = call(server, {})
    assert status == 200
    assert json.loads(payload) == {"TableNames": []} or "TableNames" in json.loads(payload)
    assert int(headers["x-amz-crc32"]) == zlib.crc32(payload)
    assert headers["x-amzn-requestid"]
    _, again, _ = call(server, {})
    assert again["x-amzn-requestid"] != headers["x-amzn-requestid"]
    assert headers["content-type"] == JSON10


def test_missing_authorization_is_missing_authentication_token(server):
    status, _, payload = call(server, {}, auth=None)
    assert status == 400
    assert error_of(payload) == ("MissingAuthenticationTokenException",
                                 "Request is missing Authentication Token")
    assert json.loads(payload)["__type"].startswith("com.amazon.coral.service#")


def test_unknown_target_is_unknown_operation(server):
    for target in ("DynamoDB_20120810.Frobnicate", "Nope", "DynamoDB_20111205.ListTables", None):
        status, _, payload = call(server, {}, target=target)
        assert status == 400
        assert error_of(payload)[0] == "UnknownOperationException"


@pytest.mark.parametrize("body, expected", [
    (b"{not json", "SerializationException"),
    (b"", "SerializationException"),
    (b"[1, 2]", "SerializationException"),
    (b'"just a string"', "SerializationException"),
    (b'{"TableName": "abc\xff\xfe"}', "SerializationException"),
    (b'{"Limit": "ten"}', "SerializationException"),
    (b'{"Limit": [1]}', "SerializationException"),
    (b'{"ExclusiveStartTableName": {"a": 1}}', "SerializationException"),
    (b'{"Limit": 0}', "ValidationException"),
])
def test_garbage_bodies_get_4xx_and_the_server_keeps_serving(server, body, expected):
    status, _, payload = call(server, body)
    assert 400 <= status < 500
    assert error_of(payload)[0] == expected
    assert call(server, {})[0] == 200


def test_wrong_content_type_or_method_or_path_is_not_this_protocol(server):
    assert call(server, {}, content_type="text/plain")[0] == 404
    assert call(server, b"", method="PUT")[0] == 404
    assert call(server, b"", method="GET", path="/other")[0] == 404
    assert call(server, b"", method="OPTIONS")[0] == 404  # no Origin: not a preflight
    assert call(server, {}, path="/other")[0] == 404
    assert call(server, {}, content_type="application/json")[0] == 200


def test_wrong_member_types_are_serialization_errors(server, client, table_name):
    create_table(client, table_name)
    target = "DynamoDB_20120810.GetItem"
    cases = [
        ({"TableName": 5, "Key": {}}, "TruncatingBigNumber can not be converted to an String"),
        ({"TableName": True, "Key": {}}, "class java.lang.Boolean can not be converted to an String"),
        ({"TableName": "abc", "Key": []}, "Start of list found where not expected"),
        ({"TableName": "abc", "Key": {}, "ConsistentRead": "maybe"},
         "'MAYBE' can not be converted to an Boolean"),
        ({"TableName": table_name, "Key": {"pk": {"S": 5}}}, "can not be converted to an String"),
        ({"TableName": table_name, "Key": {"pk": ["S"]}}, "Start of list found where not expected"),
    ]
    for body, message in cases:
        status, _, payload = call(server, body, target)
        assert status == 400
        name, text = error_of(payload)
        assert name == "SerializationException"
        assert message in text


def test_validation_errors_use_corals_message_format(server):
    status, _, payload = call(server, {}, "DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert error_of(payload) == (
        "ValidationException",
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null")
    status, _, payload = call(server, {"TableName": "a;", "Limit": 0},
                              "DynamoDB_20120810.Scan")
    assert error_of(payload) == (
        "ValidationException",
        "3 validation errors detected: "
        "Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular "
        "expression pattern: [a-zA-Z0-9_.-]+; "
        "Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length "
        "greater than or equal to 3; "
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater "
        "than or equal to 1")


def test_nested_member_paths_name_the_list_position(server):
    body = {"TableName": "abc", "AttributeDefinitions": [{"AttributeName": "pk"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}
    _, _, payload = call(server, body, "DynamoDB_20120810.CreateTable")
    assert error_of(payload)[1] == (
        "1 validation error detected: Value null at 'attributeDefinitions.1.member."
        "attributeType' failed to satisfy constraint: Member must not be null")


def test_huge_strings_are_refused_without_harm(server):
    status, _, payload = call(server, {"TableName": "x" * 1_000_000},
                              "DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert "Member must have length less than or equal to 255" in error_of(payload)[1]
    status, _, _ = call(server, b'{"TableName": "' + b"y" * (17 * 1024 * 1024) + b'"}',
                        "DynamoDB_20120810.DescribeTable")
    assert status == 413
    assert call(server, {})[0] == 200


def test_lone_surrogates_are_answered_not_crashed_on(server):
    # "\ud800" is valid JSON text but no UTF-8 string can hold it.
    status, _, payload = call(server, b'{"TableName": "ab\\ud800"}', "DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert error_of(payload)[0] == "SerializationException"


def test_a_failed_request_leaves_data_unchanged(server, client, table_name):
    create_table(client, table_name)
    client.put_item(TableName=table_name, Item={"pk": {"S": "k"}, "v": {"N": "1"}})
    bad_bodies = [
        {"TableName": table_name, "Item": {"pk": {"S": "k"}, "v": {"N": "not a number"}}},
        {"TableName": table_name, "Item": {"pk": {"S": "k"}, "v": {"N": "2"}},
         "ConditionExpression": "attribute_not_exists(pk)"},
        {"TableName": table_name, "Item": {"pk": {"N": "1"}, "v": {"N": "2"}}},
        {"TableName": table_name, "Item": {"pk": {"S": "k"}, "v": {"N": "2"}},
         "ConditionExpression": "v = :missing"},
    ]
    for body in bad_bodies:
        status, _, _ = call(server, body, "DynamoDB_20120810.PutItem")
        assert 400 <= status < 500
    item = client.get_item(TableName=table_name, Key={"pk": {"S": "k"}})["Item"]
    assert item == {"pk": {"S": "k"}, "v": {"N": "1"}}


def test_region_comes_from_the_credential_scope(server, table_name):
    eu = AUTH.replace("us-east-1", "eu-west-1")
    body = {"TableName": table_name, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST"}
    assert call(server, body, "DynamoDB_20120810.CreateTable", auth=eu)[0] == 200
    _, _, payload = call(server, {"TableName": table_name}, "DynamoDB_20120810.DescribeTable",
                         auth=eu)
    assert json.loads(payload)["Table"]["TableArn"] == (
        f"arn:aws:dynamodb:eu-west-1:000000000000:table/{table_name}")
    status, _, payload = call(server, {"TableName": table_name}, "DynamoDB_20120810.DescribeTable")
    assert status == 400
    assert error_of(payload)[0] == "ResourceNotFoundException"
