"""`python -m dynamo.api`: DynamoDB's wire protocol, byte for byte, with no network.

Drives the ASGI application in-process against an in-memory node and prints
each raw exchange: what boto3 would send (target, region in the credential
scope, JSON body) and what comes back (status, request id, CRC32, JSON body),
for calls that succeed and for the mistakes DynamoDB answers with its errors.
"""

from __future__ import annotations

import asyncio

import orjson

from dynamo.api.server import DynamoApp
from dynamo.cluster.node import SingleNode

AUTH = (b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/dynamodb/aws4_request, "
        b"SignedHeaders=host;x-amz-date;x-amz-target, Signature=...")

EXCHANGES: list[tuple[str, str, bytes, bytes | None]] = [
    ("Create a table", "CreateTable", orjson.dumps({
        "TableName": "Music", "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "Artist", "AttributeType": "S"}]}), AUTH),
    ("Put an item", "PutItem", orjson.dumps({
        "TableName": "Music", "Item": {"Artist": {"S": "Acme"}, "Plays": {"N": "007.50"}}}), AUTH),
    ("Get it back (the number comes back canonical)", "GetItem", orjson.dumps({
        "TableName": "Music", "Key": {"Artist": {"S": "Acme"}}}), AUTH),
    ("Shape errors are listed together, in Coral's words", "Query",
     orjson.dumps({"TableName": "M!", "Limit": 0}), AUTH),
    ("A member of the wrong JSON type", "GetItem",
     orjson.dumps({"TableName": "Music", "Key": [1]}), AUTH),
    ("No Authorization header", "ListTables", b"{}", None),
    ("Not JSON at all", "ListTables", b"{oops", AUTH),
]


async def exchange(app: DynamoApp, operation: str, body: bytes, auth: bytes | None) -> None:
    headers = {b"x-amz-target": f"DynamoDB_20120810.{operation}".encode(),
               b"content-type": b"application/x-amz-json-1.0"}
    if auth is not None:
        headers[b"authorization"] = auth
    print("  >> POST /")
    for name, value in headers.items():
        print(f"  >> {name.decode()}: {value.decode()}")
    print(f"  >> {body.decode()}")
    status, payload, answer_headers = await app.answer("POST", "/", headers, body)
    print(f"  << {status}")
    for name, value in answer_headers:
        if name in (b"x-amzn-requestid", b"x-amz-crc32"):
            print(f"  << {name.decode()}: {value.decode()}")
    print(f"  << {payload.decode()}\n")


async def main() -> None:
    app = DynamoApp(SingleNode(None))
    for title, operation, body, auth in EXCHANGES:
        print(f"== {title}")
        await exchange(app, operation, body, auth)


if __name__ == "__main__":
    asyncio.run(main())
