"""The GAC server: global admission control as a node of its own (§4.2).

Request routers ask it for tokens; it answers from the table buckets of
`GlobalAdmission` (`global_admission.py`). "GAC ... is ephemeral": it persists
nothing, so a GAC server can be stopped and restarted at any time; the control
plane tells it each table's throughput again (`SetTableLimits`) and the
routers' next requests tell it their demand.
"""

from __future__ import annotations

from typing import Any

from dynamo.admission.global_admission import GlobalAdmission, TokenRequest
from dynamo.admission.messages import ForgetTable, SetTableLimits
from dynamo.contract import ClientRequest, Effect, Event, Receive, Reply, Send
from dynamo.paxos.operations import Ok


class GacServer:
    """A GAC server as a sans-IO node: it answers routers' token requests."""

    def __init__(self, id: str, admission: GlobalAdmission | None = None) -> None:
        self._id = id
        self.admission = admission or GlobalAdmission()
        self.now = 0.0

    @property
    def id(self) -> str:
        return self._id

    def step(self, now_ms: float, event: Event) -> list[Effect]:
        self.now = now_ms
        if type(event) is Receive and type(event.message) is TokenRequest:
            return [Send(event.src, self.admission.vend(event.src, event.message, now_ms))]
        if type(event) is ClientRequest and type(event.operation) is SetTableLimits:
            op = event.operation
            self.admission.set_table(op.table, op.limits, now_ms)
            return [Reply(event.client, event.request_id, Ok())]
        if type(event) is ClientRequest and type(event.operation) is ForgetTable:
            self.admission.forget(event.operation.table)
            return [Reply(event.client, event.request_id, Ok())]
        return []

    def snapshot(self) -> dict[str, Any]:
        return {"id": self._id, "tables": self.admission.state(self.now)}
