"""Layer 6: admission control — token buckets through DynamoDB's four eras (§4).

Every request is admitted against token buckets before it is served, and
charged what it cost, in capacity units, after. Which buckets, and who keeps
them, is the story of §4, and each era is a switch (`eras.py`):

* static allocation: a partition's share of its table, per storage node
  (`allocation.py`, `storage_admission.py`);
* bursting: 300 seconds of unused capacity, spent while the node has room
  (`bursting.py`);
* adaptive capacity: a proportional controller boosting throttled partitions
  (`adaptive_capacity.py`, `capacity_controller.py`);
* global admission control: table-level tokens vended to request routers
  (`global_admission.py`, `gac_server.py`, `router.py`);

and on-demand tables, which take double their previous peak (`on_demand.py`).
The storage node and router of layer 5 get their buckets by subclassing
(`storage_node.py`, `router.py`): layer 5 calls an `admit` hook that admits
everything, and this layer decides.
"""
