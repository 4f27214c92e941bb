"""Global secondary indexes: tables of their own, kept up to date asynchronously (paper §2).

DynamoDB's paper lists secondary indexes among the features built on its
partitions and logs; its Developer Guide says a global secondary index has a
partition key of its own, is stored apart from its table, and is *eventually
consistent*: a write to the table is acknowledged before its index has it.
This package builds that, out of parts the earlier layers already have:

* **An index is a table.** Its entries (`dynamo.storage.indexes.entry`) live
  in partitions of their own, registered with the metadata service and placed
  on storage nodes like a table's, under a storage id no table can have
  (`index_tbl`: the table's, "#", the index's name). They split as they grow,
  and a Query or Scan of the index is routed by the index's partition key.
* **The outbox carries the change** (`dynamo.storage.outbox`). A write to an
  item logs, in the same record, the item's outbox row: a sequence number that
  only grows, and what each index still has to be told. The row hashes with
  the item, so it survives crashes, moves with splits and travels in
  snapshots with it. Nothing is lost between the write and the index.
* **The propagator ships it** (`propagator.py`): a node of its own that reads
  the outbox rows from each base partition's leader, sends each entry update
  to the index partition holding its key, and marks the row propagated, in
  the base partition's log, once all are acknowledged.
* **Sequence numbers make it safe to retry.** An index partition applies an
  update only if its sequence is newer than the one it holds for that entry
  key, and remembers the sequence of deleted entries (tombstones). So updates
  may be shipped twice, late or out of order, and the propagator may crash
  anywhere: once writes stop and faults heal, every index equals the
  projection of its base table. `fleet.py` is the simulator's proof of that.
* **Its throughput is its own.** Admission control keeps an index's
  provisioned throughput as a table's (`dynamo.admission.router`): its reads
  spend it, and a write to the table is admitted against each of its
  indexes' write tokens and charged what it cost each once answered; the
  propagator's writes are the system's own, never throttled, so an update
  the table has logged is never refused on its way here.

Why a node of its own, not a part of the base partition's leader: it needs
no state of its own (the rows are the state), so a crash of it, a leader
change or a split of the base partition costs a delay, never an update; and
it talks to the index partitions through an ordinary request router, so no
storage node has to know the index tables' partition maps. The price is one
strongly consistent read per base partition per poll, and lag of up to one
poll interval: `lab/gsi_lag.py` measures it.
"""
