"""A failing simulated run explains itself: replay command, minimised run, trace.

Not graded: it runs the reference replicas with a planted bug (a leader that
commits on its own accept, before a quorum has the entry) to check the report
a student would see.
"""

from __future__ import annotations

import pytest
from ch03_simulated import assert_safe


def test_a_failure_prints_replay_command_and_minimised_trace(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AssertionError, match="seed 0 of paxos-isolation"):
        assert_safe("paxos-isolation", range(0, 3), planted_bug="commit_before_quorum")
    report = capsys.readouterr().out
    assert ("replay: dynamo sim replay --seed 0 --scenario paxos-isolation "
            "--planted-bug commit_before_quorum --minimise") in report
    assert "still fail" in report
    assert "minimised trace (" in report
    trace = report.split("minimised trace (", 1)[1].splitlines()[1:]
    assert len(trace) >= 1 and all(line.strip() for line in trace)
