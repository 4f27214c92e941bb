"""The real runtime: the same sans-IO nodes, on asyncio, over TCP.

`dynamo.sim` and `dynamo.net` are two drivers standing side by side
(DESIGN.md): the simulator for deterministic tests, this package for running
a replication group as real processes on real sockets with real fsyncs.

Modules: `codec` (versioned, checksummed frames), `host` (a node on asyncio),
`client` (a group client that follows redirects), `group` (replica processes
on loopback, each with its write-ahead log and B-tree), `truncation` (the log
dropped behind the B-tree), `demo` (the failover story).
"""
