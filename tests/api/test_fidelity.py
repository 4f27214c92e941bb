"""DynamoDB fidelity through real clients (issue #9): table ARNs, updates of missing
items, operand types, and a browser's view of the endpoint.

The same behaviours are cases of tests/conformance (cases/fidelity.py), sent
as raw HTTP; here boto3 and plain HTTP show what a user of them sees.
"""

from __future__ import annotations

import http.client

import pytest
from apitools import create_table
from botocore.exceptions import ClientError


def error_of(call) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_a_table_arn_works_wherever_its_name_does(client, table_name):
    create_table(client, table_name)
    arn = client.describe_table(TableName=table_name)["Table"]["TableArn"]
    assert client.describe_table(TableName=arn)["Table"]["TableName"] == table_name
    item = {"pk": {"S": "k"}, "v": {"N": "1"}}
    client.put_item(TableName=arn, Item=item)
    assert client.get_item(TableName=arn, Key={"pk": {"S": "k"}},
                           ConsistentRead=True)["Item"] == item
    found = client.query(TableName=arn, KeyConditionExpression="pk = :k",
                         ExpressionAttributeValues={":k": {"S": "k"}}, ConsistentRead=True)
    assert found["Items"] == [item]
    assert client.scan(TableName=arn, ConsistentRead=True)["Count"] == 1
    client.batch_write_item(RequestItems={arn: [{"DeleteRequest": {"Key": {"pk": {"S": "k"}}}}]})
    assert "Item" not in client.get_item(TableName=table_name, Key={"pk": {"S": "k"}},
                                         ConsistentRead=True)
    client.delete_table(TableName=arn)


def test_remove_on_a_missing_item_creates_nothing(client, table_name):
    create_table(client, table_name)
    answer = client.update_item(TableName=table_name, Key={"pk": {"S": "none"}},
                                UpdateExpression="REMOVE b", ReturnValues="ALL_NEW")
    assert "Attributes" not in answer
    assert "Item" not in client.get_item(TableName=table_name, Key={"pk": {"S": "none"}},
                                         ConsistentRead=True)
    answer = client.update_item(TableName=table_name, Key={"pk": {"S": "made"}},
                                UpdateExpression="SET b = :v",
                                ExpressionAttributeValues={":v": {"S": "x"}},
                                ReturnValues="ALL_NEW")
    assert answer["Attributes"] == {"pk": {"S": "made"}, "b": {"S": "x"}}


def test_operand_types_are_checked_before_any_item_is_read(client, table_name):
    create_table(client, table_name)
    code, message = error_of(lambda: client.put_item(
        TableName=table_name, Item={"pk": {"S": "k"}}, ConditionExpression="b < :v",
        ExpressionAttributeValues={":v": {"L": []}}))
    assert code == "ValidationException"
    assert message.endswith("Incorrect operand type for operator or function; "
                            "operator or function: <, operand type: L")
    assert "Item" not in client.get_item(TableName=table_name, Key={"pk": {"S": "k"}},
                                         ConsistentRead=True)


def _raw(server, method: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(method, "/", headers=headers)
    response = connection.getresponse()
    answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return answer


def test_health_check_and_cors_preflight(server):
    status, _, body = _raw(server, "GET", {"Host": f"127.0.0.1:{server.port}"})
    assert (status, body) == (200, f"healthy: 127.0.0.1:{server.port} ".encode())
    status, headers, body = _raw(server, "OPTIONS", {
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-target,authorization"})
    assert status == 200 and body == b""
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "POST"
    assert headers["access-control-allow-headers"] == "content-type,x-amz-target,authorization"
