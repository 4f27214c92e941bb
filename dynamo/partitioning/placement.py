"""Placement: which storage nodes hold a new partition's replicas (§3, §4.3).

A partition's three replicas sit in three different availability zones, so
that losing a zone loses one replica of each partition and no write quorum
(§3). Among the nodes of each zone the least loaded is chosen, so replicas
spread evenly over the fleet (§4.3 balances nodes by what they host).
"""

from __future__ import annotations

from collections.abc import Mapping

from dynamo.contract import NodeId

REPLICAS = 3


def place_replicas(zones: Mapping[NodeId, str], load: Mapping[NodeId, int],
                   up: set[NodeId] | None = None, count: int = REPLICAS) -> tuple[NodeId, ...]:
    """`count` nodes in distinct zones where possible, least loaded first (ties by id).

    Raises:
        ValueError: fewer than `count` nodes are up.
    """
    candidates = sorted((n for n in zones if up is None or n in up),
                        key=lambda n: (load.get(n, 0), n))
    if len(candidates) < count:
        raise ValueError(f"{count} replicas need {count} storage nodes up, "
                         f"not {len(candidates)}")
    chosen: list[NodeId] = []
    for node in candidates:  # one per zone first
        if zones[node] not in {zones[c] for c in chosen}:
            chosen.append(node)
        if len(chosen) == count:
            return tuple(sorted(chosen))
    for node in candidates:  # fewer zones than replicas: fill with the least loaded
        if node not in chosen:
            chosen.append(node)
        if len(chosen) == count:
            break
    return tuple(sorted(chosen))
