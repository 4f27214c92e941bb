"""The failover demo: three processes, kill the leader, lose nothing.

What it shows (paper §6.1, §6.2): writes are acknowledged once a quorum has
them in its write-ahead logs; when the leader dies (SIGKILL, no goodbye) the
others elect a new one, which waits out the old lease and then serves; every
write acknowledged before the crash is still there afterwards. "Still there" is
judged as the tests judge it, by `dynamo.checker.durability` over the history
of the client's writes and the values consistent reads find at the end.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dynamo.checker import HistoryOp, no_lost_acknowledged_writes
from dynamo.net.client import GroupClient
from dynamo.net.group import LocalGroup
from dynamo.paxos.operations import Get, NotLeader, Ok, Put, Unavailable

REDIRECTS = (NotLeader, Unavailable)


@dataclass
class DemoResult:
    """What the demo saw, for tests and for the printed story."""

    first_leader: str = ""
    second_leader: str = ""
    failover_ms: float = 0.0
    acknowledged: dict[str, str] = field(default_factory=dict)
    history: list[HistoryOp] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # the durability checker's problems


def main() -> int:
    """Run the story and print it; exit status 1 if an acknowledged write was lost."""
    result = asyncio.run(run_demo())
    return 1 if result.lost else 0


async def run_demo(root: Path | None = None, writes: int = 5, say=print) -> DemoResult:  # type: ignore[no-untyped-def]
    """Run the story end to end; `say` prints each step."""
    with tempfile.TemporaryDirectory() as tmp:
        group = LocalGroup(root or Path(tmp))
        group.start_all()
        client = group.client()
        try:
            return await _story(group, client, writes, say)
        finally:
            await client.close()
            group.stop_all()


async def _story(group: LocalGroup, client: GroupClient, writes: int, say) -> DemoResult:  # type: ignore[no-untyped-def]
    result = DemoResult()
    ports = ", ".join(f"{n} on :{p}" for n, (_h, p) in sorted(group.addresses.items()))
    say(f"started three replica processes: {ports}")
    await _write(client, result, "before", writes, say)
    result.first_leader = client.leader_hint or "?"
    say(f"leader is {result.first_leader}; killing it with SIGKILL")
    loop = asyncio.get_running_loop()
    crashed_at = loop.time()
    group.kill(result.first_leader)
    await _write(client, result, "after", 1, say)
    result.failover_ms = (loop.time() - crashed_at) * 1000
    result.second_leader = client.leader_hint or "?"
    say(f"{result.second_leader} leads now: first write acknowledged "
        f"{result.failover_ms:.0f} ms after the crash (election + old lease wait)")
    await _write(client, result, "after", writes - 1, say)
    say(f"restarting {result.first_leader} from its write-ahead log")
    group.start(result.first_leader)
    await _verify(client, result, say)
    return result


async def _write(client: GroupClient, result: DemoResult, phase: str, count: int, say) -> None:  # type: ignore[no-untyped-def]
    clock = asyncio.get_running_loop().time
    for _ in range(count):
        key, value = f"{phase}-{len(result.acknowledged)}", f"v{len(result.acknowledged)}"
        invoked = clock() * 1000
        answer = await client.call(Put(key, value), redirect_types=REDIRECTS, timeout_s=15.0)
        if isinstance(answer, Ok):
            result.acknowledged[key] = value
            result.history.append(HistoryOp("demo", "put", key, value, invoke_ms=invoked,
                                            complete_ms=clock() * 1000, outcome="ok"))
            say(f"  put {key} acknowledged by {client.leader_hint}")
        else:  # gave up waiting: the write may yet happen, at any later time
            result.history.append(HistoryOp("demo", "put", key, value, invoke_ms=invoked,
                                            outcome="unknown"))


async def _verify(client: GroupClient, result: DemoResult, say) -> None:  # type: ignore[no-untyped-def]
    final: dict[str, str | None] = {}
    for key in sorted({op.key for op in result.history}):
        answer = await client.call(Get(key, consistent=True), redirect_types=REDIRECTS,
                                   timeout_s=15.0)
        if isinstance(answer, Ok):
            final[key] = answer.value
        else:
            result.lost.append(f"key {key!r} could not be read back: {answer}")
    result.lost += no_lost_acknowledged_writes(result.history, final)
    kept = sum(final.get(key) == value for key, value in result.acknowledged.items())
    say(f"consistent reads find {kept} of {len(result.acknowledged)} acknowledged writes"
        + (" — none lost" if not result.lost else f" — LOST: {result.lost}"))
