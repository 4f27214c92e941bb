"""Crash test: kill -9 a replica under load, restart it, check no acknowledged write is lost
(DynamoDB ATC'22 §5.1, §5.4 "power-off tests").

DynamoDB powers off random nodes under simulated traffic and then verifies the
data (§5.4). This is that test for one replica, with real processes and files:

- A child process opens a LoggedReplica (running recovery) and starts `writers`
  concurrent writers. Each write is one log record with two mutations: the item
  `(items, key)` and its twin `(mirror, key)`, both carrying the same version.
  Before submitting, the child tells the parent "S key version"; after the write
  is acknowledged, "A key version". Now and then it checkpoints (archive, then
  remove segments), and segments are small, so crashes land in rotation and
  archiving too.
- The parent kills the child with SIGKILL at a random moment, opens the replica
  itself (recovery again), and checks for every key:
  1. durability: the stored version >= the last acknowledged one;
  2. no phantom: the stored version was submitted at some point;
  3. atomicity: the item and its twin hold the same version — an unacknowledged
     write is either wholly applied or not at all.

Run more rounds than `make test` does with:

    python -m dynamo.wal.crashtest --rounds 1000 [--seed N] [--dir PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import select
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dynamo.storage.btree import Mutation
from dynamo.storage.keys import EncodedKey
from dynamo.wal.archive import DirectoryStore
from dynamo.wal.replica import LoggedReplica

KEYS_PER_WRITER = 4
SEGMENT_BYTES = 16 * 1024
CHECKPOINT_EVERY = 40  # acknowledged writes between checkpoints in the child


def item_key(writer: int, slot: int) -> EncodedKey:
    name = f"w{writer}-k{slot}".encode()
    return EncodedKey(name[:8].ljust(8, b"\0"), name, b"")


def open_replica(directory: Path) -> LoggedReplica:
    return LoggedReplica.open(
        directory / "replica", segment_bytes=SEGMENT_BYTES, archive=DirectoryStore(directory / "archive")
    )


def stored_version(replica: LoggedReplica, table: str, key: EncodedKey) -> int:
    item = replica.btree.get(table, key)
    return 0 if item is None else int(item["v"]["N"])


# --- the child: a replica under load -------------------------------------------------------


def child_main(directory: Path, pipe: int, writers: int) -> None:
    """Open the replica and write until killed. Never returns normally."""
    asyncio.run(_load(directory, pipe, writers))


async def _load(directory: Path, pipe: int, writers: int) -> None:
    replica = open_replica(directory)
    os.write(pipe, b"R\n")
    acked = [0]

    async def writer(number: int) -> None:
        version = {slot: stored_version(replica, "items", item_key(number, slot))
                   for slot in range(KEYS_PER_WRITER)}
        slot = 0
        while True:
            slot = (slot + 1) % KEYS_PER_WRITER
            key, version[slot] = item_key(number, slot), version[slot] + 1
            item = {"v": {"N": str(version[slot])}, "pad": {"S": "x" * 64}}
            os.write(pipe, f"S {number} {slot} {version[slot]}\n".encode())
            await replica.write([Mutation("items", key, item), Mutation("mirror", key, item)])
            os.write(pipe, f"A {number} {slot} {version[slot]}\n".encode())
            acked[0] += 1

    async def checkpointer() -> None:
        while True:
            await asyncio.sleep(0.002)
            if acked[0] >= CHECKPOINT_EVERY:
                acked[0] = 0
                replica.log.seal()
                await replica.checkpoint()

    await asyncio.gather(checkpointer(), *(writer(n) for n in range(writers)))


# --- the parent: kill, recover, verify -------------------------------------------------------


@dataclass
class Expectations:
    """What the parent learnt from the child's messages, across all rounds."""

    acked: dict[tuple[int, int], int] = field(default_factory=dict)
    submitted: dict[tuple[int, int], set[int]] = field(default_factory=dict)

    def learn(self, line: str) -> None:
        kind, writer, slot, version = line.split()
        key, v = (int(writer), int(slot)), int(version)
        if kind == "S":
            self.submitted.setdefault(key, {0}).add(v)
        elif kind == "A":
            self.acked[key] = max(self.acked.get(key, 0), v)


@dataclass
class RoundResult:
    acked_total: int
    replayed: int
    torn: bool


def run_round(directory: Path, expect: Expectations, rng: random.Random, writers: int) -> RoundResult:
    """One child life: start, write for a random while, SIGKILL, then verify in this process."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            child_main(directory, write_end, writers)
        finally:
            os._exit(1)
    os.close(write_end)
    lines = _read_until_killed(read_end, pid, rng.uniform(0.005, 0.08))
    os.waitpid(pid, 0)
    os.close(read_end)
    if not lines or lines[0] != "R":
        raise AssertionError(f"the child never became ready: {lines[:3]}")
    acks = 0
    for line in lines[1:]:
        expect.learn(line)
        acks += line.startswith("A")
    replica = open_replica(directory)
    try:
        verify(replica, expect)
        return RoundResult(acks, replica.replayed, replica.recovery.torn_tail is not None)
    finally:
        replica.close_files()


def _read_until_killed(fd: int, pid: int, run_for: float) -> list[str]:
    """Collect the child's lines; SIGKILL it `run_for` seconds after it is ready."""
    buffer, kill_at = b"", None
    while True:
        timeout = 10.0 if kill_at is None else max(0.0, kill_at - time.monotonic())
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            if kill_at is None:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError("the child did not start within 10 s")
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break  # the child died on its own: its lines say why it stopped
        buffer += chunk
        if kill_at is None and b"R\n" in buffer:
            kill_at = time.monotonic() + run_for
    while chunk := os.read(fd, 65536):  # what it wrote before it died
        buffer += chunk
    complete = buffer[: buffer.rfind(b"\n") + 1]  # a line cut by the kill says nothing
    return complete.decode().splitlines()


def verify(replica: LoggedReplica, expect: Expectations) -> None:
    """The three checks of the module docstring; raises AssertionError naming the key."""
    for (writer, slot), submitted in expect.submitted.items():
        key = item_key(writer, slot)
        stored = stored_version(replica, "items", key)
        twin = stored_version(replica, "mirror", key)
        acked = expect.acked.get((writer, slot), 0)
        where = f"key w{writer}-k{slot}"
        assert stored >= acked, f"{where}: acknowledged version {acked} lost (stored {stored})"
        assert stored in submitted, f"{where}: version {stored} was never written"
        assert stored == twin, f"{where}: half-applied write (item v{stored}, twin v{twin})"


def run(directory: Path, rounds: int, seed: int, writers: int = 16, echo: bool = False) -> int:
    """Run `rounds` crash rounds on one replica directory; return acknowledged writes checked."""
    rng, expect, total = random.Random(seed), Expectations(), 0
    for number in range(rounds):
        result = run_round(directory, expect, rng, writers)
        total += result.acked_total
        if echo:
            print(f"round {number + 1}/{rounds}: {result.acked_total} acknowledged, "
                  f"{result.replayed} redone at restart, all present")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m dynamo.wal.crashtest", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--dir", type=Path, default=None, help="replica directory (default: a temporary one)")
    args = parser.parse_args()
    directory = args.dir or Path(tempfile.mkdtemp(prefix="dynamo-crash-"))
    print(f"crash test in {directory}, seed {args.seed} (replay with --seed {args.seed})")
    total = run(directory, args.rounds, args.seed, args.writers, echo=True)
    print(f"{args.rounds} SIGKILLs, {total} acknowledged writes, none lost, none half-applied")


if __name__ == "__main__":
    main()
