"""A hot-key workload: a few customers take most of the traffic.

Keys are rarely uniform in practice. Here an online shop's `orders` table is
keyed by customer (partition key) and order time (sort key); a few "hot"
customers — a marketplace seller, a bot — receive `--hot-share` of all
requests (90% by default), spread over only `--hot-keys` partition keys,
while everyone else shares the rest.

This is the scenario of the paper's §4: a partition's share of the table's
throughput is enforced by token buckets, so traffic concentrated on one
partition key is throttled (`ProvisionedThroughputExceededException`) while
the table as a whole is far below its limit. Bursting (§4.1.1) and adaptive
capacity (§4.1.2) softened that; global admission control (§4.2) lets a hot
partition use up to the maximum partition capacity. Requests are reported to
Locust with Type "hot" or "cold", so the statistics show whether the hot
keys are throttled and the cold ones left alone (isolation).

Each user places orders (PutItem) and reads a customer's ten latest orders
(Query, newest first), half and half: as fast as it is answered (closed
loop, the default), or paced at `--user-rate` requests a second, so that the
offered load stays the same however many requests are throttled.

    locust -f workloads/hotkey.py --headless -u 20 -r 20 -t 20s \\
        --host http://127.0.0.1:8000 --csv lab/out/hotkey --csv-full-history
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from dynamo_user import DynamoClient, DynamoUser, ensure_table, make_boto_client
from faker_data import customer_key, order, seeded_faker
from locust import constant_throughput, events, task
from locust.env import Environment
from locust.runners import WorkerRunner


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("hot-key workload")
    group.add_argument("--table", default="orders", help="table of orders")
    group.add_argument("--customers", type=int, default=1000, help="distinct customers")
    group.add_argument("--hot-keys", type=int, default=3, help="how many customers are hot")
    group.add_argument("--hot-share", type=float, default=0.9,
                       help="fraction of requests that go to the hot customers")
    group.add_argument("--seed", type=int, default=7, help="seed of the Faker data and key choice")
    group.add_argument("--capacity", type=int, default=None, metavar="UNITS",
                       help="provision the table with UNITS RCU and WCU instead of on-demand, "
                            "so its limits are within reach of a laptop-sized load")
    group.add_argument("--user-rate", type=float, default=0.0,
                       help="requests per second of each user (default 0: closed loop)")


@events.test_start.add_listener
def _create_table(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    options = environment.parsed_options
    ensure_table(make_boto_client(environment.host), options.table,
                 [{"AttributeName": "customer", "KeyType": "HASH"},
                  {"AttributeName": "order", "KeyType": "RANGE"}],
                 [{"AttributeName": "customer", "AttributeType": "S"},
                  {"AttributeName": "order", "AttributeType": "S"}],
                 capacity=options.capacity)


class ShopperUser(DynamoUser):
    """Places orders and lists recent orders, mostly for the hot customers."""

    _numbers = itertools.count()

    def on_start(self) -> None:
        options = self.environment.parsed_options
        number = next(self._numbers)
        self.table: str = options.table
        self.customers: int = options.customers
        self.hot_keys: int = min(options.hot_keys, options.customers)
        self.hot_share: float = options.hot_share
        self.rng = random.Random(f"{options.seed}/{number}")
        self.fake = seeded_faker(f"{options.seed}/{number}")
        self.hot, self.cold = self.client.labelled("hot"), self.client.labelled("cold")
        self.pace = constant_throughput(options.user_rate) if options.user_rate > 0 else None

    def wait_time(self) -> float:  # type: ignore[override]
        return self.pace(self) if self.pace is not None else 0.0

    def pick(self) -> tuple[int, DynamoClient]:
        """A customer, and the client that reports the request as hot or cold."""
        everyone_hot = self.hot_keys == self.customers
        if self.hot_keys and (everyone_hot or self.rng.random() < self.hot_share):
            return self.rng.randrange(self.hot_keys), self.hot
        return self.rng.randrange(self.hot_keys, self.customers), self.cold

    @task
    def place_order(self) -> None:
        customer, client = self.pick()
        client.put_item(TableName=self.table, Item=order(self.fake, self.rng, customer))

    @task
    def recent_orders(self) -> None:
        customer, client = self.pick()
        client.query(TableName=self.table, KeyConditionExpression="#c = :c",
                     ExpressionAttributeNames={"#c": "customer"},
                     ExpressionAttributeValues={":c": {"S": customer_key(customer)}},
                     ScanIndexForward=False, Limit=10)
