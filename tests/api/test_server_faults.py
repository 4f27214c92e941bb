"""A fault inside the server is DynamoDB's InternalServerError (500), logged, and the
server goes on answering; a client mistake is never a 500 (Developer Guide, "Error handling with DynamoDB").

This drives the ASGI application in-process, because a real fault has to be
provoked inside it: the node's SQLite connection is closed under its feet.
"""

from __future__ import annotations

import asyncio
import json
import logging

from dynamo.api.server import DynamoApp
from dynamo.cluster.node import SingleNode

AUTH = (b"AWS4-HMAC-SHA256 Credential=AKIDLAB/20240101/us-east-1/dynamodb/aws4_request, "
        b"SignedHeaders=host, Signature=00")


def headers(operation: str) -> dict[bytes, bytes]:
    return {b"x-amz-target": f"DynamoDB_20120810.{operation}".encode(),
            b"content-type": b"application/x-amz-json-1.0", b"authorization": AUTH}


def ask(app: DynamoApp, operation: str, body: dict) -> tuple[int, dict]:
    status, payload, _ = asyncio.run(
        app.answer("POST", "/", headers(operation), json.dumps(body).encode()))
    return status, json.loads(payload)


def test_an_internal_fault_is_a_logged_500_and_the_app_keeps_answering(caplog):
    node = SingleNode(None)
    app = DynamoApp(node)
    status, _ = ask(app, "CreateTable", {
        "TableName": "faulty", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]})
    assert status == 200
    node.btree.conn.close()   # the disk "fails"
    with caplog.at_level(logging.ERROR, logger="dynamo.api"):
        status, body = ask(app, "GetItem", {"TableName": "faulty", "Key": {"pk": {"S": "a"}}})
    assert status == 500
    assert body == {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                    "message": "Internal server error"}
    assert any(record.exc_info for record in caplog.records)
    status, body = ask(app, "NoSuchOperation", {})
    assert status == 400
    assert body["__type"].endswith("#UnknownOperationException")
