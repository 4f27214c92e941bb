"""A Locust `User` that speaks DynamoDB through boto3, and reports every call to Locust.

Locust measures HTTP users out of the box; a database client has to report its
own calls. `DynamoClient` wraps boto3's low-level DynamoDB client: each API
call is timed and fired as one `events.request` — name = the operation
(`GetItem`, `UpdateItem`, ...), response time in milliseconds, and the
exception when the call failed. A throttle (`ProvisionedThroughputExceededException`,
`ThrottlingException`, `RequestLimitExceeded`: the answer of admission control,
paper §4) is reported as a `Throttled` failure, a failure kind of its own: Locust's
failures table (and `--csv`'s `_failures.csv`) shows it as
"throttled (ProvisionedThroughputExceededException)", apart from any other error.

botocore would normally retry a throttled call with back-off and hide it;
here retries are off (one attempt in total), so what the server said is
exactly what Locust counts.

The endpoint is Locust's `--host` (`http://127.0.0.1:8000` for `dynamo serve`);
any DynamoDB endpoint works. Local endpoints get dummy credentials; any other
endpoint uses boto3's usual credential chain.

Locust patches the standard library with gevent, so this module (and every
locustfile) runs in Locust's own process, never inside the `dynamo` package.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from locust import User
from locust.env import Environment
from locust.exception import LocustError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}
DUMMY_CREDENTIALS = {"aws_access_key_id": "AKIDLOCUST", "aws_secret_access_key": "locust"}
# DynamoDB's answers when admission control refuses a request (§4): what `Throttled` stands for.
THROTTLING_ERRORS = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                               "RequestLimitExceeded"})
# One attempt in total: a throttle must reach Locust, not be retried away.
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=5, read_timeout=30, max_pool_connections=4)

# One boto3 session per process: it loads DynamoDB's service model once,
# so each simulated user's client is cheap to make.
_session = boto3.session.Session()

Response = dict[str, Any]


def make_boto_client(endpoint: str) -> Any:
    """boto3's low-level DynamoDB client for `endpoint`, without retries."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    local = urlsplit(endpoint).hostname in LOCAL_HOSTS
    credentials = DUMMY_CREDENTIALS if local else {}
    return _session.client("dynamodb", endpoint_url=endpoint, region_name=region,
                           config=NO_RETRIES, **credentials)


class Throttled(Exception):
    """A call admission control refused, reported to Locust as a failure kind of its own."""

    def __init__(self, error_code: str) -> None:
        super().__init__(error_code)
        self.error_code = error_code

    def __repr__(self) -> str:
        # Locust names a failure by the exception's repr: one name per throttling error.
        return f"throttled ({self.error_code})"


class DynamoClient:
    """boto3's DynamoDB client with each API call reported as a Locust request.

    Call it like the boto3 client (`client.get_item(TableName=..., Key=...)`).
    A successful call returns boto3's response; a failed one is reported with
    its exception and returns None, so a throttle never aborts the user's task.
    """

    def __init__(self, client: Any, request_event: Any, request_type: str = "DynamoDB") -> None:
        self._client = client
        self._request_event = request_event
        self.request_type = request_type

    def labelled(self, request_type: str) -> DynamoClient:
        """The same connection, reporting under another Type column (e.g. "hot" / "cold")."""
        return DynamoClient(self._client, self._request_event, request_type)

    def __getattr__(self, method: str) -> Callable[..., Response | None]:
        operation = self._client.meta.method_to_api_mapping.get(method)
        if operation is None:
            raise AttributeError(f"DynamoDB has no operation {method!r}")
        call = getattr(self._client, method)

        def measured(**params: Any) -> Response | None:
            return self._measure(operation, call, params)

        return measured

    # --8<-- [start:measure]
    def _measure(self, operation: str, call: Callable[..., Response],
                 params: dict[str, Any]) -> Response | None:
        started_at = time.time()
        began = time.perf_counter()
        response: Response | None = None
        failure: Exception | None = None
        context: dict[str, str] = {}
        try:
            response = call(**params)
        except (ClientError, BotoCoreError) as error:
            # ClientError: DynamoDB answered with an error (throttle, validation, ...);
            # BotoCoreError: no answer at all (connection refused, timeout).
            context["error_code"] = code = _error_code(error)
            failure = Throttled(code) if code in THROTTLING_ERRORS else error
        self._request_event.fire(
            request_type=self.request_type, name=operation,
            response_time=(time.perf_counter() - began) * 1000,
            response_length=_content_length(response), response=response,
            context=context, exception=failure, start_time=started_at)
        return response
    # --8<-- [end:measure]


def _content_length(response: Response | None) -> int:
    if response is None:
        return 0
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    return int(headers.get("content-length", 0))


def _error_code(error: Exception) -> str:
    """DynamoDB's error name, e.g. ProvisionedThroughputExceededException."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "ClientError"))
    return type(error).__name__


class DynamoUser(User):
    """A simulated DynamoDB application: `self.client` is a `DynamoClient` for `--host`."""

    abstract = True

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        if not self.host:
            raise LocustError("give the DynamoDB endpoint with --host, "
                              "e.g. --host http://127.0.0.1:8000 for `dynamo serve`")
        self.client = DynamoClient(make_boto_client(self.host), environment.events.request)


def ensure_table(client: Any, name: str, key_schema: list[dict[str, str]],
                 attribute_definitions: list[dict[str, str]], capacity: int | None = None,
                 timeout: float = 60.0) -> bool:
    """Create `name` unless it exists, and wait until it is ACTIVE.

    The table is on-demand (PAY_PER_REQUEST) unless `capacity` is given: then
    it is provisioned with that many read and write capacity units (§4).
    Returns True when this call created the table.
    """
    if capacity is None:
        billing: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
    else:
        billing = {"BillingMode": "PROVISIONED", "ProvisionedThroughput": {
            "ReadCapacityUnits": capacity, "WriteCapacityUnits": capacity}}
    created = True
    try:
        client.create_table(TableName=name, KeySchema=key_schema,
                            AttributeDefinitions=attribute_definitions, **billing)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
        created = False
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise LocustError(f"table {name} did not become ACTIVE within {timeout:.0f} s")
        time.sleep(0.1)
    return created


def provision(client: Any, name: str, capacity: int, timeout: float = 60.0) -> None:
    """Make `name` a provisioned table of `capacity` RCU and WCU (UpdateTable), unless it is.

    Loading a table on-demand and provisioning it afterwards keeps the load phase
    from being throttled by the very limit the test is about.
    """
    table = client.describe_table(TableName=name)["Table"]
    throughput = table.get("ProvisionedThroughput", {})
    mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if mode == "PROVISIONED" and throughput.get("ReadCapacityUnits") == capacity == \
            throughput.get("WriteCapacityUnits"):
        return  # DynamoDB refuses an UpdateTable that changes nothing
    client.update_table(TableName=name, BillingMode="PROVISIONED", ProvisionedThroughput={
        "ReadCapacityUnits": capacity, "WriteCapacityUnits": capacity})
    deadline = time.monotonic() + timeout
    while client.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise LocustError(f"table {name} did not become ACTIVE within {timeout:.0f} s")
        time.sleep(0.1)


def batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    """Put `items` with BatchWriteItem, 25 at a time, resending anything unprocessed."""
    for first in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": item}} for item in items[first:first + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                time.sleep(0.05)  # the table is busy: back off before resending
