"""Realistic, reproducible items for the workloads: user profiles and orders, made by Faker.

Items are in DynamoDB's wire format (`{"S": ...}`, `{"N": ...}`), ready for
boto3's low-level client. Every generator takes a seeded `Faker`, so the same
seed gives the same data on every run and every machine.

Profiles are padded to exactly `ITEM_BYTES` = 900 bytes by DynamoDB's size
formula (attribute name bytes + value bytes), the item size of the paper's
YCSB evaluation (§7). Their only write-hot attributes, `last_seen` and
`session`, have fixed widths, so an update keeps an item at 900 bytes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from faker import Faker

ITEM_BYTES = 900  # paper §7: YCSB items of 900 bytes
Item = dict[str, dict[str, Any]]


def seeded_faker(seed: int | str) -> Faker:
    """A Faker (en_US) whose output is fixed by `seed`."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return fake


def user_key(number: int) -> str:
    """The partition key of profile `number`: user#00000042."""
    return f"user#{number:08d}"


def customer_key(number: int) -> str:
    """The partition key of customer `number`: customer#0007."""
    return f"customer#{number:04d}"


def timestamp(moment: datetime | None = None) -> str:
    """Fixed-width UTC time (27 characters), so rewriting it never changes an item's size."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def item_bytes(item: Item) -> int:
    """DynamoDB's size of an item whose values are all strings (S)."""
    return sum(len(name.encode()) + len(value["S"].encode()) for name, value in item.items())


def profile(fake: Faker, number: int, size: int = ITEM_BYTES) -> Item:
    """User profile `number`: contact details and a `bio` that pads it to `size` bytes."""
    first, last = fake.first_name(), fake.last_name()
    item: Item = {
        "pk": {"S": user_key(number)},
        "name": {"S": f"{first} {last}"},
        "email": {"S": f"{first}.{last}{number}@example.com".lower()},
        "phone": {"S": fake.phone_number()},
        "street": {"S": fake.street_address()},
        "city": {"S": fake.city()},
        "state": {"S": fake.state_abbr()},
        "postcode": {"S": fake.postcode()},
        "job": {"S": fake.job()},
        "born": {"S": fake.date_of_birth(minimum_age=16, maximum_age=90).isoformat()},
        "joined": {"S": timestamp(fake.date_time_this_decade())},
        "last_seen": {"S": timestamp(fake.date_time_this_year())},
        "session": {"S": fake.sha1()},
        "bio": {"S": ""},
    }
    item["bio"]["S"] = _padding(fake, size - item_bytes(item))
    return item


def _padding(fake: Faker, length: int) -> str:
    """Faker sentences cut to exactly `length` ASCII characters."""
    text = ""
    while len(text) < length:
        text += fake.sentence(nb_words=12) + " "
    return text[:max(length, 0)]


def profile_touch(fake: Faker) -> dict[str, Any]:
    """The parameters of a YCSB-style update: a user's new `last_seen` and `session`."""
    return {
        "UpdateExpression": "SET last_seen = :now, #session = :session",
        # SESSION is one of DynamoDB's reserved words, so it needs a name placeholder.
        "ExpressionAttributeNames": {"#session": "session"},
        "ExpressionAttributeValues": {":now": {"S": timestamp()}, ":session": {"S": fake.sha1()}},
    }


ORDER_STATUSES = ("PLACED", "PAID", "PACKED", "SHIPPED", "DELIVERED")


def order(fake: Faker, rng: random.Random, customer: int) -> Item:
    """A new order of `customer`, sorted under the customer by time (sort key `order`)."""
    quantity = rng.randint(1, 5)
    price = rng.randint(199, 49_999)  # cents
    return {
        "customer": {"S": customer_key(customer)},
        "order": {"S": f"{timestamp()}#{fake.uuid4()[:8]}"},
        "product": {"S": fake.catch_phrase()},
        "quantity": {"N": str(quantity)},
        "unit_price": {"N": f"{price // 100}.{price % 100:02d}"},
        "ship_to": {"S": f"{fake.postcode()} {fake.state_abbr()}"},
        "status": {"S": rng.choice(ORDER_STATUSES)},
    }
