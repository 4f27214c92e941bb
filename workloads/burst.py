"""Bursty traffic: quiet periods, then short bursts, on the uniform profile workload.

Real applications are not steady: a cron job, a sale, a retry storm. The
paper's §4.1.1 (bursting) lets a partition absorb such spikes with capacity
it left unused: unused tokens are kept for up to 300 seconds and spent when
traffic exceeds the partition's allocation. This locustfile makes that
shape: `--quiet-users` users for most of each `--burst-period`, then
`--burst-users` users for its last `--burst-seconds`, `--cycles` times.

Users are paced (`--user-rate` requests per second each) rather than closed
loop, so offered load is proportional to the user count: a burst of 10x the
users is 10x the requests per second, whatever the server's latency. The
requests are workload A's (uniform.py): GetItem / UpdateItem of 900-byte
user profiles, loaded at the start.

The profiles are loaded on-demand; `--capacity UNITS` then provisions the
table with UNITS RCU and WCU, so a burst can exceed what the table is
provisioned for while the quiet periods stay well within it.

    locust -f workloads/burst.py --headless --host http://127.0.0.1:8000 \\
        --csv lab/out/burst --csv-full-history
    locust -f workloads/burst.py --headless --host http://127.0.0.1:8000 --capacity 40

The shape decides the user count and the run length; `-u`, `-r` and `-t`
are ignored.
"""

from __future__ import annotations

from typing import Any

import uniform  # the profile table, its load phase and options (--table, --keys, --seed)
from dynamo_user import make_boto_client, provision
from locust import LoadTestShape, constant_throughput, events
from locust.env import Environment
from locust.runners import WorkerRunner


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    group = parser.add_argument_group("burst shape")
    group.add_argument("--quiet-users", type=int, default=2, help="users between bursts")
    group.add_argument("--burst-users", type=int, default=20, help="users during a burst")
    group.add_argument("--burst-period", type=float, default=20.0,
                       help="seconds from the start of one quiet period to the next")
    group.add_argument("--burst-seconds", type=float, default=5.0,
                       help="length of the burst at the end of each period")
    group.add_argument("--cycles", type=int, default=3, help="how many quiet+burst periods")
    group.add_argument("--user-rate", type=float, default=10.0,
                       help="requests per second of each user")
    group.add_argument("--capacity", type=int, default=None, metavar="UNITS",
                       help="provision the table with UNITS RCU and WCU once loaded "
                            "(default: it stays on-demand)")


# Registered after uniform's load phase, so it runs once the profiles are in.
@events.test_start.add_listener
def _provision(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    if options.capacity is None or isinstance(environment.runner, WorkerRunner):
        return
    provision(make_boto_client(environment.host), options.table, options.capacity)


class PacedProfileUser(uniform.ProfileUser):
    """Workload A's user, sending at most `--user-rate` requests per second."""

    def on_start(self) -> None:
        super().on_start()
        self.pace = constant_throughput(self.environment.parsed_options.user_rate)

    def wait_time(self) -> float:  # type: ignore[override]
        return self.pace(self)


# --8<-- [start:shape]
class BurstShape(LoadTestShape):
    """Quiet, then a burst, repeated: Locust asks `tick()` every second for (users, spawn rate)."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options
        elapsed = self.get_run_time()
        if elapsed >= options.cycles * options.burst_period:
            return None  # the end of the test
        users = burst_users(elapsed, options.burst_period, options.burst_seconds,
                            options.quiet_users, options.burst_users)
        # Spawn (or stop) the whole difference within a tenth of a second: bursts have edges.
        return users, max(options.burst_users, options.quiet_users) * 10.0


def burst_users(elapsed: float, period: float, burst: float, quiet_users: int,
                burst_users: int) -> int:
    """How many users run `elapsed` seconds into the test: bursts end each period."""
    in_burst = elapsed % period >= period - burst
    return burst_users if in_burst else quiet_users
# --8<-- [end:shape]
