"""The front door's HTTP/1.1 (`dynamo.api.http`): keep-alive, pipelining in order,
`Expect: 100-continue`, DynamoDB's 16 MB request limit, and 400 for bytes that are not HTTP.

A real `dynamo serve` and raw sockets: these are the behaviours an HTTP library would
otherwise hide from a test.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from dynamo.cli.launch import Server, running_server

AUTH = ("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=0")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with running_server("--in-memory", "--nodes", "1") as server:
        yield server


def call(operation: str, params: dict, extra: str = "") -> bytes:
    body = json.dumps(params).encode()
    return (f"POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"X-Amz-Target: DynamoDB_20120810.{operation}\r\nAuthorization: {AUTH}\r\n"
            f"{extra}Content-Length: {len(body)}\r\n\r\n").encode() + body


def read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One response off the connection (status, headers, body); the rest stays in buffer."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        rest += chunk
    buffer[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def table(name: str) -> dict:
    return {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    """Three requests in one write: create, put, get. Each answer matches its request."""
    with connect(server) as sock:
        sock.sendall(call("CreateTable", table("pipelined"))
                     + call("PutItem", {"TableName": "pipelined", "Item": {"pk": {"S": "a"}}})
                     + call("GetItem", {"TableName": "pipelined", "Key": {"pk": {"S": "a"}}}))
        buffer = bytearray()
        answers = [read_response(sock, buffer) for _ in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 200]
    assert json.loads(answers[0][2])["TableDescription"]["TableName"] == "pipelined"
    assert json.loads(answers[1][2]) == {}
    assert json.loads(answers[2][2]) == {"Item": {"pk": {"S": "a"}}}


def test_a_connection_is_kept_alive_until_the_client_asks_to_close(server: Server) -> None:
    with connect(server) as sock:
        buffer = bytearray()
        for _ in range(3):
            sock.sendall(call("ListTables", {}))
            status, headers, _ = read_response(sock, buffer)
            assert status == 200 and "connection" not in headers
        sock.sendall(call("ListTables", {}, extra="Connection: close\r\n"))
        status, headers, _ = read_response(sock, buffer)
        assert status == 200 and headers["connection"] == "close"
        assert sock.recv(1) == b""  # and then it closes


def test_expect_100_continue_is_answered_before_the_body(server: Server) -> None:
    body = json.dumps({}).encode()
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-amz-json-1.0\r\n"
                     b"X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                     + f"Authorization: {AUTH}\r\nExpect: 100-continue\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode())
        buffer = bytearray()
        status, _, _ = read_response(sock, buffer)
        assert status == 100
        sock.sendall(body)
        status, _, answer = read_response(sock, buffer)
    assert status == 200 and "TableNames" in json.loads(answer)


def test_a_body_over_16_mb_is_refused_with_413(server: Server) -> None:
    size = 16 * 1024 * 1024 + 1
    with connect(server) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-amz-json-1.0\r\n"
                     b"X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                     + f"Content-Length: {size}\r\n\r\n".encode())
        sock.sendall(b" " * size)
        status, _, _ = read_response(sock, bytearray())
    assert status == 413


def test_bytes_that_are_not_http_get_400_and_the_connection_closes(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
        status, _, _ = read_response(sock, bytearray())
        assert status == 400
        assert sock.recv(1) == b""
    with connect(server) as sock:  # and the server goes on serving
        sock.sendall(call("ListTables", {}))
        status, _, _ = read_response(sock, bytearray())
    assert status == 200
