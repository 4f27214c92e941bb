"""Dynamo Lab: a layered, runnable, teachable re-implementation of Amazon DynamoDB.

The layers stack from `dynamo.contract` (what a sans-IO node is) through
`dynamo.storage` (layer 1) upwards; see docs/layers.md for the map.
"""

__version__ = "0.1.0"
