"""Frames on the wire: versioned, checksummed, decoded only into known types (§5.2, §6.4)."""

from dataclasses import dataclass

import pytest

import dynamo.contract as contract
from dynamo.net.codec import HEADER, Codec, FrameError, read_header


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
