"""The hashed key space that a table's partitions divide (§3).

DynamoDB hashes each item's partition key and stores the item in the
partition whose key range holds that hash: "a table is divided into
multiple partitions", each "a contiguous key-range" of the hashed space
(§3). Here the hash is the MD5 of the partition key's encoding, 128 bits
(`dynamo.storage.keys.hash_position`), so a range is a pair of integers
`[low, high)` in `0 .. 2**128`. Items with the same partition key share
one hash, so an item collection never straddles two partitions, and within
a partition the B-tree keeps it in sort-key order.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynamo.storage.keys import EncodedKey

KEY_SPACE = 1 << 128  # every 128-bit hash position
HEX_DIGITS = 32


@dataclass(frozen=True, order=True)
class KeyRange:
    """The half-open range of hash positions `[low, high)` one partition holds."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not 0 <= self.low < self.high <= KEY_SPACE:
            raise ValueError(f"not a key range: [{self.low:#x}, {self.high:#x})")

    def __contains__(self, position: object) -> bool:
        return isinstance(position, int) and self.low <= position < self.high

    def split_at(self, position: int) -> tuple[KeyRange, KeyRange]:
        """The two halves either side of `position`, which must lie strictly inside."""
        if not self.low < position < self.high:
            raise ValueError(f"{position:#x} does not split [{self.low:#x}, {self.high:#x})")
        return KeyRange(self.low, position), KeyRange(position, self.high)

    @property
    def middle(self) -> int:
        return (self.low + self.high) // 2

    def hex(self) -> tuple[str, str]:
        """The bounds as 32-digit hex strings (the admin state's `key_range`).

        The upper bound of the last range, 2**128, is shown as 32 f's: "1" followed
        by 32 zeros would not be a 128-bit position.
        """
        high = format(self.high, f"0{HEX_DIGITS}x") if self.high < KEY_SPACE else "f" * HEX_DIGITS
        return format(self.low, f"0{HEX_DIGITS}x"), high


WHOLE_SPACE = KeyRange(0, KEY_SPACE)


def position_of(key: EncodedKey) -> int:
    """Where an item's key lies in the hashed key space."""
    return int.from_bytes(key.hash, "big")
