"""Layer 5: partitioning — the hashed key space, partition maps, routers and splits (§3, §4, §6.6).

A table is split into partitions, contiguous ranges of its hashed key space
(`keyspace.py`, `partition_map.py`); each partition is a replication group
whose replicas live on storage nodes, each node hosting replicas of many
partitions (`storage_node.py`). Storage nodes publish what they host to the
metadata service (`metadata.py`), request routers cache its maps and carry
each request to its partition (`router.py`), and a partition splits through
its own replicated log (`partition_store.py`) at a point chosen from its
items or its traffic (`split_point.py`). `python -m dynamo.partitioning`
shows a table growing, splitting, and the router following.
"""
