"""The cluster layer: how storage nodes are assembled into one DynamoDB.

`dynamo serve` runs a `PartitionedNode` by default (`partitioned.py`): a
fleet of storage nodes hosting the replicas of every table's partitions, a
request router, the metadata service and autoadmin's balancer, embedded in
the server process (`fleet.py`), behind the control plane (`control.py`).
`--processes` runs a `ProcessNode` (`processes.py`): the same fleet, each
storage node a process of its own over TCP. `--nodes 1` runs a `SingleNode`,
one unreplicated replica, for comparison. Each is a
`Database` to the API: the control plane's table operations, and the data
plane's typed requests (`dynamo.paxos.operations`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from dynamo.paxos.operations import DeleteItem, PutItem, UpdateItem
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.keys import KeySchema
from dynamo.storage.table import WritePlan
from dynamo.transactions.operations import TransactGet, TransactWrite


class TableHandle(Protocol):
    """What the API needs of a table it found: its definition and key schema."""

    definition: TableDefinition
    schema: KeySchema


class Database(Protocol):
    """What the API asks of the database behind it.

    `item_collection_limit` is the largest an item collection of a table with
    local secondary indexes may grow (DynamoDB's 10 GB; `dynamo serve
    --item-collection-limit` lowers it for tests).
    """

    item_collection_limit: int

    def clock(self) -> float: ...

    async def create_table(self, definition: TableDefinition) -> TableDefinition: ...

    async def describe_table(self, region: str, name: str) -> TableDefinition: ...

    async def list_tables(self, region: str) -> list[str]: ...

    async def update_table(self, definition: TableDefinition) -> None: ...

    async def delete_table(self, region: str, name: str) -> TableDefinition: ...

    def stats(self, definition: TableDefinition) -> tuple[int, int]: ...

    def table(self, region: str, name: str) -> TableHandle: ...

    async def write(self, request: PutItem | UpdateItem | DeleteItem) -> WritePlan: ...

    async def write_batch(self, requests: Sequence[PutItem | DeleteItem]) -> list[WritePlan]: ...

    async def read(self, request: Any) -> Any: ...

    async def start(self) -> None: ...

    def admin_state(self) -> dict[str, Any]: ...

    def admin_fault(self, fault: dict[str, Any]) -> dict[str, Any]: ...

    def close(self) -> None: ...


class Transactional(Protocol):
    """What the API asks of a database that runs transactions (the partitioned fleet's
    transaction coordinator, `dynamo.transactions`)."""

    async def transact(self, request: TransactWrite | TransactGet) -> Any: ...
