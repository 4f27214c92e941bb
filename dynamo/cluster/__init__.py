"""The cluster layer: how storage nodes are assembled into one DynamoDB.

Today it holds `SingleNode`, the one-process database behind `dynamo serve`;
routers, the metadata service and admission control join it in later chapters.
"""

from dynamo.cluster.node import SingleNode

__all__ = ["SingleNode"]
