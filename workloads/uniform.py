"""YCSB workload A against DynamoDB: 50% reads, 50% updates, keys chosen uniformly.

The paper's evaluation (§7, Figs. 5 and 6) drives production DynamoDB with
YCSB workloads A and B over uniformly distributed keys and 900-byte items, and
asks whether latency stays flat as throughput grows. This locustfile is
workload A: each simulated user reads a random user profile (GetItem) or
touches one (UpdateItem of two fixed-width fields, so items stay 900 bytes).

At the start of the test the table `profiles` is created (on-demand) if
missing and loaded with `--keys` Faker profiles (YCSB's load phase).

    locust -f workloads/uniform.py --host http://127.0.0.1:8000
    locust -f workloads/uniform.py --headless -u 16 -r 16 -t 30s \\
        --host http://127.0.0.1:8000 --csv lab/out/uniform
"""

from __future__ import annotations

import itertools
import logging
import random
from typing import Any

from dynamo_user import DynamoUser, batch_write, ensure_table, make_boto_client
from faker_data import profile, profile_touch, seeded_faker, user_key
from locust import constant, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

log = logging.getLogger(__name__)


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("uniform workload (YCSB A)")
    group.add_argument("--table", default="profiles", help="table of user profiles")
    group.add_argument("--keys", type=int, default=1000, help="profiles loaded and used")
    group.add_argument("--seed", type=int, default=7, help="seed of the Faker data and key choice")


@events.test_start.add_listener
def _load_phase(environment: Environment, **_: Any) -> None:
    """Create the table and load every profile once, before any user starts."""
    if isinstance(environment.runner, WorkerRunner):
        return  # distributed runs: the master loads, workers only send load
    options = environment.parsed_options
    client = make_boto_client(environment.host)
    ensure_table(client, options.table, [{"AttributeName": "pk", "KeyType": "HASH"}],
                 [{"AttributeName": "pk", "AttributeType": "S"}])
    fake = seeded_faker(options.seed)
    batch_write(client, options.table, [profile(fake, n) for n in range(options.keys)])
    log.info("loaded %d profiles into %s", options.keys, options.table)


class ProfileUser(DynamoUser):
    """One application thread of workload A: read or update a uniformly chosen profile."""

    wait_time = constant(0)  # closed loop, as YCSB: the next request follows the answer
    _numbers = itertools.count()

    def on_start(self) -> None:
        options = self.environment.parsed_options
        number = next(self._numbers)
        self.table: str = options.table
        self.keys: int = options.keys
        # Each user draws from its own seeded stream: reproducible whatever the interleaving.
        self.rng = random.Random(f"{options.seed}/{number}")
        self.fake = seeded_faker(f"{options.seed}/{number}")

    def key(self) -> dict[str, Any]:
        return {"pk": {"S": user_key(self.rng.randrange(self.keys))}}

    @task
    def read(self) -> None:
        self.client.get_item(TableName=self.table, Key=self.key())

    @task
    def update(self) -> None:
        self.client.update_item(TableName=self.table, Key=self.key(), **profile_touch(self.fake))
