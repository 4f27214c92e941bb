"""How a request router carries one request to a replication group (§3, §6.1).

The paper's request routers find a partition's leader and send it the
request; when the replica they tried no longer leads, they follow its hint,
and while the group elects a leader or waits out an old lease they retry.
`GroupRouter` is that behaviour for the group of replica processes
(`processes.py`): how one attempt reaches one replica (`_ask`) and which
replicas are up are its to say. (The partitioned fleet's router is the
sans-IO `dynamo.partitioning.RequestRouter`, with the same rule.)

It keeps the rule that makes a retry safe (Maelstrom's and DynamoDB's
definite versus indefinite outcomes): a request that was never delivered
(`UNSENT`: the replica was down) may be tried elsewhere, but a write that was
delivered and never answered may still be chosen, so it is not retried: the
client gets a 500 "outcome unknown" and decides, as after a DynamoDB
InternalServerError. Reads may always be retried.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from dynamo.contract import NodeId
from dynamo.paxos.operations import NotLeader, Unavailable
from dynamo.paxos.statemachine import is_read
from dynamo.storage.errors import InternalServerError

REQUEST_DEADLINE_S = 10.0
RETRY_S = 0.01
UNSENT = object()  # the replica could not be reached: nothing was asked, so retrying is safe


class GroupRouter:
    """Follows NotLeader hints and waits out Unavailable, up to a deadline."""

    ids: tuple[NodeId, ...]
    leader_hint: NodeId
    _rng: random.Random

    async def request(self, operation: Any, *, leader_only: bool = True) -> Any:
        """Carry one operation to the group and return its result (router behaviour).

        Raises:
            InternalServerError: no replica could serve it before the deadline (its
                outcome is then unknown, as a DynamoDB 500 is).
        """
        deadline = time.monotonic() + REQUEST_DEADLINE_S
        target = self.leader_hint if leader_only else self._any_replica()
        while time.monotonic() < deadline:
            result = await self._ask(target, operation)
            if type(result) is NotLeader:
                target = result.leader_hint or self._next_after(target)
                continue
            if result is None and not is_read(operation):
                # Asked, never answered: the write may still be chosen. Retrying it here
                # could apply it twice; the client decides, as after a DynamoDB 500.
                raise InternalServerError("The request's outcome is unknown: its leader failed")
            if result is None or result is UNSENT or type(result) is Unavailable:
                await asyncio.sleep(RETRY_S)
                if type(result) is not Unavailable:
                    target = self._next_after(target)
                continue
            if leader_only:
                self.leader_hint = target
            return result
        raise InternalServerError("The replication group did not answer in time")

    async def _ask(self, target: NodeId, operation: Any) -> Any:
        """One attempt at one replica: its answer, None if none came, or UNSENT."""
        raise NotImplementedError

    def _is_up(self, node_id: NodeId) -> bool:
        raise NotImplementedError

    def _any_replica(self) -> NodeId:
        """An eventually consistent read goes to any replica that is up (§3)."""
        up = [n for n in self.ids if self._is_up(n)]
        return self._rng.choice(up) if up else self.ids[0]

    def _next_after(self, node_id: NodeId) -> NodeId:
        return self.ids[(self.ids.index(node_id) + 1) % len(self.ids)]
