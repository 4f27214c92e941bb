"""Frames on the wire: versioned, checksummed, decoded only into known types (§5.2, §6.4)."""

from dataclasses import dataclass

import orjson
import pytest

import dynamo.contract as contract
from dynamo.net.codec import HEADER, Codec, FrameError, read_header
from dynamo.net.group import paxos_codec
from dynamo.paxos.operations import Ok, Rejected, UpdateItem
from dynamo.storage.capacity import ConsumedCapacity
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.errors import ConditionalCheckFailedException, ValidationException
from dynamo.storage.expressions.compile import compile_request
from dynamo.storage.expressions.parser import InvalidExpression
from dynamo.storage.keys import KeyAttribute, KeySchema
from dynamo.storage.table import Page, WritePlan


@dataclass(frozen=True)
class Accept(contract.Message):
    ballot: tuple[int, str]
    entries: tuple[str, ...]
    meta: dict[int, str]
    voters: frozenset[str]


def codec() -> Codec:
    c = Codec([contract])
    c.register(Accept)
    return c


def roundtrip(c: Codec, value: object) -> object:
    frame = c.frame(value)
    length, version, checksum = read_header(frame[: HEADER.size])
    assert length == len(frame) - HEADER.size
    return c.unframe(version, checksum, frame[HEADER.size:])


def test_messages_cross_the_wire_unchanged() -> None:
    c = codec()
    message = contract.Send("b", Accept((3, "a"), ("x", "y"), {1: "one"}, frozenset({"a", "c"})))
    back = roundtrip(c, message)
    assert back == message
    assert isinstance(back.message.ballot, tuple)  # tuples stay tuples, not lists


def test_a_flipped_bit_is_detected_never_delivered() -> None:
    """§5.2: every message carries a checksum validated on every transfer."""
    c = codec()
    frame = bytearray(c.frame(Accept((1, "a"), (), {}, frozenset())))
    _, version, checksum = read_header(bytes(frame[: HEADER.size]))
    for position in range(HEADER.size, len(frame)):
        flipped = bytearray(frame)
        flipped[position] ^= 0x04
        with pytest.raises(FrameError):
            c.unframe(version, checksum, bytes(flipped[HEADER.size:]))


def test_unknown_version_is_refused() -> None:
    """§6.4: a node reads only the formats it has been taught to read."""
    c = codec()
    frame = c.frame(contract.Start())
    _, _, checksum = read_header(frame[: HEADER.size])
    with pytest.raises(FrameError, match="version 2"):
        c.unframe(2, checksum, frame[HEADER.size:])


def test_unregistered_types_are_refused() -> None:
    sender, receiver = codec(), Codec([contract])
    frame = sender.frame(Accept((1, "a"), (), {}, frozenset()))
    _, version, checksum = read_header(frame[: HEADER.size])
    with pytest.raises(FrameError, match="unregistered"):
        receiver.unframe(version, checksum, frame[HEADER.size:])


def test_absurd_lengths_are_refused() -> None:
    with pytest.raises(FrameError):
        read_header(HEADER.pack(2**31, 1, 0))
    with pytest.raises(FrameError):
        read_header(HEADER.pack(0, 1, 0))


def paxos_roundtrip(value: object) -> object:
    return roundtrip(paxos_codec(), value)


def test_typed_requests_cross_the_wire_with_their_expression_trees() -> None:
    """§3: the router hands the leader a validated, compiled request; the leader must get
    the same request — table definition (a mutable dataclass), key schema and AST."""
    schema = KeySchema(KeyAttribute("pk", "S"), KeyAttribute("sk", "N"))
    table = TableDefinition(region="us-east-1", name="t", key_schema=schema,
                            attribute_definitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                            extra={"Tags": [{"Key": "k", "Value": "v"}]})
    compiled = compile_request("UpdateItem", {
        "UpdateExpression": "SET #a = :v ADD n :one REMOVE gone",
        "ConditionExpression": "attribute_exists(pk) AND size(#a) < :ten",
        "ExpressionAttributeNames": {"#a": "a"},
        "ExpressionAttributeValues": {":v": {"SS": ["x", "y"]}, ":one": {"N": "1"},
                                      ":ten": {"N": "10"}}}, schema)
    request = UpdateItem(table, {"pk": {"S": "p"}, "sk": {"N": "1"}}, compiled, "ALL_NEW")
    back = paxos_roundtrip(request)
    assert back == request
    assert type(back.table) is TableDefinition and back.table.tbl == table.tbl
    back.table.status = "UPDATING"  # it decodes as the mutable dataclass it is


def test_results_cross_the_wire_plans_pages_and_capacity() -> None:
    plan = WritePlan(None, {"pk": {"S": "p"}}, ConsumedCapacity("t", write=1.0))
    page = Page([{"pk": {"S": "p"}}], 1, 2, {"pk": {"S": "p"}}, ConsumedCapacity("t", read=0.5))
    assert paxos_roundtrip(Ok(plan)) == Ok(plan)
    assert paxos_roundtrip(Ok(page)) == Ok(page)


def test_errors_cross_the_wire_as_the_same_dynamodb_error() -> None:
    """A rejected write is answered with DynamoDB's error, ALL_OLD's item and the capacity a
    failed conditional write still costs; a subclass travels as its registered ancestor."""
    failed = ConditionalCheckFailedException(item={"pk": {"S": "p"}},
                                             capacity=ConsumedCapacity("t", write=1.0))
    back = paxos_roundtrip(Rejected(failed))
    assert type(back.error) is ConditionalCheckFailedException
    assert back.error.body() == failed.body()
    assert back.error.capacity == ConsumedCapacity("t", write=1.0)
    invalid = paxos_roundtrip(Rejected(InvalidExpression("Syntax error; token: \"<EOF>\"")))
    assert type(invalid.error) is ValidationException
    assert invalid.error.message == 'Syntax error; token: "<EOF>"'


def test_only_whitelisted_errors_are_rebuilt() -> None:
    """A frame naming any other class (an exception or not) is refused, never constructed."""
    c = paxos_codec()
    for tag in ("builtins.SystemExit", "subprocess.Popen", "dynamo.storage.errors.Nope"):
        payload = orjson.dumps({"@x": tag, "m": "boom", "a": {}})
        with pytest.raises(FrameError, match="unregistered"):
            c.loads(payload)
    with pytest.raises(TypeError):
        c.dumps(RuntimeError("not a DynamoDB error"))
