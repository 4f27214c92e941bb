"""`dynamo lab admission`: one skewed workload through the four eras of §4, simulated.

The expected shape is not written into the experiment; these tests read it
from a real (quick) run: static allocation throttles most, bursting absorbs
the short burst but not the long hot phase, adaptive capacity removes most of
the skew throttling but late, and global admission control removes it from
the start. The run is deterministic: one seed, one JSON.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from dynamo.admission.eras import ERAS
from dynamo.admission.experiment import QUICK, main, run_all

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_quick(out: Path, *extra: str) -> tuple[dict[str, Any], str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        assert main(["--quick", "--json", "--out", str(out), *extra]) == 0
    return json.loads(stdout.getvalue()), stderr.getvalue()


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str, Path]:
    out = tmp_path_factory.mktemp("admission")
    figs, progress = run_quick(out)
    return figs, progress, out


@pytest.fixture(scope="module")
def figs(quick: tuple[dict[str, Any], str, Path]) -> dict[str, Any]:
    return quick[0]


def test_the_json_has_every_era_with_its_figures(figs: dict[str, Any]) -> None:
    assert list(figs) == list(ERAS) == ["static", "bursting", "adaptive", "gac"]
    for era in ERAS:
        assert {"throttled", "hot_key_served", "time_to_adapt_s", "throttled_from_s",
                "phases"} <= set(figs[era])


def test_every_throttle_came_while_the_table_was_under_its_provisioned_total(
        figs: dict[str, Any]) -> None:
    """§4: skew throttles a table that is within its provisioned throughput."""
    for era in ERAS:
        assert figs[era]["throttled"] == figs[era]["throttled_total"], era
    assert figs["static"]["throttled"] > 0


def test_static_allocation_throttles_most(figs: dict[str, Any]) -> None:
    """§4: an even share per partition throttles a hot partition at its share."""
    static = figs["static"]["throttled"]
    assert all(static > figs[era]["throttled"] for era in ("bursting", "adaptive", "gac"))
    assert figs["static"]["hot_key_served"] < figs["static"]["hot_key_offered"] / 2
    assert figs["static"]["time_to_adapt_s"] is None


def test_bursting_absorbs_a_short_burst_but_not_a_long_hot_phase(figs: dict[str, Any]) -> None:
    """§4.1.1: bursting tolerates "temporal spikes", with 300 s of unused capacity."""
    static, bursting = figs["static"]["phases"], figs["bursting"]["phases"]
    assert static["burst"] > 0
    assert bursting["burst"] < static["burst"]
    assert 0 < bursting["hot"] < static["hot"]
    assert figs["bursting"]["time_to_adapt_s"] is None


def test_adaptive_capacity_removes_most_skew_throttling_but_late(figs: dict[str, Any]) -> None:
    """§4.1.2: adaptive capacity boosts throttled partitions, reactively."""
    adaptive = figs["adaptive"]
    assert adaptive["phases"]["hot"] < figs["bursting"]["phases"]["hot"]
    assert adaptive["removed_vs_static_pct"] > 95.0
    assert adaptive["hot_key_served"] > 0.95 * adaptive["hot_key_offered"]
    assert adaptive["time_to_adapt_s"] is not None
    assert adaptive["time_to_adapt_s"] > figs["gac"]["time_to_adapt_s"]


def test_global_admission_control_throttles_least_from_the_start(figs: dict[str, Any]) -> None:
    """§4.2: with GAC a partition may burst up to the maximum partition capacity."""
    gac = figs["gac"]
    assert all(gac["throttled"] <= figs[era]["throttled"] for era in ERAS)
    assert gac["throttled"] <= 0.001 * gac["offered"]
    assert gac["hot_key_served"] >= 0.99 * gac["hot_key_offered"]
    assert gac["time_to_adapt_s"] is not None and gac["time_to_adapt_s"] <= 2


def test_the_plot_is_a_png_of_throttles_over_time(quick: tuple[dict[str, Any], str, Path]) -> None:
    png = (quick[2] / "admission_eras.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk comes first
    assert width >= 600 and height >= 400
    assert len(png) > 20_000


def test_progress_is_shown_on_stderr_for_every_era(quick: tuple[dict[str, Any], str, Path]
                                                   ) -> None:
    progress = quick[1]
    for era in ERAS:
        assert f"{era}" in progress and f"{QUICK.seconds}/{QUICK.seconds}" in progress


def test_one_seed_gives_the_same_json(figs: dict[str, Any]) -> None:
    """The default seed is 7: the same run again, figure for figure."""
    again = run_all(QUICK, 7)["figures"]
    assert json.loads(json.dumps(again)) == figs


def test_another_seed_gives_another_workload() -> None:
    one = run_all(QUICK, 1, eras=["static"])["figures"]["static"]
    two = run_all(QUICK, 2, eras=["static"])["figures"]["static"]
    assert one != two


def test_python_m_dynamo_admission_prints_the_eras_side_by_side() -> None:
    done = subprocess.run([sys.executable, "-m", "dynamo.admission"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert any(line.split() == list(ERAS) for line in done.stdout.splitlines()), done.stdout
    assert "hot key served" in done.stdout and "time to adapt" in done.stdout
