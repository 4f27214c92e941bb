"""`python -m dynamo.indexes`: secondary indexes, local and global, told (paper §2, §3).

First a local index on one replica: each write of an order and the index writes it
makes (0, 1 or 2), then a strongly consistent Query by date. Then a global index in
the simulator's gsi-convergence scenario: splits, crashes and lost messages, and
whether every index equals its table's projection once the faults heal; then the
same seed with the planted bug `mark_ignores_sequence`, which the check catches.
"""

from __future__ import annotations

from dynamo.sim.scenarios import SCENARIOS, run
from dynamo.storage.btree import BTree
from dynamo.storage.catalog import TableDefinition
from dynamo.storage.expressions import compile_request
from dynamo.storage.indexes import KEYS_ONLY, Projection, SecondaryIndex
from dynamo.storage.keys import KeyAttribute, KeySchema
from dynamo.storage.table import Table

TABLE = KeySchema(KeyAttribute("customer", "S"), KeyAttribute("order", "S"))
BY_PLACED = SecondaryIndex("byPlaced", KeySchema(TABLE.partition, KeyAttribute("placed", "S")),
                           Projection(KEYS_ONLY), is_global=False)
WRITES = [
    ("o1 placed without a date", {"order": "o1", "total": "30"}),
    ("o1 dated 2024-05-02", {"order": "o1", "total": "30", "placed": "2024-05-02"}),
    ("o1's total changed (not projected)", {"order": "o1", "total": "31", "placed": "2024-05-02"}),
    ("o1 moved to 2024-05-04", {"order": "o1", "total": "31", "placed": "2024-05-04"}),
    ("o2 dated 2024-05-03", {"order": "o2", "total": "7", "placed": "2024-05-03"}),
]


def local_index() -> None:
    table = Table(BTree(None), TableDefinition("us-east-1", "Orders", TABLE, [], created_at=0.0,
                                               indexes=[BY_PLACED]))
    print("A local index, byPlaced (customer, placed), on one replica:")
    for story, attributes in WRITES:
        item = {"customer": {"S": "ann"}}
        item.update({k: {"N": v} if k == "total" else {"S": v} for k, v in attributes.items()})
        plan = table.put_item(item)
        writes = len(plan.index_changes)
        print(f"  {story:38} {writes} index write{'s' if writes != 1 else ''}")
    compiled = compile_request("Query", {"KeyConditionExpression": "customer = :c",
                                         "ExpressionAttributeValues": {":c": {"S": "ann"}}},
                               BY_PLACED.key_schema)
    page = table.query(compiled.key_range, index=BY_PLACED.name, consistent=True)
    found = ", ".join(f"{i['placed']['S']} {i['order']['S']}" for i in page.items)
    print(f"  strongly consistent Query of byPlaced for ann: {found}\n")


def global_index(seed: int, planted_bug: str | None = None) -> None:
    result = run(SCENARIOS["gsi-convergence"], seed, planted_bug=planted_bug)
    bug = f" with the planted bug {planted_bug}" if planted_bug else ""
    print(f"Global indexes in the simulator, gsi-convergence seed {seed}{bug}: "
          f"{len(result.history)} operations, {len(result.faults)} faults, "
          f"{result.splits} splits")
    problems = [v.describe() for v in result.violations]
    print("  " + ("\n  ".join(problems) if problems else
                  "once writes stopped and faults healed, every index equals its table's "
                  "projection, and no outbox row is left") + "\n")


if __name__ == "__main__":
    local_index()
    global_index(9)
    global_index(9, "mark_ignores_sequence")
