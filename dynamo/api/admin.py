"""The admin endpoint: the cluster's state, its events, and teaching faults.

Every layer exposes its state through one read-only snapshot, and what happens
(elections, lease changes, crashes) as an event stream, so that the dashboard,
the lab and the tests watch the same thing (DESIGN, "Observability is a
feature"). On a running server these are, on the serve port itself:

    GET  /admin/state    a JSON snapshot: nodes, and partitions with leader,
                         ballot and each replica's role and log positions
    GET  /admin/events   newline-delimited JSON, oldest first
    POST /admin/fault    {"action": "kill"|"restart", "node": "n1"}
                         {"action": "cut", "node": "n1", "to": "n2"} (one way)
                         {"action": "heal"}

Only loopback clients are served; anyone else gets the answer DynamoDB gives
to a request that is not its protocol (404), so the endpoint does not even
show it exists. Faults are accepted only when the server runs with
`--allow-faults`.
"""

from __future__ import annotations

from typing import Any

import orjson

from dynamo.storage.errors import DynamoError, ValidationException

PREFIX = "/admin/"
LOOPBACK = (b"127.", b"::1", b"::ffff:127.")
JSON = b"application/json"

Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]


def is_admin(path: str) -> bool:
    return path.startswith(PREFIX)


def is_loopback(peer: bytes | None) -> bool:
    return peer is not None and peer.startswith(LOOPBACK)


def answer(node: Any, method: str, path: str, body: bytes, allow_faults: bool) -> Answer | None:
    """The admin answer, or None if this is no admin request (DynamoDB's 404 then)."""
    name = path[len(PREFIX):]
    if method == "GET" and name == "state":
        return _json(200, node.admin_state())
    if method == "GET" and name == "events":
        lines = b"".join(orjson.dumps(event) + b"\n" for event in node.events.since(0))
        return 200, lines, _headers(lines, b"application/x-ndjson")
    if method == "POST" and name == "fault":
        if not allow_faults:
            return _json(403, {"error": "faults are off: start dynamo serve --allow-faults"})
        try:
            fault = orjson.loads(body or b"{}")
            if not isinstance(fault, dict):
                raise ValidationException("a fault is a JSON object")
            return _json(200, node.admin_fault(fault))
        except orjson.JSONDecodeError as error:
            return _json(400, {"error": f"not JSON: {error}"})
        except DynamoError as error:
            return _json(400, {"error": error.message})
    return None


def _json(status: int, payload: Any) -> Answer:
    body = orjson.dumps(payload)
    return status, body, _headers(body, JSON)


def _headers(body: bytes, content_type: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
