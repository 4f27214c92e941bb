"""`python -m dynamo.admission`: a hot key on a provisioned table, under each era (§4).

Runs the simulated experiment (`experiment.py`) on a hot-key-only workload:
a table of 400 WCU over 16 partitions, a Zipf background of 160 writes a
second, and one key written 120 times a second for two minutes, so its
partition (25 WCU under static allocation) is asked for five times its share
while the table stays well under its total. The four eras run side by side
on virtual time, in a few seconds, and the table printed shows what each
made of it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from dynamo.admission.allocation import PARTITION_MAX
from dynamo.admission.experiment import HOT_KEY_ONLY, describe, run_all

SEED = 7
ROWS = (
    ("throttled while under the provisioned total", lambda f: f"{f['throttled']:,}"),
    ("hot key served (WCU/s)",
     lambda f: f"{f['hot_key_served']:.1f}/{f['hot_key_offered']:.0f}"),
    ("throttled from (s into the hot phase)",
     lambda f: "never" if f["throttled_from_s"] is None else f"{f['throttled_from_s']} s"),
    ("time to adapt (under 1 % from)",
     lambda f: "never" if f["time_to_adapt_s"] is None else f"{f['time_to_adapt_s']} s"),
    ("skew throttling removed vs static",
     lambda f: "-" if f.get("removed_vs_static_pct") is None
     else f"{f['removed_vs_static_pct']:.2f} %"),
)
SHARE = HOT_KEY_ONLY.provisioned.write / 2 ** HOT_KEY_ONLY.depth
STORY = {
    "static": f"an even share per partition (§4): the hot one gets {SHARE:.0f} WCU/s",
    "bursting": "300 s of unused capacity (§4.1.1): absorbs the hot key until it runs out",
    "adaptive": "a proportional controller (§4.1.2): boosts the partition once throttled",
    "gac": "table-level tokens at the routers (§4.2): a partition may take up to "
           f"{PARTITION_MAX.write:,.0f} WCU/s",
}


def table(figs: dict[str, dict[str, Any]]) -> list[str]:
    """The figures, one column per era."""
    width = max(len(label) for label, _ in ROWS)
    lines = [f"{'':<{width}}" + "".join(f"{era:>12}" for era in figs)]
    for label, cell in ROWS:
        lines.append(f"{label:<{width}}" + "".join(f"{cell(f):>12}" for f in figs.values()))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    del argv  # the demo takes no options; `dynamo lab admission --help` has them
    figs = run_all(HOT_KEY_ONLY, SEED)["figures"]
    print("A hot key on a provisioned table, under each era of admission control (§4)")
    print("\n".join(describe(HOT_KEY_ONLY, SEED)))
    print()
    print("\n".join(table(figs)))
    print()
    for era, story in STORY.items():
        print(f"{era:<9} {story}")
    print("\nThe full experiment, with a burst phase and a plot: dynamo lab admission")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
